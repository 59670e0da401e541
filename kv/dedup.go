package kv

import (
	"encoding/binary"

	"github.com/riotkv/riot/storage"
)

// Requests that carry an ID (ClientID, Seq) are applied at most once: the
// first application stores its Result under reqKey, and a repeat (a retry
// after a leader change or a broken forward) gets that Result back without
// being applied again. The records live in the engine, so they survive
// restarts and travel in snapshots.
//
// Records are kept for about DedupRetain log entries: the leader
// periodically proposes OpPruneRequests with a cutoff index, so every replica
// drops the same records at the same point of the log.
const DedupRetain = 1 << 20

// dedupLookup returns the stored result of c's request, if it was applied.
func dedupLookup(tx *txn, c *Command) (Result, bool, error) {
	raw, ok, err := tx.getRaw(reqKey(c.ClientID, c.Seq))
	if !ok || err != nil {
		return Result{}, false, err
	}
	if len(raw) < 8 {
		return Result{}, false, tx.failf("request record of %d bytes", len(raw))
	}
	r, err := DecodeResult(raw[8:])
	if err != nil {
		return Result{}, false, tx.failf("request record: %w", err)
	}
	return r, true, nil
}

// dedupStore records the result of c's request applied at index.
func dedupStore(tx *txn, c *Command, index uint64, r Result) {
	v := binary.BigEndian.AppendUint64(nil, index)
	tx.putRaw(reqKey(c.ClientID, c.Seq), AppendEncodeResult(v, r))
}

// applyPruneRequests deletes request records applied at or before c.Int.
// Records written earlier in the same raft batch have higher indexes than
// any cutoff the leader proposes, so reading the engine alone is enough.
func applyPruneRequests(tx *txn, c *Command) Result {
	it := tx.eng.NewIterator(storage.PrefixRange(reqPrefix))
	var n int64
	for it.Next() {
		v := it.Value()
		if len(v) >= 8 && binary.BigEndian.Uint64(v) <= uint64(c.Int) {
			tx.delRaw(it.Key())
			n++
		}
	}
	if err := it.Close(); err != nil {
		return Result{Err: tx.failf("prune request records: %w", err)}
	}
	if err := pruneTombstones(tx, uint64(c.Int)); err != nil {
		return Result{Err: err}
	}
	return Result{Int: n}
}
