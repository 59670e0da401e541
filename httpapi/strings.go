package httpapi

import (
	"time"

	"github.com/riotkv/riot/kv"
)

// kvGet and kvSet are the string read and write the REST API uses. Time is
// decided here, before proposing, as for RESP commands.
func kvGet(v *kv.View, key []byte) ([]byte, bool, error) {
	return v.Get(key, time.Now().UnixMilli())
}

func kvSet(key, value []byte) *kv.Command {
	return &kv.Command{Op: kv.OpSet, Args: [][]byte{key, value}, Now: time.Now().UnixMilli()}
}
