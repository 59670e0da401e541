package kv

import (
	"fmt"
	"slices"
	"testing"
)

// TestKeysInSlot: CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT see the live
// keys of one slot of one database, whatever their type, in key order;
// expired keys, other slots and other databases are left out, and a
// collection counts once whatever its elements.
// Reference: https://redis.io/docs/latest/commands/cluster-countkeysinslot/,
// cluster-getkeysinslot/
func TestKeysInSlot(t *testing.T) {
	a := newApplier(t)
	slot := Slot([]byte("{tag}"))
	a.at(t0, set("{tag}b", "v"))
	a.at(t0, set("{tag}a", "v"))
	a.at(t0, hset("{tag}h", "f1", "v", "f2", "v", "f3", "v"))
	a.at(t0, Command{Op: OpSet, Args: strs("{tag}gone", "v"), ExpireAt: t0 + 10})
	a.at(t0, inDB(1, set("{tag}other-db", "v")))
	a.at(t0, set("elsewhere", "v"))
	if Slot([]byte("elsewhere")) == slot {
		t.Fatal("pick another key for the other slot")
	}

	v, release := a.f.View()
	defer release()
	for _, tc := range []struct {
		now   int64
		count int
		want  []string
	}{
		{t0, 100, []string{"{tag}a", "{tag}b", "{tag}gone", "{tag}h"}},
		{t0 + 10, 100, []string{"{tag}a", "{tag}b", "{tag}h"}},
		{t0 + 10, 2, []string{"{tag}a", "{tag}b"}},
		{t0 + 10, 0, nil},
	} {
		name := fmt.Sprintf("at t0+%d count %d", tc.now-t0, tc.count)
		keys, err := v.KeysInSlot(slot, tc.count, tc.now)
		if err != nil {
			t.Fatalf("KeysInSlot %s: %v", name, err)
		}
		var got []string
		for _, k := range keys {
			got = append(got, string(k))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("KeysInSlot %s = %q, want %q", name, got, tc.want)
		}
		if tc.count != 100 {
			continue
		}
		n, err := v.CountKeysInSlot(slot, tc.now)
		if err != nil || n != int64(len(tc.want)) {
			t.Errorf("CountKeysInSlot %s = %d, %v; want %d", name, n, err, len(tc.want))
		}
	}
	for db, want := range map[uint8]int64{1: 1, 2: 0} {
		if n, err := v.DB(db).CountKeysInSlot(slot, t0); err != nil || n != want {
			t.Errorf("CountKeysInSlot in db %d = %d, %v; want %d", db, n, err, want)
		}
	}
	if n, err := v.CountKeysInSlot(Slot([]byte("elsewhere")), t0); err != nil || n != 1 {
		t.Errorf("CountKeysInSlot of elsewhere's slot = %d, %v; want 1", n, err)
	}
	if n, err := v.CountKeysInSlot(Slots-1, t0); err != nil || n != 0 {
		t.Errorf("CountKeysInSlot of an empty slot = %d, %v; want 0", n, err)
	}
}
