package kv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"testing"

	"github.com/riotkv/riot/storage"
)

// backupBytes returns f's backup stream (Backup.WriteTo).
func backupBytes(t testing.TB, f *FSM) []byte {
	t.Helper()
	b, err := f.Backup()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return buf.Bytes()
}

// importInto imports backups (slots: nil for all) into a new FSM over a
// memory engine and returns it with the engine.
func importInto(t testing.TB, slots []SlotRange, backups ...[]byte) (*FSM, storage.Engine, ImportStats, error) {
	t.Helper()
	eng := memEngine(t)
	f := newFSM(t, eng)
	rs := make([]io.Reader, len(backups))
	for i, b := range backups {
		rs[i] = bytes.NewReader(b)
	}
	st, err := f.Import(rs, slots)
	if err == nil {
		err = f.FinishImport()
	}
	return f, eng, st, err
}

// keyed returns the records of d that belong to a user key (every family
// but the state machine's 'm').
func keyed(d map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if k[0] != prefixMeta {
			out[k] = v
		}
	}
	return out
}

// fillTypes writes every type over many slots into a, with tag in each key
// name, one key with a deadline and one in database 3.
func fillTypes(a *applier, tag string) {
	for i := range 60 {
		a.at(t0, set(fmt.Sprintf("%s:str:%d", tag, i), fmt.Sprint(i)))
	}
	a.at(t0, hset(tag+":h", "f1", "v1", "f2", "v2"))
	a.at(t0, sadd(tag+":s", "a", "b", "c"))
	a.at(t0, zadd(0, tag+":z", "1", "a", "2.5", "b"))
	a.at(t0, rpush(tag+":l", "x", "y", "z"))
	a.at(t0, Command{Op: OpPExpireAt, Args: strs(tag + ":h"), Int: t0 + 100000})
	a.at(t0, inDB(3, set(tag+":db3", "v")))
	a.at(t0, del(tag+":str:0")) // a tombstone
}

// TestImportSplitsBySlot: a backup imported with slot ranges that
// partition the slots loads each keyed record into exactly the group of its
// slot, and the groups together hold the backup's keys, deadlines and
// collections; the old cluster's address book and request records stay
// behind in each.
func TestImportSplitsBySlot(t *testing.T) {
	a := newApplier(t)
	fillTypes(a, "k")
	a.at(t0+5, Command{Op: OpSetMember, Args: strs("old", "10.0.0.1:16379", "10.0.0.1:6379")})
	src := backupBytes(t, a.f)
	want := keyed(dump(t, a.eng))

	got := map[string]string{}
	for _, r := range EvenSlots(3) {
		f, eng, st, err := importInto(t, []SlotRange{r}, src)
		if err != nil {
			t.Fatalf("Import slots %d-%d: %v", r.From, r.To, err)
		}
		if st.Index != a.idx || st.Others == 0 || f.Clock() != a.f.Clock() {
			t.Errorf("slots %d-%d: stats %+v, clock %d; want index %d, some records of other slots, clock %d", r.From, r.To, st, f.Clock(), a.idx, a.f.Clock())
		}
		d := dump(t, eng)
		for k := range d {
			if bytes.HasPrefix([]byte(k), memberPrefix) || bytes.HasPrefix([]byte(k), reqPrefix) {
				t.Errorf("slots %d-%d: %q of the old cluster imported", r.From, r.To, k)
			}
		}
		for k, v := range keyed(d) {
			slot, err := recordSlot([]byte(k))
			if err != nil || slot < r.From || slot > r.To {
				t.Errorf("slots %d-%d: record %q of slot %d (%v) imported", r.From, r.To, k, slot, err)
			}
			got[k] = v
		}
	}
	if diff := diffDumps(got, want); diff != "" {
		t.Errorf("the groups together differ from the backup: %s", diff)
	}
}

// TestImportMerges: backups of disjoint keys imported together hold both's
// keys, at the larger applied index and clock; collections and deadlines
// survive.
func TestImportMerges(t *testing.T) {
	a, b := newApplier(t), newApplier(t)
	fillTypes(a, "a")
	fillTypes(b, "b")
	b.at(t0+7, set("b:late", "1")) // b is ahead: index and clock
	want := keyed(dump(t, a.eng))
	maps.Copy(want, keyed(dump(t, b.eng)))

	f, eng, st, err := importInto(t, nil, backupBytes(t, a.f), backupBytes(t, b.f))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := diffDumps(keyed(dump(t, eng)), want); diff != "" {
		t.Errorf("merged import: %s", diff)
	}
	if st.Index != b.idx || f.Clock() != t0+7 {
		t.Errorf("merged import: index %d, clock %d; want %d, %d", st.Index, f.Clock(), b.idx, t0+7)
	}
	wantHash(t, f, 0, "a:h", "f1=v1 f2=v2")
	wantList(t, f, "b:l", "x", "y", "z")
	v, release := f.View()
	defer release()
	if info, ok, err := v.Lookup([]byte("b:h"), t0); err != nil || !ok || info.ExpireAt != t0+100000 {
		t.Errorf("b:h: Lookup = %+v, %v, %v; want the deadline %d", info, ok, err, t0+100000)
	}
}

