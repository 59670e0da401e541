package kv

import (
	"bytes"
	"cmp"
	"slices"
)

// SORT and SORT_RO (Redis's sort.c). The elements of a list, set or sorted
// set are sorted by their value as a number (or as bytes, ALPHA), or by
// the values other keys hold (BY pattern: the first '*' replaced by the
// element, "key->field" for a hash field), and GET patterns replace each
// element by other keys' values. Because BY and GET read keys no argument
// names, SORT is one log entry (OpSort), computed when applied, like the
// *STORE commands, whether it stores its result or replies with it;
// SORT_RO reads a snapshot (View.Sort).

// OpSort is SORT: Args key, then the options as the client sent them
// (ParseSort). Result.Array: the result (Null entries for GETs of missing
// keys); with STORE, Result.Int: the length stored. Op numbers 96-99 are
// SORT's.
const OpSort Op = 96

var sortOps = map[Op]opDef{
	OpSort: {name: "sort", apply: applySort, args: argSpec{1, -1, false}, check: checkSort},
}

// errSortNotNumber is Redis's reply when an element (or its weight) is not
// a number and ALPHA was not given.
var errSortNotNumber = ReplyError("ERR One or more scores can't be converted into double")

// SortSpec is SORT's parsed options.
type SortSpec struct {
	By          []byte   // the BY pattern; nil: none
	Gets        [][]byte // GET patterns, in order
	Desc, Alpha bool
	// LimitStart and LimitCount are LIMIT's operands (count -1: all).
	LimitStart, LimitCount int64
	// Store is STORE's key (SORT only); nil: none.
	Store []byte
}

// ParseSort parses SORT's options (opts: the arguments after the key), as
// Redis does: in any order, later ones overriding earlier ones, STORE only
// for SORT (readonly false). The error is Redis's reply.
func ParseSort(opts [][]byte, readonly bool) (SortSpec, error) {
	s := SortSpec{LimitCount: -1}
	for j := 0; j < len(opts); j++ {
		left := len(opts) - j - 1
		switch o := opts[j]; {
		case bytes.EqualFold(o, []byte("asc")):
			s.Desc = false
		case bytes.EqualFold(o, []byte("desc")):
			s.Desc = true
		case bytes.EqualFold(o, []byte("alpha")):
			s.Alpha = true
		case bytes.EqualFold(o, []byte("limit")) && left >= 2:
			start, err1 := ParseInt(opts[j+1])
			count, err2 := ParseInt(opts[j+2])
			if err1 != nil || err2 != nil {
				return s, ErrNotInteger
			}
			s.LimitStart, s.LimitCount = start, count
			j += 2
		case !readonly && bytes.EqualFold(o, []byte("store")) && left >= 1:
			s.Store = opts[j+1]
			j++
		case bytes.EqualFold(o, []byte("by")) && left >= 1:
			s.By = opts[j+1]
			j++
		case bytes.EqualFold(o, []byte("get")) && left >= 1:
			s.Gets = append(s.Gets, opts[j+1])
			j++
		default:
			return s, ReplyError("ERR syntax error")
		}
	}
	return s, nil
}

func checkSort(c *Command) error {
	if _, err := ParseSort(c.Args[1:], false); err != nil {
		return badEntry(c, "options: %v", err)
	}
	return nil
}

// sortReader is what SORT reads: keys' stored values and collections, at
// the read's (or the entry's) time, through a View or a transaction.
type sortReader interface {
	lookupValue(key []byte) (value, bool, error)
	collOf(key []byte, v value) (*Coll, error)
}

// sortItem is one element being sorted.
type sortItem struct {
	elem   []byte
	score  float64
	weight []byte // ALPHA with BY: the weight; nil when its key is missing
}

