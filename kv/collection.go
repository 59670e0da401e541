package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/riotkv/riot/storage"
)

// Collections: hashes, sets, sorted sets and lists on a per-element
// layout (docs/design/0005-collections-layout.md). A collection is its
// metadata record, in the 'k' family as every key's (type, deadline,
// version; the payload is the collection's generation and size, and a
// list's head), and one record per element:
//
//	's' + db + slot + key length (4, BE) + key + gen (8, BE) + field ->
//	        hash: the field's value; set: empty; sorted set: the score
//	        (its IEEE 754 bits, 8 bytes BE); list: the element, its field
//	        the element's position (8 bytes BE, list.go)
//	'z' + db + slot + key length + key + gen + ordered score (8) + member ->
//	        empty: a sorted set's score index (see appendScore)
//
// gen is the raft index of the entry that created the collection: a
// collection deleted, expired or overwritten is one metadata record gone or
// replaced, whatever its size, and its elements, whose gen no metadata
// names any more, are unreachable until the sweeper (sweep.go) removes
// them. A key created again gets the index of the entry that re-creates it,
// a larger one; within one entry (a batch or a transaction applies several
// commands at one index) a collection created, deleted and created again
// reuses the gen, so newColl first deletes what the earlier one wrote (all
// of it in the entry's overlay, see txn.purgeGen).
const (
	prefixElem  = 's'
	prefixScore = 'z'
)

// Exported type values, for the RESP layer.
const (
	TypeString = Type(typeString)
	TypeHash   = Type(typeHash)
	TypeSet    = Type(typeSet)
	TypeZSet   = Type(typeZSet)
	TypeList   = Type(typeList)
)

// isCollection reports whether values of type typ are collections.
func isCollection(typ byte) bool {
	return typ == typeHash || typ == typeSet || typ == typeZSet || typ == typeList
}

// The length of a collection's metadata payload: gen and size, 8 bytes
// each, big-endian; a list's adds its head, the position of its first
// element (8 bytes, big-endian; list.go).
const (
	collPayload = 16
	listPayload = 24
)

func payloadLen(typ byte) int {
	if typ == typeList {
		return listPayload
	}
	return collPayload
}

func encodeColl(typ byte, gen uint64, size int64, head uint64) []byte {
	b := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, listPayload), gen), uint64(size))
	if typ == typeList {
		b = binary.BigEndian.AppendUint64(b, head)
	}
	return b
}

// decodeColl decodes the metadata payload of a collection of type typ;
// head is 0 but for a list.
func decodeColl(typ byte, data []byte) (gen uint64, size int64, head uint64, err error) {
	if len(data) != payloadLen(typ) {
		return 0, 0, 0, fmt.Errorf("raftkv: collection metadata of %d bytes", len(data))
	}
	gen, size = binary.BigEndian.Uint64(data), int64(binary.BigEndian.Uint64(data[8:]))
	if gen == 0 || size <= 0 {
		return 0, 0, 0, fmt.Errorf("raftkv: collection metadata gen %d size %d", gen, size)
	}
	if typ == typeList {
		head = binary.BigEndian.Uint64(data[16:])
	}
	return gen, size, head, nil
}

// collGen returns the generation collection value v names (0 for
// another type or a payload too short to hold one).
func collGen(v value) uint64 {
	if !isCollection(v.typ) || len(v.data) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v.data)
}

// appendElemBase appends the start of every element record of collection
// (db, key, gen) in family to b.
func appendElemBase(b []byte, family byte, db uint8, key []byte, gen uint64) []byte {
	b = append(b, family, db)
	b = binary.BigEndian.AppendUint16(b, Slot(key))
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	return binary.BigEndian.AppendUint64(b, gen)
}

// elemHead is the length of an element key before the user key: family,
// db, slot, key length.
const elemHead = 8

// splitElemKey returns the database, user key and generation of element
// record k (of either family), and what follows them.
func splitElemKey(k []byte) (db uint8, key []byte, gen uint64, rest []byte, ok bool) {
	if len(k) < elemHead+8 || (k[0] != prefixElem && k[0] != prefixScore) {
		return 0, nil, 0, nil, false
	}
	n := int(binary.BigEndian.Uint32(k[4:8]))
	if n > len(k)-elemHead-8 {
		return 0, nil, 0, nil, false
	}
	key = k[elemHead : elemHead+n]
	return k[1], key, binary.BigEndian.Uint64(k[elemHead+n:]), k[elemHead+n+8:], true
}

