package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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

// BenchmarkWriteRandomBatch writes batches of puts 100-byte values under
// random keys of a 100,000-key space into an unsynced leveldb engine that
// already holds them all, as the state machine does under a SET load: the
// memtable is large and each insert searches it.
func BenchmarkWriteRandomBatch(b *testing.B) {
	for _, puts := range []int{16, 512} {
		b.Run(fmt.Sprintf("puts=%d", puts), func(b *testing.B) {
			const keys = 100_000
			e, err := OpenLevelDBWith(b.TempDir(), Options{BootID: "bench"})
			if err != nil {
				b.Fatalf("OpenLevelDBWith: %v", err)
			}
			b.Cleanup(func() { closeEngine(b, e) })
			value := bytes.Repeat([]byte("v"), 100)
			var batch Batch
			for i := range keys {
				batch.Put(fmt.Appendf(nil, "dkey:%012d", i), value)
				if batch.Len() == 1000 {
					if err := e.Write(&batch); err != nil {
						b.Fatal(err)
					}
					batch.Reset()
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				batch.Reset()
				for range puts {
					batch.Put(fmt.Appendf(nil, "dkey:%012d", rng.IntN(keys)), value)
				}
				if err := e.Write(&batch); err != nil {
					b.Fatalf("Write(batch of %d): %v", puts, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*puts), "ns/put")
		})
	}
}