// sortKey runs SORT of key as spec says and returns the output: the
// elements (or, with GETs, the values they lead to; found false for a GET
// of a missing key). It reads through r.
func sortKey(r sortReader, key []byte, spec SortSpec) (out [][]byte, found []bool, err error) {
	v, ok, err := r.lookupValue(key)
	if err != nil {
		return nil, nil, err
	}
	if ok && v.typ != typeList && v.typ != typeSet && v.typ != typeZSet {
		return nil, nil, ErrWrongType
	}
	dontsort := spec.By != nil && bytes.IndexByte(spec.By, '*') < 0
	by, alpha := spec.By, spec.Alpha
	if dontsort && ok && v.typ == typeSet && spec.Store != nil {
		// A set's order is its hash table's in Redis: a stored result is
		// sorted, so that it is the same everywhere.
		dontsort, alpha, by = false, true, nil
	}
	var items []sortItem
	if ok {
		c, err := r.collOf(key, v)
		if err != nil {
			return nil, nil, err
		}
		items, err = sortElements(c)
		if err != nil {
			return nil, nil, err
		}
	}
	n := int64(len(items))
	start := min(max(spec.LimitStart, 0), n)
	count := min(max(spec.LimitCount, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	if dontsort {
		if spec.Desc && ok && v.typ != typeSet {
			slices.Reverse(items) // a list or sorted set in its own order, backwards
		}
	} else {
		notNumber := false
		for i := range items {
			it := &items[i]
			w := it.elem
			if by != nil {
				var found bool
				if w, found, err = patternValue(r, by, it.elem); err != nil {
					return nil, nil, err
				}
				if !found {
					continue
				}
			}
			if alpha {
				if by != nil {
					it.weight = w
				}
				continue
			}
			f, ok := sortNumber(w)
			if !ok {
				notNumber = true
			}
			it.score = f
		}
		slices.SortStableFunc(items, func(a, b sortItem) int {
			c := compareSortItems(a, b, alpha, by != nil)
			if spec.Desc {
				return -c
			}
			return c
		})
		if notNumber {
			return nil, nil, errSortNotNumber
		}
	}
	for j := start; j <= end; j++ {
		if len(spec.Gets) == 0 {
			out, found = append(out, items[j].elem), append(found, true)
			continue
		}
		for _, g := range spec.Gets {
			val, ok, err := patternValue(r, g, items[j].elem)
			if err != nil {
				return nil, nil, err
			}
			out, found = append(out, val), append(found, ok)
		}
	}
	return out, found, nil
}

// compareSortItems is Redis's sortCompare without DESC: numbers (ties by
// the elements' bytes), or bytes (ALPHA: the weights with BY, a missing
// weight first).
func compareSortItems(a, b sortItem, alpha, byPattern bool) int {
	switch {
	case !alpha:
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return bytes.Compare(a.elem, b.elem)
	case byPattern:
		switch {
		case a.weight == nil && b.weight == nil:
			return 0
		case a.weight == nil:
			return -1
		case b.weight == nil:
			return 1
		}
		return bytes.Compare(a.weight, b.weight)
	}
	return bytes.Compare(a.elem, b.elem)
}

// sortElements returns the elements of list, set or sorted set c in its
// order (a list's, a set's members in byte order, a sorted set's by score).
func sortElements(c *Coll) ([]sortItem, error) {
	items := make([]sortItem, 0, c.size)
	var err error
	switch c.meta.typ {
	case typeList:
		err = c.ListRange(0, c.size-1, false, func(_ int64, v []byte) bool {
			items = append(items, sortItem{elem: bytes.Clone(v)})
			return true
		})
	case typeZSet:
		err = c.ScanScores(nil, false, func(_ float64, m []byte) bool {
			items = append(items, sortItem{elem: bytes.Clone(m)})
			return true
		})
	default:
		err = c.Scan(nil, false, func(m, _ []byte) bool {
			items = append(items, sortItem{elem: bytes.Clone(m)})
			return true
		})
	}
	return items, err
}

// sortNumber parses a sort weight as Redis's strtod does: leading spaces
// skipped, the rest a number to its end (an empty rest is 0), not NaN,
// not out of range.
func sortNumber(b []byte) (float64, bool) {
	b = bytes.TrimLeft(b, " \t\n\v\f\r")
	if len(b) == 0 {
		return 0, true
	}
	return ParseScore(b)
}

// patternValue is Redis's lookupKeyByPattern: "#" is the element itself;
// a pattern without '*' names nothing; else the first '*' is replaced by
// the element, and the key (a string) or, with "->field" after the '*',
// the hash field is read. found is false when there is no such value.
func patternValue(r sortReader, pattern, elem []byte) ([]byte, bool, error) {
	if string(pattern) == "#" {
		return elem, true, nil
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false, nil
	}
	keyPart, field := pattern, []byte(nil)
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		keyPart, field = pattern[:star+1+f], pattern[star+1+f+2:]
	}
	key := slices.Concat(keyPart[:star], elem, keyPart[star+1:])
	v, ok, err := r.lookupValue(key)
	if !ok || err != nil {
		return nil, false, err
	}
	if field == nil {
		if v.typ != typeString {
			return nil, false, nil
		}
		return v.data, true, nil
	}
	if v.typ != typeHash {
		return nil, false, nil
	}
	h, err := r.collOf(key, v)
	if err != nil {
		return nil, false, err
	}
	return h.Get(field)
}

// viewSort reads for SORT_RO.
type viewSort struct {
	v   *View
	now int64
}

func (s viewSort) lookupValue(key []byte) (value, bool, error) { return s.v.lookup(key, s.now) }
func (s viewSort) collOf(key []byte, v value) (*Coll, error)   { return collFrom(s.v.r, s.v.db, key, v) }

// Sort is SORT_RO: the result of sorting key as spec says (spec.Store must
// be nil), read at now; found[i] is false for a GET of a missing key.
func (v *View) Sort(key []byte, spec SortSpec, now int64) ([][]byte, []bool, error) {
	return sortKey(viewSort{v, v.Time(now)}, key, spec)
}

// txnSort reads for OpSort, through the transaction.
type txnSort struct{ t *txn }

func (s txnSort) lookupValue(key []byte) (value, bool, error) { return s.t.get(key) }
func (s txnSort) collOf(key []byte, v value) (*Coll, error)   { return s.t.collOf(s.t.db, key, v) }

// applySort: see OpSort.
func applySort(tx *txn, c *Command) Result {
	spec, _ := ParseSort(c.Args[1:], false) // checkSort: it parses
	store := spec.Store != nil
	out, found, err := sortKey(txnSort{tx}, c.Args[0], spec)
	if err != nil {
		return errResult(err)
	}
	if !store {
		res := make([]Result, len(out))
		for i, b := range out {
			if found[i] {
				res[i] = bulk(b)
			} else {
				res[i] = Result{Null: true}
			}
		}
		return Result{Array: res}
	}
	// The result replaces dst, a list (without a deadline), or deletes it
	// when empty; a missing GET value is stored as "".
	if len(out) == 0 {
		if _, err := tx.del(spec.Store); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	l := tx.newColl(spec.Store, typeList, 0)
	for i, b := range out {
		tx.putElem(l, position(l.head+uint64(i)), b)
	}
	l.size = int64(len(out))
	if err := tx.saveColl(l); err != nil {
		return errResult(err)
	}
	return Result{Int: l.size}
}