// appendScore appends f encoded so that byte order is numeric order: the
// IEEE 754 bits with the sign bit flipped for positive numbers and every bit
// flipped for negative ones; -0 is encoded as +0. f is never NaN (scores are
// refused when parsed).
func appendScore(b []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 sorts with +0
	}
	u := math.Float64bits(f)
	if u>>63 == 0 {
		u |= 1 << 63
	} else {
		u = ^u
	}
	return binary.BigEndian.AppendUint64(b, u)
}

// decodeScoreKey is appendScore's inverse.
func decodeScoreKey(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u>>63 == 1 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

// scoreBits and scoreOf are a score's form in an 's' record: its bits (the
// sorted set ops store -0 as 0, see normScore in zset.go).
func scoreBits(f float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)) }

func scoreOf(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("raftkv: score of %d bytes", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// Coll is a live hash, set, sorted set or list, read through a View or, inside
// apply, through the entry's transaction.
type Coll struct {
	r    storage.Reader
	db   uint8
	key  []byte
	meta value // the metadata record: type, deadline, version
	gen  uint64
	size int64
	// head is a list's position of its first element (list.go).
	head uint64
	// created: not in the store before this apply (newColl).
	created bool
}

// Type returns the collection's type.
func (c *Coll) Type() Type { return Type(c.meta.typ) }

// Len returns the number of elements.
func (c *Coll) Len() int64 { return c.size }

// Key returns the collection's user key.
func (c *Coll) Key() []byte { return c.key }

func (c *Coll) base(family byte) []byte {
	return appendElemBase(make([]byte, 0, elemHead+len(c.key)+8+16), family, c.db, c.key, c.gen)
}

func (c *Coll) elemKey(field []byte) []byte { return append(c.base(prefixElem), field...) }

func (c *Coll) scoreKey(score float64, member []byte) []byte {
	return append(appendScore(c.base(prefixScore), score), member...)
}

// Get returns the element field's value: a hash field's value, an empty
// value for a set member, a sorted set member's score bits (see Score).
func (c *Coll) Get(field []byte) ([]byte, bool, error) {
	v, err := c.r.Get(c.elemKey(field))
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("raftkv: element of %q: %w", c.key, err)
	}
	return v, true, nil
}

// Has reports whether field (a member) is in the collection.
func (c *Coll) Has(field []byte) (bool, error) {
	_, ok, err := c.Get(field)
	return ok, err
}

// Score returns the score of a sorted set's member.
func (c *Coll) Score(member []byte) (float64, bool, error) {
	b, ok, err := c.Get(member)
	if !ok || err != nil {
		return 0, false, err
	}
	f, err := scoreOf(b)
	return f, err == nil, err
}

// Scan calls fn for each element in field order (reverse: descending),
// starting at field from (nil: the first; reverse: the last), until fn
// returns false. field and value are valid only during the call.
func (c *Coll) Scan(from []byte, reverse bool, fn func(field, value []byte) bool) error {
	base := c.base(prefixElem)
	r := storage.PrefixRange(base)
	r.Reverse = reverse
	if from != nil {
		if reverse {
			r.Limit = append(append(base[:len(base):len(base)], from...), 0)
		} else {
			r.Start = append(base[:len(base):len(base)], from...)
		}
	}
	return c.iterate(r, func(k, v []byte) bool { return fn(k[len(base):], v) })
}

// ScanScores calls fn for each member of a sorted set in score order
// (members of equal score in byte order; reverse: all descending), from
// score from (nil: the first; a score's members are all visited), until
// fn returns false.
func (c *Coll) ScanScores(from *float64, reverse bool, fn func(score float64, member []byte) bool) error {
	base := c.base(prefixScore)
	r := storage.PrefixRange(base)
	r.Reverse = reverse
	if from != nil {
		b := appendScore(base[:len(base):len(base)], *from)
		if reverse {
			r.Limit = storage.PrefixRange(b).Limit
		} else {
			r.Start = b
		}
	}
	return c.iterate(r, func(k, _ []byte) bool {
		rest := k[len(base):]
		return fn(decodeScoreKey(rest[:8]), rest[8:])
	})
}

// ScoreRank returns how many members come before (score, member) in score
// order: the member's rank when it is in the set. It counts them: O(rank).
func (c *Coll) ScoreRank(score float64, member []byte) (int64, error) {
	base := c.base(prefixScore)
	r := storage.Range{Start: base, Limit: append(appendScore(base[:len(base):len(base)], score), member...)}
	var n int64
	err := c.iterate(r, func(_, _ []byte) bool { n++; return true })
	return n, err
}

func (c *Coll) iterate(r storage.Range, fn func(k, v []byte) bool) error {
	it := c.r.NewIterator(r)
	for it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("raftkv: elements of %q: %w", c.key, err)
	}
	return nil
}

