package raftkv

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/hashicorp/raft"
)

// ErrHasState: the node to restore into (Config.RestoreFrom), or to
// bootstrap (BootstrapWith), already has raft state.
var ErrHasState = errors.New("raftkv: the data directory already has raft state")

// Restoring a backup into a new cluster (Config.RestoreFrom): kv loads the
// records (kv/backup.go); the node starts its raft state as a snapshot at
// the backup's index. See docs/design/0002-backups.md.

// seed starts this node's raft state from the backups in cfg.RestoreFrom:
// it loads them (the keys of cfg.RestoreSlots) into the (empty) engine
// and writes the first snapshot of a one-server cluster of this node. It refuses a node that
// has raft state or an engine that holds data; an engine left behind by an
// interrupted import is loaded again.
func (n *Node) seed(logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore) error {
	has, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("raftkv: restore: check raft state: %w", err)
	}
	if has {
		return fmt.Errorf("%w (%s): restore into an empty data directory", ErrHasState, n.cfg.Dir)
	}
	st, err := n.fsm.Import(n.cfg.RestoreFrom, n.cfg.RestoreSlots)
	if err != nil {
		return err
	}
	index := st.Index

	// The first snapshot: the backup's index, term 1, this server alone.
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.ID), Address: n.trans.LocalAddr(),
	}}}
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, 1, conf, index, n.trans)
	if err != nil {
		return fmt.Errorf("raftkv: restore: create snapshot: %w", err)
	}
	snap, err := n.fsm.Snapshot()
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftkv: restore: %w", err)
	}
	err = snap.Persist(sink)
	snap.Release()
	if err != nil {
		return fmt.Errorf("raftkv: restore: write snapshot: %w", err)
	}

	// Only now is the engine usable on its own: until here, a crash
	// leaves the marker, and the next boot restores again (or refuses).
	if err := n.fsm.FinishImport(); err != nil {
		return err
	}
	n.logger.Info("restored a backup into a new cluster",
		"backups", len(n.cfg.RestoreFrom), "backup_index", st.Source, "records", st.Records,
		"dropped_members", st.Members, "dropped_requests", st.Requests, "other_slots", st.Others, "snapshot_index", index)
	return nil
}

// HasState reports whether cfg.Dir holds raft state, without starting a
// node (a sharded restore checks the metadata group's before it seeds the
// data groups).
func HasState(cfg Config) (bool, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, logger: cfg.Logger}
	logs, stable, snaps, err := n.openStores()
	if err != nil {
		return false, err
	}
	defer n.closeStores()
	has, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return false, fmt.Errorf("raftkv: check raft state: %w", err)
	}
	return has, nil
}
