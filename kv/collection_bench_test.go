package kv

import (
	"fmt"
	"testing"

	"github.com/riotkv/riot/storage"
)

// Collection benchmarks: what the per-element layout costs and saves
// (docs/design/0005-collections-layout.md). They apply through
// FSM.ApplyBatch on a LevelDB engine whose writes are not synced, as
// riot-server runs it (only the raft log is synced).
//
//	go test ./kv -run '^$' -bench 'HSet|DelBigHash|SweepBigHash' -benchtime 2s

// bigHash is the number of fields of the big hash.
const bigHash = 1_000_000

// benchFSM is a state machine on a fresh, unsynced LevelDB engine.
type benchFSM struct {
	b     *testing.B
	eng   storage.Engine
	f     *FSM
	index uint64
}

func newBenchFSM(b *testing.B) *benchFSM {
	b.Helper()
	eng, err := storage.OpenLevelDBWith(b.TempDir(), storage.Options{BootID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return &benchFSM{b: b, eng: eng, f: newFSM(b, eng)}
}

func (s *benchFSM) apply(c Command) Result {
	s.index++
	c.Now = 1_700_000_000_000
	r := s.f.ApplyBatch([]Entry{cmdLog(s.index, c)})[0].(Result)
	if r.Err != nil {
		s.b.Fatalf("apply %v: %v", c.Op, r.Err)
	}
	return r
}

// fill writes n fields into hash key, 100,000 per entry, and compacts the
// engine, so that no compaction of the fill runs in the measurement.
func (s *benchFSM) fill(key string, n int) {
	defer s.compact()
	const per = 100_000
	for lo := 0; lo < n; lo += per {
		c := Command{Op: OpHSet, Args: [][]byte{[]byte(key)}}
		for i := lo; i < min(lo+per, n); i++ {
			c.Args = append(c.Args, fmt.Appendf(nil, "field:%07d", i), fmt.Appendf(nil, "value-%07d", i))
		}
		s.apply(c)
	}
}

// compact compacts the whole engine.
func (s *benchFSM) compact() {
	if err := s.eng.(storage.Compacter).Compact(storage.Range{}); err != nil {
		s.b.Fatal(err)
	}
}

// BenchmarkHSet: HSET of one new field on an empty hash and on a hash of
// a million fields cost the same: one element record and the metadata.
func BenchmarkHSet(b *testing.B) {
	for _, size := range []int{0, bigHash} {
		b.Run(fmt.Sprintf("fields=%d", size), func(b *testing.B) {
			s := newBenchFSM(b)
			s.fill("h", size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.apply(Command{Op: OpHSet, Args: [][]byte{[]byte("h"), fmt.Appendf(nil, "new:%d", i), []byte("v")}})
				i++
			}
		})
	}
}

// BenchmarkDelBigHash: DEL of a hash of a million fields is O(1) in the
// apply (its elements are the sweeper's). Between iterations the hash's
// metadata is written back, untimed, which makes the same elements
// reachable again.
func BenchmarkDelBigHash(b *testing.B) {
	s := newBenchFSM(b)
	s.fill("h", bigHash)
	meta, err := s.eng.Get(dataKey(0, []byte("h")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.apply(del("h")); r.Int != 1 {
			b.Fatalf("DEL h = %d", r.Int)
		}
		b.StopTimer()
		var wb storage.Batch
		wb.Put(dataKey(0, []byte("h")), meta)
		if err := s.eng.Write(&wb); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkSweepBigHash: the sweeper's work for one DEL of a hash of a
// million fields (steps of 1024 records, as raftkv runs it, and the
// compaction after the pass), per record.
func BenchmarkSweepBigHash(b *testing.B) {
	s := newBenchFSM(b)
	for b.Loop() {
		b.StopTimer()
		s.fill("h", bigHash)
		s.apply(del("h"))
		b.StartTimer()
		deleted := 0
		for {
			st, err := s.f.Sweep(1024)
			if err != nil {
				b.Fatal(err)
			}
			deleted += st.Deleted
			if st.PassDone && st.PassDeleted == 0 {
				break
			}
		}
		if deleted != bigHash {
			b.Fatalf("swept %d records, want %d", deleted, bigHash)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bigHash), "ns/record")
}