// collFrom returns the collection whose metadata is v.
func collFrom(r storage.Reader, db uint8, key []byte, v value) (*Coll, error) {
	gen, size, head, err := decodeColl(v.typ, v.data)
	if err != nil {
		return nil, err
	}
	return &Coll{r: r, db: db, key: key, meta: v, gen: gen, size: size, head: head}, nil
}

// Collection returns key's live collection of type t at now; ok is false
// when the key does not exist, err ErrWrongType when it holds another type.
func (v *View) Collection(key []byte, now int64, t Type) (*Coll, bool, error) {
	dv, ok, err := v.lookup(key, now)
	if !ok || err != nil {
		return nil, false, err
	}
	if dv.typ != byte(t) {
		return nil, false, ErrWrongType
	}
	c, err := collFrom(v.r, v.db, key, dv)
	return c, err == nil, err
}

// getColl returns key's live collection of type typ, read through the
// transaction: ErrWrongType when the key holds another type.
func (t *txn) getColl(key []byte, typ byte) (*Coll, bool, error) {
	v, ok, err := t.get(key)
	if !ok || err != nil {
		return nil, false, err
	}
	if v.typ != typ {
		return nil, false, ErrWrongType
	}
	c, err := t.collOf(t.db, key, v)
	return c, err == nil, err
}

// collOf returns the collection whose metadata, at key in database db, is
// v, read through the transaction; metadata that does not decode is a
// fault.
func (t *txn) collOf(db uint8, key []byte, v value) (*Coll, error) {
	c, err := collFrom(t.reader(), db, key, v)
	if err != nil {
		return nil, t.failf("metadata of %q: %w", key, err)
	}
	return c, nil
}

// getOrNewColl returns key's live collection of type typ, or a new empty
// one (stored by saveColl once it has elements).
func (t *txn) getOrNewColl(key []byte, typ byte) (*Coll, error) {
	c, ok, err := t.getColl(key, typ)
	if err != nil || ok {
		return c, err
	}
	return t.newColl(key, typ, 0), nil
}

// newColl returns a new, empty collection of type typ at key in tx.db with
// deadline expireAt, of generation tx.index. Its metadata is written by
// saveColl. Whatever key holds is replaced when it is.
func (t *txn) newColl(key []byte, typ byte, expireAt int64) *Coll {
	if t.created == nil {
		t.created = make(map[string]uint64)
	}
	k := volKey(t.db, key)
	if t.created[k] == t.index {
		// Created before at this index (and deleted or replaced since, or
		// replaced now): its elements carry the same gen.
		t.purgeGen(key, t.index)
	}
	t.created[k] = t.index
	c := &Coll{r: t.reader(), db: t.db, key: bytes.Clone(key), meta: value{typ: typ, expireAt: expireAt}, gen: t.index, created: true}
	if typ == typeList {
		c.head = listStart
	}
	return c
}

