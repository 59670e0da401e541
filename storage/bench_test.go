package storage

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkLevelDBWriteBatch(b *testing.B) {
	for _, puts := range []int{1, 64} {
		b.Run(fmt.Sprintf("puts=%d", puts), func(b *testing.B) {
			benchWriteBatch(b, openBenchLevelDB(b), puts)
		})
	}
}

func BenchmarkMemoryWriteBatch(b *testing.B) {
	for _, puts := range []int{1, 64} {
		b.Run(fmt.Sprintf("puts=%d", puts), func(b *testing.B) {
			e := NewMemory()
			b.Cleanup(func() { closeEngine(b, e) })
			benchWriteBatch(b, e, puts)
		})
	}
}

// benchWriteBatch writes batches of puts 100-byte values under fresh keys.
func benchWriteBatch(b *testing.B, e Engine, puts int) {
	value := bytes.Repeat([]byte("v"), 100)
	var batch Batch
	n := 0
	for b.Loop() {
		batch.Reset()
		for range puts {
			batch.Put(fmt.Appendf(nil, "key%012d", n), value)
			n++
		}
		if err := e.Write(&batch); err != nil {
			b.Fatalf("Write(batch of %d): %v", puts, err)
		}
	}
	b.SetBytes(int64(batch.Size()))
}

func BenchmarkLevelDBGet(b *testing.B) {
	const keys = 10_000
	e := openBenchLevelDB(b)
	value := bytes.Repeat([]byte("v"), 100)
	var batch Batch
	for i := range keys {
		batch.Put(fmt.Appendf(nil, "key%012d", i), value)
	}
	if err := e.Write(&batch); err != nil {
		b.Fatalf("Write(%d keys): %v", keys, err)
	}
	i := 0
	for b.Loop() {
		key := fmt.Appendf(nil, "key%012d", (i*7919)%keys) // a fixed, scattered order
		if _, err := e.Get(key); err != nil {
			b.Fatalf("Get(%q): %v", key, err)
		}
		i++
	}
}

func openBenchLevelDB(b *testing.B) Engine {
	b.Helper()
	e, err := OpenLevelDB(b.TempDir())
	if err != nil {
		b.Fatalf("OpenLevelDB: %v", err)
	}
	b.Cleanup(func() { closeEngine(b, e) })
	return e
}
