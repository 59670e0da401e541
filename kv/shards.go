package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/riotkv/riot/storage"
)

// The shard map is a sharded cluster's configuration (riot-server
// --shards N): which data groups exist, which hash slots each serves and
// which nodes hold its replicas. The metadata group (the cluster's first
// raft group, which every node is a member of) replicates it; only its
// leader writes it (OpSetShards), each version one more than the last.

// MaxShards bounds the data groups of a cluster: every node announces the
// groups it leads in its gossip metadata, which memberlist caps at 512
// bytes.
const MaxShards = 32

// ShardMap is the sharded cluster's configuration.
type ShardMap struct {
	// Epoch is the map's version: 1 when created, one more with each
	// change.
	Epoch uint64 `json:"epoch"`
	// Replicas is how many replicas each group should have.
	Replicas int          `json:"replicas"`
	Groups   []ShardGroup `json:"groups"`
}

// ShardGroup is one data group.
type ShardGroup struct {
	// ID is the group's number, 1 and up: its raft transport's group and
	// its directory under the data dir.
	ID uint32 `json:"id"`
	// Slots are the hash slot ranges it serves: sorted, disjoint.
	Slots []SlotRange `json:"slots"`
	// Members are the nodes (raft IDs) that should hold a replica; the
	// group's leader changes its raft configuration to match.
	Members []string `json:"members"`
	// Initial is the group's first configuration: its first member
	// bootstraps the group with these voters when it has no state for it,
	// until the group is Founded.
	Initial []string `json:"initial"`
	// Founded is set by placement once the group has had a leader: from
	// then on no node bootstraps it, and a founder back with no state for
	// it (its data lost, or removed and wiped) catches up as any new
	// replica does.
	Founded bool `json:"founded,omitempty"`
	// Leader is the member placement would like to lead the group; the
	// group's leader hands leadership to it once it is a voter.
	Leader string `json:"leader,omitempty"`
}

// SlotRange is the hash slots From..To, both included.
type SlotRange struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// EvenSlots splits the 16384 slots into n contiguous ranges of sizes
// differing by at most one, as redis-cli --cluster create does.
func EvenSlots(n int) []SlotRange {
	out := make([]SlotRange, n)
	from := 0
	for i := range n {
		to := (i+1)*Slots/n - 1
		out[i] = SlotRange{From: uint16(from), To: uint16(to)}
		from = to + 1
	}
	return out
}

// Group returns the group with ID id.
func (m *ShardMap) Group(id uint32) (*ShardGroup, bool) {
	for i := range m.Groups {
		if m.Groups[i].ID == id {
			return &m.Groups[i], true
		}
	}
	return nil, false
}

// Clone returns a deep copy of m.
func (m *ShardMap) Clone() ShardMap {
	c := ShardMap{Epoch: m.Epoch, Replicas: m.Replicas, Groups: make([]ShardGroup, len(m.Groups))}
	for i, g := range m.Groups {
		c.Groups[i] = ShardGroup{ID: g.ID, Slots: slices.Clone(g.Slots), Members: slices.Clone(g.Members),
			Initial: slices.Clone(g.Initial), Founded: g.Founded, Leader: g.Leader}
	}
	return c
}

