package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// openBoot opens a leveldb engine in dir under boot (unsynced), writes
// key=value unless key is empty, and closes it.
func openBoot(t *testing.T, dir string, o Options, key string) {
	t.Helper()
	e, err := OpenLevelDBWith(dir, o)
	if err != nil {
		t.Fatalf("OpenLevelDBWith(%s, %+v): %v", dir, o, err)
	}
	if key != "" {
		var b Batch
		b.Put([]byte(key), []byte("v"))
		if err := e.Write(&b); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	closeEngine(t, e)
}

// keysIn lists the keys of the engine in dir, opened with o.
func keysIn(t *testing.T, dir string, o Options) []string {
	t.Helper()
	e, err := OpenLevelDBWith(dir, o)
	if err != nil {
		t.Fatalf("OpenLevelDBWith(%s, %+v): %v", dir, o, err)
	}
	defer closeEngine(t, e)
	var keys []string
	it := e.NewIterator(Range{})
	for it.Next() {
		keys = append(keys, string(it.Key()))
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return keys
}

func TestBootGuard(t *testing.T) {
	a, b := Options{BootID: "boot-a"}, Options{BootID: "boot-b"}
	synced := Options{SyncWrites: true}
	for _, tc := range []struct {
		name   string
		write  Options // the engine is written under write, then reopened with reopen
		reopen Options
		kept   bool
	}{
		{"same boot keeps unsynced writes", a, a, true},
		{"another boot discards unsynced writes", a, b, false},
		{"unknown boot discards unsynced writes", a, synced, false},
		{"synced writes are kept in another boot", synced, b, true},
		{"synced writes are kept with no boot", synced, synced, true},
		{"synced writes under a boot are kept in it", Options{BootID: "boot-a", SyncWrites: true}, a, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "engine")
			openBoot(t, dir, tc.write, "k")
			got := keysIn(t, dir, tc.reopen)
			if tc.kept && (len(got) != 1 || got[0] != "k") {
				t.Errorf("keys after reopen = %q, want [k]", got)
			}
			if !tc.kept && len(got) != 0 {
				t.Errorf("keys after reopen = %q, want none (discarded)", got)
			}
		})
	}
}

// TestBootGuardMarksBeforeWriting: an engine that takes unsynced writes
// names its boot on disk from its open on, and a discarded engine is gone
// entirely (no leftover directory).
func TestBootGuardMarksBeforeWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "engine")
	e, err := OpenLevelDBWith(dir, Options{BootID: "boot-a"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, bootFile))
	if err != nil || string(got) != "boot-a\n" {
		t.Errorf("boot file after open = %q, %v; want %q", got, err, "boot-a\n")
	}
	closeEngine(t, e)

	// A discard interrupted after the rename is finished by the next open.
	if err := os.MkdirAll(dir+".discard", 0o755); err != nil {
		t.Fatal(err)
	}
	openBoot(t, dir, Options{BootID: "boot-b"}, "")
	if _, err := os.Stat(dir + ".discard"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s.discard = %v, want it removed", dir, err)
	}
	got, err = os.ReadFile(filepath.Join(dir, bootFile))
	if err != nil || string(got) != "boot-b\n" {
		t.Errorf("boot file after a reopen in another boot = %q, %v; want %q", got, err, "boot-b\n")
	}
}

// TestBootMarkedBeforeEngineFiles: the boot file is on disk before
// goleveldb creates a file of its own (goleveldb syncs none of them in an
// unsynced engine), so a failed mark leaves no engine behind.
func TestBootMarkedBeforeEngineFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "engine")
	// A directory where markBoot writes its temporary file makes it fail.
	if err := os.MkdirAll(filepath.Join(dir, bootFile+".tmp", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if e, err := OpenLevelDBWith(dir, Options{BootID: "boot-a"}); err == nil {
		closeEngine(t, e)
		t.Fatal("open with a failing boot mark succeeded")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != bootFile+".tmp" {
			t.Errorf("%s holds %s after a failed boot mark; want nothing of goleveldb's", dir, e.Name())
		}
	}
}

// TestLevelOptionsSync: goleveldb fsyncs (journal, tables, manifest) only
// in an engine whose writes are synced.
func TestLevelOptionsSync(t *testing.T) {
	if levelOptions(true).GetNoSync() {
		t.Error("synced engine: goleveldb NoSync is set")
	}
	if !levelOptions(false).GetNoSync() {
		t.Error("unsynced engine: goleveldb NoSync is not set")
	}
}
