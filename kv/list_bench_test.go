package kv

import (
	"fmt"
	"testing"
)

// bigList is the number of elements of the big list.
const bigList = 1_000_000

// fillList pushes n elements onto the tail of list key, 100,000 per
// entry, and compacts the engine (as fill does for hashes).
func (s *benchFSM) fillList(key string, n int) {
	defer s.compact()
	const per = 100_000
	for lo := 0; lo < n; lo += per {
		c := Command{Op: OpRPush, Args: [][]byte{[]byte(key)}}
		for i := lo; i < min(lo+per, n); i++ {
			c.Args = append(c.Args, fmt.Appendf(nil, "elem-%07d", i))
		}
		s.apply(c)
	}
}

// BenchmarkListQueue: RPUSH of one element and LPOP of one, as a queue
// does, on an empty list and on a list of a million elements, cost the
// same: the list's metadata holds its head position, so each end is one
// element record away. On the big list, LPOP takes an element pushed
// before the loop; the list keeps its length.
//
//	go test ./kv -run '^$' -bench ListQueue -count 3
func BenchmarkListQueue(b *testing.B) { benchQueue(b, OpRPush, OpLPop) }

// BenchmarkListPushPopLeft: LPUSH of one element and RPOP of one (the
// other queue direction) on an empty list and on a list of a million
// elements cost the same. On the big list, RPOP takes an element pushed
// before the loop; the list keeps its length.
//
//	go test ./kv -run '^$' -bench 'BenchmarkList' -count 1
func BenchmarkListPushPopLeft(b *testing.B) { benchQueue(b, OpLPush, OpRPop) }

// benchQueue pushes one element at one end and pops one at the other, on
// an empty list and on a list of a million elements.
func benchQueue(b *testing.B, push, pop Op) {
	for _, size := range []int{0, bigList} {
		b.Run(fmt.Sprintf("elements=%d", size), func(b *testing.B) {
			s := newBenchFSM(b)
			s.fillList("q", size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.apply(Command{Op: push, Args: [][]byte{[]byte("q"), fmt.Appendf(nil, "new-%d", i)}})
				if r := s.apply(Command{Op: pop, Args: [][]byte{[]byte("q")}, Int: 1}); len(r.Array) != 1 {
					b.Fatalf("pop of q popped %d elements", len(r.Array))
				}
				i++
			}
		})
	}
}

// BenchmarkListIndex: LINDEX of the middle element of a 10-element list
// and of a million-element one cost the same: the element's position is
// the list's head plus the index, one record lookup (a View, the
// metadata, the element), as LINDEX reads it.
func BenchmarkListIndex(b *testing.B) {
	for _, size := range []int{10, bigList} {
		b.Run(fmt.Sprintf("elements=%d", size), func(b *testing.B) {
			s := newBenchFSM(b)
			s.fillList("l", size)
			mid := int64(size / 2)
			want := fmt.Sprintf("elem-%07d", mid)
			b.ReportAllocs()
			for b.Loop() {
				v, release := s.f.View()
				l, ok, err := v.Collection([]byte("l"), 1_700_000_000_000, TypeList)
				if err != nil || !ok {
					b.Fatalf("Collection(l) = %v, %v", ok, err)
				}
				e, ok, err := l.ListIndex(mid)
				if err != nil || !ok || string(e) != want {
					b.Fatalf("ListIndex(%d) = %q, %v, %v; want %q", mid, e, ok, err, want)
				}
				release()
			}
		})
	}
}

// BenchmarkListSet: LSET of the middle element of a 10-element list and
// of a million-element one cost the same: one element record and the
// metadata written.
func BenchmarkListSet(b *testing.B) {
	for _, size := range []int{10, bigList} {
		b.Run(fmt.Sprintf("elements=%d", size), func(b *testing.B) {
			s := newBenchFSM(b)
			s.fillList("l", size)
			mid := fmt.Appendf(nil, "%d", size/2)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.apply(Command{Op: OpLSet, Args: [][]byte{[]byte("l"), mid, fmt.Appendf(nil, "set-%d", i)}})
				i++
			}
		})
	}
}