// TestImportOverlap: the same key in two backups is an error, unless the
// slots imported leave it out.
func TestImportOverlap(t *testing.T) {
	a, b := newApplier(t), newApplier(t)
	a.at(t0, set("a", "1"))
	a.at(t0, set("same", "from a"))
	b.at(t0, set("same", "from b"))
	ab, bb := backupBytes(t, a.f), backupBytes(t, b.f)
	if _, _, _, err := importInto(t, nil, ab, bb); !errors.Is(err, ErrOverlap) {
		t.Errorf("Import of overlapping backups: %v, want ErrOverlap", err)
	}
	s := Slot([]byte("same"))
	var other []SlotRange
	if s > 0 {
		other = append(other, SlotRange{0, s - 1})
	}
	if s < Slots-1 {
		other = append(other, SlotRange{s + 1, Slots - 1})
	}
	if _, _, _, err := importInto(t, other, ab, bb); err != nil {
		t.Errorf("Import without the overlapping key's slot: %v", err)
	}
}

// rawBackup returns a backup stream of records written as they are.
func rawBackup(t testing.TB, applied uint64, kvs ...[]byte) []byte {
	t.Helper()
	eng := memEngine(t)
	var b storage.Batch
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Put(kvs[i], kvs[i+1])
	}
	if err := eng.Write(&b); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, eng, applied); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportMalformedRecords: records whose key is not one the engine
// writes (an unknown family, a short key, a slot that is not the user
// key's, an element key shorter than its length says) or a state machine
// record of the wrong size are refused as a malformed backup.
func TestImportMalformedRecords(t *testing.T) {
	good := dataKey(0, []byte("k"))
	wrongSlot := bytes.Clone(good)
	binary.BigEndian.PutUint16(wrongSlot[2:], Slot([]byte("k"))+1)
	elem := appendElemBase(nil, prefixElem, 0, []byte("key"), 1)
	shortElem := bytes.Clone(elem[:elemHead+2])
	shortElem = append(shortElem, make([]byte, 8)...)
	for _, tc := range []struct {
		name string
		k, v []byte
	}{
		{"unknown family", []byte("qwerty"), nil},
		{"short data key", []byte{prefixData, 0, 1}, nil},
		{"slot not the key's", wrongSlot, []byte("s\x00v")},
		{"short element key", shortElem, nil},
		{"short expiry key", []byte{prefixExpire, 1, 2}, nil},
		{"clock of 3 bytes", keyClock, []byte{1, 2, 3}},
		{"bad format-1 expiry", []byte{prefixExpireV1, 1}, nil},
	} {
		_, _, _, err := importInto(t, nil, rawBackup(t, 5, good, []byte("s\x00v"), tc.k, tc.v))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: Import = %v, want ErrBadSnapshot", tc.name, err)
		}
	}
	// A format-1 record is loaded under its format-2 key, in its slot.
	f, _, _, err := importInto(t, []SlotRange{{Slot([]byte("old")), Slot([]byte("old"))}},
		rawBackup(t, 5, append([]byte{prefixDataV1}, "old"...), []byte("s\x00v"), append([]byte{prefixDataV1}, "other"...), []byte("s\x00w")))
	if err != nil {
		t.Fatalf("Import of format-1 records: %v", err)
	}
	wantValue(t, f, "old", "v")
	wantMissing(t, f, "other")
}

// FuzzImport: no input makes Import panic, with or without a slot filter,
// alone or after a valid backup.
func FuzzImport(f *testing.F) {
	a := newApplier(f)
	fillTypes(a, "f")
	valid := backupBytes(f, a.f)
	f.Add(valid, uint16(0), uint16(Slots-1))
	f.Add(valid[:len(valid)/2], uint16(100), uint16(9000))
	f.Add([]byte("RIOTSNAP\x01\x05"), uint16(0), uint16(0))
	f.Add(rawBackup(f, 1, []byte("qq"), nil), uint16(0), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, from, to uint16) {
		slots := []SlotRange{{from % Slots, to % Slots}}
		for _, backups := range [][][]byte{{data}, {valid, data}} {
			eng := storage.NewMemory()
			g, err := NewFSM(eng, nil)
			if err != nil {
				t.Fatal(err)
			}
			rs := make([]io.Reader, len(backups))
			for i, b := range backups {
				rs[i] = bytes.NewReader(b)
			}
			_, _ = g.Import(rs, slots)
			eng.Close()
		}
	})
}
