package kv

import (
	"errors"
	"testing"
)

func testShardMap(epoch uint64) ShardMap {
	m := ShardMap{Epoch: epoch, Replicas: 3}
	for i, r := range EvenSlots(3) {
		m.Groups = append(m.Groups, ShardGroup{ID: uint32(i + 1), Slots: []SlotRange{r},
			Members: []string{"a", "b", "c"}, Initial: []string{"a"}, Leader: "a"})
	}
	return m
}

func setShards(t *testing.T, m ShardMap) Command {
	t.Helper()
	b, err := EncodeShardMap(m)
	if err != nil {
		t.Fatal(err)
	}
	return Command{Op: OpSetShards, Args: [][]byte{b}}
}

func TestShardMapEpochsFollowEachOther(t *testing.T) {
	f := newFSM(t, memEngine(t))
	res := f.ApplyBatch([]Entry{
		cmdLog(1, setShards(t, testShardMap(2))), // must start at 1
		cmdLog(2, setShards(t, testShardMap(1))),
		cmdLog(3, setShards(t, testShardMap(1))), // a stale writer
		cmdLog(4, setShards(t, testShardMap(2))),
	})
	for i, wantErr := range []bool{true, false, true, false} {
		if r := result(t, res, i); (r.Err != nil) != wantErr {
			t.Errorf("entry %d: err %v, want error %v", i+1, r.Err, wantErr)
		}
	}
	v, release := f.View()
	defer release()
	m, ok, err := v.Shards()
	if err != nil || !ok || m.Epoch != 2 {
		t.Fatalf("Shards() = epoch %d, %v, %v; want epoch 2", m.Epoch, ok, err)
	}
}

func TestShardMapValidation(t *testing.T) {
	bad := map[string]func(m *ShardMap){
		"slot twice":      func(m *ShardMap) { m.Groups[1].Slots[0].From-- },
		"slot uncovered":  func(m *ShardMap) { m.Groups[2].Slots[0].To-- },
		"no members":      func(m *ShardMap) { m.Groups[0].Members = nil },
		"member repeated": func(m *ShardMap) { m.Groups[0].Members = []string{"a", "a"} },
		"group ids":       func(m *ShardMap) { m.Groups[0].ID = 7 },
		"epoch 0":         func(m *ShardMap) { m.Epoch = 0 },
		"no replicas":     func(m *ShardMap) { m.Replicas = 0 },
		"slot past end":   func(m *ShardMap) { m.Groups[2].Slots[0].To = Slots },
	}
	for name, mutate := range bad {
		m := testShardMap(1)
		mutate(&m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	raw := []byte(`{"epoch":1,"replicas":3,"groups":[{"id":1,"slots":[{"from":0,"to":100}],"members":["a"],"initial":["a"]}]}`)
	c := Command{Op: OpSetShards, Args: [][]byte{raw}}
	if err := c.Validate(); !errors.Is(err, ErrBadEntry) {
		t.Errorf("a map leaving slots uncovered: Validate = %v, want ErrBadEntry", err)
	}
	f := newFSM(t, memEngine(t))
	if r := result(t, f.ApplyBatch([]Entry{cmdLog(1, c)}), 0); !errors.Is(r.Err, ErrBadEntry) {
		t.Errorf("applied: %v, want ErrBadEntry", r.Err)
	}
	if c := (Command{Op: OpSetShards, Args: [][]byte{[]byte("{")}}); !errors.Is(c.Validate(), ErrBadEntry) {
		t.Errorf("malformed JSON passes Validate")
	}
}

// A sharded cluster's metadata group refuses client operations from the
// entry that stored the map on (also within its batch, and after a
// reopen), so no key lands where no group serves it; its own operations
// (the address book, no-ops, the next map) still apply.
func TestShardedMetadataGroupRefusesKeys(t *testing.T) {
	dir := t.TempDir()
	eng := levelEngine(t, dir)
	f := newFSM(t, eng)
	res := f.ApplyBatch([]Entry{
		cmdLog(1, set("before", "1")),
		cmdLog(2, setShards(t, testShardMap(1))),
		cmdLog(3, set("after", "1")),
		cmdLog(4, *NewMulti(nil, []*Command{{Op: OpIncrBy, Args: [][]byte{[]byte("n")}, Int: 1}})),
		cmdLog(5, *NewMulti(nil, nil)),
		cmdLog(6, Command{Op: OpSetMember, Args: [][]byte{[]byte("n9"), []byte("a:1"), []byte("a:2")}}),
		cmdLog(7, setShards(t, testShardMap(2))),
	})
	for i, want := range []error{nil, nil, ErrSharded, ErrSharded, nil, nil, nil} {
		if r := result(t, res, i); !errors.Is(r.Err, want) || (want == nil && r.Err != nil) {
			t.Errorf("entry %d: %v, want %v", i+1, r.Err, want)
		}
	}
	if !f.Sharded() {
		t.Fatal("Sharded() false after the shard map")
	}
	wantMissing(t, f, "after")
	wantMissing(t, f, "n")
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	f = newFSM(t, levelEngine(t, dir))
	if !f.Sharded() {
		t.Error("Sharded() false after a reopen")
	}
	if r := result(t, f.ApplyBatch([]Entry{cmdLog(8, set("later", "1"))}), 0); !errors.Is(r.Err, ErrSharded) {
		t.Errorf("a write after the reopen: %v, want ErrSharded", r.Err)
	}
}