// Validate reports the first problem with m: every slot served by exactly
// one group, groups numbered 1.., members named once each.
func (m *ShardMap) Validate() error {
	if m.Epoch == 0 {
		return errors.New("shard map: epoch 0")
	}
	if m.Replicas < 1 || m.Replicas > 7 {
		return fmt.Errorf("shard map: %d replicas, want 1..7", m.Replicas)
	}
	if len(m.Groups) < 1 || len(m.Groups) > MaxShards {
		return fmt.Errorf("shard map: %d groups, want 1..%d", len(m.Groups), MaxShards)
	}
	var owner [Slots]uint32
	for i, g := range m.Groups {
		if g.ID != uint32(i+1) {
			return fmt.Errorf("shard map: group %d at position %d", g.ID, i)
		}
		if len(g.Members) == 0 || len(g.Initial) == 0 {
			return fmt.Errorf("shard map: group %d has no members", g.ID)
		}
		for _, ids := range [][]string{g.Members, g.Initial} {
			seen := make(map[string]bool, len(ids))
			for _, id := range ids {
				if id == "" || seen[id] {
					return fmt.Errorf("shard map: group %d: member %q empty or repeated", g.ID, id)
				}
				seen[id] = true
			}
		}
		for _, r := range g.Slots {
			if r.From > r.To || int(r.To) >= Slots {
				return fmt.Errorf("shard map: group %d: slot range %d-%d", g.ID, r.From, r.To)
			}
			for s := int(r.From); s <= int(r.To); s++ {
				if owner[s] != 0 {
					return fmt.Errorf("shard map: slot %d in groups %d and %d", s, owner[s], g.ID)
				}
				owner[s] = g.ID
			}
		}
	}
	for s, o := range owner {
		if o == 0 {
			return fmt.Errorf("shard map: slot %d has no group", s)
		}
	}
	return nil
}

// EncodeShardMap returns m as OpSetShards carries it.
func EncodeShardMap(m ShardMap) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// DecodeShardMap parses and validates an encoded shard map.
func DecodeShardMap(b []byte) (ShardMap, error) {
	var m ShardMap
	if err := json.Unmarshal(b, &m); err != nil {
		return ShardMap{}, fmt.Errorf("shard map: %w", err)
	}
	return m, m.Validate()
}

// errShardEpoch answers an OpSetShards whose epoch does not follow the
// stored map's: another leader changed the map meanwhile.
var errShardEpoch = errors.New("shard map changed meanwhile (epoch)")

// applySetShards stores the map in Args[0] when its epoch is one more than
// the stored map's (1 when none is stored).
func applySetShards(tx *txn, c *Command) Result {
	m, err := DecodeShardMap(c.Args[0])
	if err != nil {
		return Result{Err: fmt.Errorf("%w: %v", ErrBadEntry, err)}
	}
	var want uint64 = 1
	raw, found, err := tx.getRaw(keyShards)
	if err != nil {
		return Result{Err: err}
	}
	if found {
		old, err := DecodeShardMap(raw)
		if err != nil {
			return Result{Err: err}
		}
		want = old.Epoch + 1
	}
	if m.Epoch != want {
		return Result{Err: errShardEpoch}
	}
	tx.putRaw(keyShards, c.Args[0])
	tx.membersChanged = true
	tx.sharded = true
	return Result{}
}

// ErrSharded answers a client operation applied to a sharded cluster's
// metadata group: keys live in the data groups. Nothing was applied.
var ErrSharded = errors.New("the cluster is sharded: this group holds no keys")

// Sharded reports whether this state machine holds a shard map: it is the
// metadata group of a sharded cluster, and refuses client operations
// (ErrSharded), so that no key is ever written where no group serves it.
func (f *FSM) Sharded() bool { return f.sharded.Load() }

// newTxn starts a transaction over the engine at the state machine's
// clock.
func (f *FSM) newTxn() *txn {
	tx := newTxn(f.eng, f.clock.Load(), f.volatile)
	tx.sharded = f.sharded.Load()
	return tx
}

// loadSharded sets Sharded from the engine (open, restore).
func (f *FSM) loadSharded() error {
	_, err := f.eng.Get(keyShards)
	switch {
	case err == nil:
		f.sharded.Store(true)
	case errors.Is(err, storage.ErrNotFound):
		f.sharded.Store(false)
	default:
		return fmt.Errorf("read the shard map: %w", err)
	}
	return nil
}

// Shards returns the stored shard map; ok is false when the cluster is not
// sharded.
func (v *View) Shards() (m ShardMap, ok bool, err error) {
	raw, err := v.r.Get(keyShards)
	if errors.Is(err, storage.ErrNotFound) {
		return ShardMap{}, false, nil
	}
	if err != nil {
		return ShardMap{}, false, fmt.Errorf("read the shard map: %w", err)
	}
	m, err = DecodeShardMap(raw)
	return m, err == nil, err
}