// purgeGen deletes the element records of collection (tx.db, key, gen)
// that this transaction wrote: all of them, when gen is the index being
// applied (nothing at that index is in the engine yet).
func (t *txn) purgeGen(key []byte, gen uint64) {
	var doomed []string
	for _, family := range []byte{prefixElem, prefixScore} {
		base := string(appendElemBase(nil, family, t.db, key, gen))
		for k, v := range t.overlay {
			if v != nil && len(k) >= len(base) && k[:len(base)] == base {
				doomed = append(doomed, k)
			}
		}
	}
	slices.Sort(doomed) // the batch is the same on every replica
	for _, k := range doomed {
		t.delRaw([]byte(k))
	}
}

// putElem sets element field of c to val (adjust c's size with the
// result: true if the field is new).
func (t *txn) putElem(c *Coll, field, val []byte) {
	t.putRaw(c.elemKey(field), val)
}

// delElem deletes element field of c.
func (t *txn) delElem(c *Coll, field []byte) { t.delRaw(c.elemKey(field)) }

// putMember sets a sorted set member's score (old: its score before, if
// had), keeping the score index in step.
func (t *txn) putMember(c *Coll, member []byte, score float64, old float64, had bool) {
	if had {
		if math.Float64bits(old) == math.Float64bits(score) {
			return
		}
		t.delRaw(c.scoreKey(old, member))
	}
	t.putRaw(c.elemKey(member), scoreBits(score))
	t.putRaw(c.scoreKey(score, member), nil)
}

// delMember deletes a sorted set member whose score is score.
func (t *txn) delMember(c *Coll, member []byte, score float64) {
	t.delRaw(c.elemKey(member))
	t.delRaw(c.scoreKey(score, member))
}

// saveColl writes c's metadata: its size and a new version (WATCH sees
// the change). A collection left empty is deleted, as Redis deletes empty
// collections.
func (t *txn) saveColl(c *Coll) error {
	if c.size <= 0 {
		if !c.created {
			_, err := t.del(c.key)
			return err
		}
		return nil
	}
	c.meta.data = encodeColl(c.meta.typ, c.gen, c.size, c.head)
	return t.put(c.key, c.meta)
}

// collElems is every element record of a collection: the 's' family's
// fields and values (the 'z' records follow from a sorted set's scores).
type collElems struct {
	fields, values [][]byte
}

// loadElems reads every element of c.
func loadElems(c *Coll) (collElems, error) {
	var e collElems
	err := c.Scan(nil, false, func(f, v []byte) bool {
		e.fields = append(e.fields, bytes.Clone(f))
		e.values = append(e.values, bytes.Clone(v))
		return true
	})
	return e, err
}

// putLoaded writes collection value v (its metadata as stored) and its
// elements e at key in tx.db, as a new collection: the copy made by
// RENAME, COPY, MOVE and SWAPDB. A list keeps its head, so that the
// positions its elements are stored at still count from it.
func (t *txn) putLoaded(key []byte, v value, e collElems) error {
	c := t.newColl(key, v.typ, v.expireAt)
	if v.typ == typeList {
		_, _, head, err := decodeColl(v.typ, v.data)
		if err != nil {
			return t.failf("metadata of %q: %w", key, err)
		}
		c.head = head
	}
	for i, f := range e.fields {
		t.putElem(c, f, e.values[i])
		if v.typ == typeZSet {
			score, err := scoreOf(e.values[i])
			if err != nil {
				return t.failf("score of %q in %q: %w", f, key, err)
			}
			t.putRaw(c.scoreKey(score, f), nil)
		}
	}
	c.size = int64(len(e.fields))
	if c.size == 0 {
		return t.failf("collection %q without elements", key)
	}
	return t.saveColl(c)
}

// copyValue writes the live value v of key src (in database srcDB) at key
// dst in tx.db: a string as it is, a collection with its elements under a
// new generation.
func (t *txn) copyValue(srcDB uint8, src []byte, v value, dst []byte) error {
	if !isCollection(v.typ) {
		return t.put(dst, v)
	}
	c, err := t.collOf(srcDB, src, v)
	if err != nil {
		return err
	}
	e, err := loadElems(c)
	if err != nil {
		return t.failf("%w", err)
	}
	return t.putLoaded(dst, v, e)
}

// DecodeScore returns the score an element of a sorted set holds (the
// value Coll.Scan gives).
func DecodeScore(b []byte) (float64, error) { return scoreOf(b) }
