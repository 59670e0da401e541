package httpapi

import (
	"time"

	"github.com/riotkv/riot/raftkv"
)

// kvGet and kvSet are the string read and write the REST API uses. Time is
// decided here, before proposing, as for RESP commands.
func kvGet(v *raftkv.View, key []byte) ([]byte, bool, error) {
	return v.Get(key, time.Now().UnixMilli())
}

func kvSet(key, value []byte) *raftkv.Command {
	return &raftkv.Command{Op: raftkv.OpSet, Args: [][]byte{key, value}, Now: time.Now().UnixMilli()}
}
