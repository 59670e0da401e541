package resp

import (
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// SORT and SORT_RO (kv/sort.go). SORT reads keys its arguments do not name
// (BY and GET patterns), so it is one log entry, computed when applied,
// whether or not it stores; SORT_RO reads a snapshot, and inside MULTI runs
// as an entry too (a transaction's reads are lookups of named keys).

func sortCommands() []*command {
	return []*command{
		{name: "sort", arity: -2, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sorts the elements of a list, set or sorted set, optionally storing the result (one log entry).", build: buildSort, keys: sortKeys},
		{name: "sort_ro", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sorts the elements of a list, set or sorted set.", run: cmdSortRO, txnBuild: buildSortRO, keys: sortROKeys},
	}
}

// sortKeys are SORT's keys: the key sorted and STORE's.
func sortKeys(args [][]byte) [][]byte {
	keys := [][]byte{args[1]}
	if spec, err := kv.ParseSort(args[2:], false); err == nil && spec.Store != nil {
		keys = append(keys, spec.Store)
	}
	return keys
}

// sortROKeys is SORT_RO's key: the key sorted. Like SORT it reads keys its
// BY and GET patterns make, so its keys are movable (COMMAND INFO), as in
// Redis.
func sortROKeys(args [][]byte) [][]byte { return args[1:2] }

// Reference: https://redis.io/docs/latest/commands/sort/ (options are
// checked before the key's type)
func buildSort(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	spec, err := kv.ParseSort(args[2:], false)
	if err != nil {
		return nil, nil, err
	}
	reply := replySorted
	if spec.Store != nil {
		reply = replyInt
	}
	return &kv.Command{Op: kv.OpSort, Args: args[1:]}, reply, nil
}

// buildSortRO is SORT_RO inside MULTI: an OpSort that cannot store.
func buildSortRO(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	if _, err := kv.ParseSort(args[2:], true); err != nil {
		return nil, nil, err
	}
	return &kv.Command{Op: kv.OpSort, Args: args[1:]}, replySorted, nil
}

// replySorted replies with SORT's result: bulks, nulls for GETs of missing
// keys.
func replySorted(s *session, r kv.Result) {
	s.out = respwire.AppendArrayLen(s.out, len(r.Array))
	for _, e := range r.Array {
		s.appendBulkOrNull(e.Value, !e.Null)
	}
}

// Reference: https://redis.io/docs/latest/commands/sort_ro/
func cmdSortRO(s *session, args [][]byte) {
	spec, err := kv.ParseSort(args[2:], true)
	if err != nil {
		s.writeErr(err)
		return
	}
	var out [][]byte
	var found []bool
	err = s.readConsistent(func(v *kv.View) (err error) {
		out, found, err = v.Sort(args[1], spec, s.now)
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(out))
	for i, b := range out {
		s.appendBulkOrNull(b, found[i])
	}
}
