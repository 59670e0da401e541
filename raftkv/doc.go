// Package raftkv replicates kv's commands through hashicorp/raft and hands
// the committed entries to the state machine (kv.FSM), in log order.
//
// It owns the raft plumbing: the Node (raft setup, log and stable stores,
// the log cache, snapshots on disk), proposing and waiting for outcomes,
// read indexes, membership changes, and the leader's housekeeping (active
// expiry, pruning request records, the node secret). What the entries mean
// is package kv's.
package raftkv
