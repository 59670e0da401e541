// Package kv is Riot's data model: the commands a client's request becomes,
// how each is applied to a storage.Engine, and the state machine that
// applies them in log order.
//
// The state machine (FSM) is durable: every batch of log entries becomes one
// atomic storage batch that also records the index of the last entry
// applied, so a restart skips entries the engine already holds instead of
// re-applying them (INCR is not idempotent). Anything non-deterministic
// (time, randomness) is decided before a Command is proposed and carried
// inside it.
//
// kv knows nothing of raft: package raftkv replicates encoded entries and
// hands them to FSM.ApplyBatch as Entries, in log order.
package kv
