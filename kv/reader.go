package kv

import (
	"bytes"
	"errors"
	"slices"
	"sort"

	"github.com/riotkv/riot/storage"
)

// Readers over what is not one engine: the transaction being applied (its
// overlay over the engine), and the records a transaction's read looked up
// (LookupView). A Coll reads through either as through a View's engine.

// reader returns a storage.Reader of the engine as this transaction has
// changed it so far. A read error is a fault (see failf).
func (t *txn) reader() storage.Reader { return txnReader{t} }

type txnReader struct{ t *txn }

func (r txnReader) Get(k []byte) ([]byte, error) {
	v, ok, err := r.t.getRaw(k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

// NewIterator merges the engine's records in rg with the overlay's: a
// record written in the transaction replaces the engine's, one deleted in
// it is skipped. It costs a pass over the overlay to find its records in
// rg.
func (r txnReader) NewIterator(rg storage.Range) storage.Iterator {
	var keys []string
	for k := range r.t.overlay {
		if inRange(rg, []byte(k)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if rg.Reverse {
		slices.Reverse(keys)
	}
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = r.t.overlay[k]
	}
	return &mergeIter{t: r.t, eng: r.t.eng.NewIterator(rg), engMore: true, keys: keys, vals: vals, reverse: rg.Reverse}
}

// inRange reports whether k is in rg.
func inRange(rg storage.Range, k []byte) bool {
	return (rg.Start == nil || bytes.Compare(k, rg.Start) >= 0) && (rg.Limit == nil || bytes.Compare(k, rg.Limit) < 0)
}

type mergeIter struct {
	t       *txn
	eng     storage.Iterator
	engMore bool // eng may have more; engKey is its current record when engHas
	engHas  bool
	keys    []string // the overlay's keys in range, in iteration order
	vals    [][]byte
	i       int
	reverse bool
	key     []byte
	val     []byte
}

func (m *mergeIter) Next() bool {
	for {
		if !m.engHas && m.engMore {
			m.engHas = m.eng.Next()
			m.engMore = m.engHas
		}
		ovHas := m.i < len(m.keys)
		switch {
		case !m.engHas && !ovHas:
			return false
		case m.engHas && ovHas:
			c := bytes.Compare(m.eng.Key(), []byte(m.keys[m.i]))
			if m.reverse {
				c = -c
			}
			if c < 0 {
				m.key, m.val, m.engHas = m.eng.Key(), m.eng.Value(), false
				return true
			}
			if c == 0 {
				m.engHas = false // the overlay's record replaces it
			}
		case m.engHas:
			m.key, m.val, m.engHas = m.eng.Key(), m.eng.Value(), false
			return true
		}
		k, v := m.keys[m.i], m.vals[m.i]
		m.i++
		if v != nil {
			m.key, m.val = []byte(k), v
			return true
		}
	}
}

func (m *mergeIter) Key() []byte   { return m.key }
func (m *mergeIter) Value() []byte { return m.val }
func (m *mergeIter) Err() error    { return m.eng.Err() }
func (m *mergeIter) Close() error {
	if err := m.eng.Close(); err != nil {
		return m.t.failf("iterate: %w", err)
	}
	return nil
}

// sliceReader is a storage.Reader over a few records, sorted by key.
type sliceReader struct {
	keys [][]byte
	vals [][]byte
}

func newSliceReader(m map[string][]byte) *sliceReader {
	r := &sliceReader{}
	for k := range m {
		r.keys = append(r.keys, []byte(k))
	}
	slices.SortFunc(r.keys, bytes.Compare)
	for _, k := range r.keys {
		r.vals = append(r.vals, m[string(k)])
	}
	return r
}

func (r *sliceReader) Get(k []byte) ([]byte, error) {
	i, ok := slices.BinarySearchFunc(r.keys, k, bytes.Compare)
	if !ok {
		return nil, storage.ErrNotFound
	}
	return bytes.Clone(r.vals[i]), nil
}

func (r *sliceReader) NewIterator(rg storage.Range) storage.Iterator {
	lo := 0
	if rg.Start != nil {
		lo = sort.Search(len(r.keys), func(i int) bool { return bytes.Compare(r.keys[i], rg.Start) >= 0 })
	}
	hi := len(r.keys)
	if rg.Limit != nil {
		hi = sort.Search(len(r.keys), func(i int) bool { return bytes.Compare(r.keys[i], rg.Limit) >= 0 })
	}
	it := &sliceIter{r: r, lo: lo, hi: hi, reverse: rg.Reverse, i: lo - 1}
	if rg.Reverse {
		it.i = hi
	}
	return it
}

type sliceIter struct {
	r         *sliceReader
	lo, hi, i int
	reverse   bool
}

func (s *sliceIter) Next() bool {
	if s.reverse {
		s.i--
	} else {
		s.i++
	}
	return s.i >= s.lo && s.i < s.hi
}

func (s *sliceIter) Key() []byte   { return s.r.keys[s.i] }
func (s *sliceIter) Value() []byte { return s.r.vals[s.i] }
func (s *sliceIter) Err() error    { return nil }
func (s *sliceIter) Close() error  { return nil }

// isNotFound reports whether err is storage.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
