package raftkv

import (
	"encoding/binary"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// Transactions. A MULTI/EXEC transaction is one log entry, OpMulti, that
// holds every queued command; applying it applies them one after the other
// in the entry's txn, at the entry's time, so on every replica the whole
// transaction is in one storage batch and nothing runs between its
// commands. A command's operation error (INCR of a non-integer) is its own
// Result; the others still apply, as in Redis.
//
// WATCH is optimistic: every value records the raft index of the entry
// that last wrote it (its version, see keys.go). WATCH reads each key's
// version and liveness through a linearizable read; the OpMulti entry
// carries them, and applying it first compares them with the keys' state at
// the entry's time. If any differs (the key was written, deleted, renamed
// over, or has expired since), nothing is applied and the Result is Null.
//
// Reads queued in a transaction are OpLookup commands inside the entry:
// they return the stored values at that point of the transaction, and the
// RESP layer formats the reply from them (LookupView), so the reads are as
// linearizable as the writes around them.

// Watch is a watched key and what WATCH saw: whether the key was live and,
// if so, its version.
type Watch struct {
	Key     []byte
	Live    bool
	Version uint64
}

// EncodeWatches encodes watches for Args[0] of OpMulti: for each, the key
// (uvarint length + bytes), a live byte (0 or 1) and the version (uvarint).
func EncodeWatches(ws []Watch) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		live := byte(0)
		if w.Live {
			live = 1
		}
		b = append(b, live)
		b = binary.AppendUvarint(b, w.Version)
	}
	return b
}

// decodeWatches decodes what EncodeWatches wrote.
func decodeWatches(b []byte) ([]Watch, error) {
	var ws []Watch
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || l >= uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad watched key", ErrBadEntry)
		}
		w := Watch{Key: b[n : n+int(l)]}
		b = b[n+int(l):]
		switch b[0] {
		case 0:
		case 1:
			w.Live = true
		default:
			return nil, fmt.Errorf("%w: bad watch flag %d", ErrBadEntry, b[0])
		}
		b = b[1:]
		if w.Version, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: bad watched version", ErrBadEntry)
		}
		b = b[n:]
		ws = append(ws, w)
	}
	return ws, nil
}

// NewMulti returns the OpMulti command of a transaction: the watches and
// the queued commands, in order. The commands must not carry request IDs
// (the transaction as a whole may) and must not be transactions.
func NewMulti(watches []Watch, cmds []*Command) *Command {
	args := make([][]byte, 0, 1+len(cmds))
	args = append(args, EncodeWatches(watches))
	for _, c := range cmds {
		args = append(args, c.Encode())
	}
	return &Command{Op: OpMulti, Args: args}
}

// WatchOf returns what WATCH records for key, given what a read found
// (info, live).
func WatchOf(key []byte, info KeyInfo, live bool) Watch {
	w := Watch{Key: append([]byte(nil), key...), Live: live}
	if live {
		w.Version = info.Version
	}
	return w
}

// applyMulti: see OpMulti. A malformed entry (a command that does not
// decode, a nested transaction, a request ID inside) is rejected whole
// before anything is applied.
func applyMulti(tx *txn, c *Command) Result {
	if len(c.Args) < 1 {
		return argError(c, "watches and commands")
	}
	watches, err := decodeWatches(c.Args[0])
	if err != nil {
		return errResult(err)
	}
	cmds := make([]Command, len(c.Args)-1)
	for i, raw := range c.Args[1:] {
		sub, err := DecodeCommand(raw)
		if err != nil {
			return errResult(err)
		}
		if sub.Op == OpMulti || sub.ClientID != 0 {
			return errResult(fmt.Errorf("%w: %s inside a transaction", ErrBadEntry, sub.Op))
		}
		cmds[i] = sub
	}
	for _, w := range watches {
		v, ok, err := tx.load(w.Key)
		if err != nil {
			return errResult(err)
		}
		live := ok && !v.expired(tx.now)
		if live != w.Live || (live && v.version != w.Version) {
			return Result{Null: true} // a watched key changed: EXEC aborts
		}
	}
	res := make([]Result, len(cmds))
	for i := range cmds {
		sub := &cmds[i]
		// Every command runs at the transaction's time, whatever its Now.
		fn, ok := ops[sub.Op]
		if !ok {
			res[i] = errResult(fmt.Errorf("%w: %s", ErrUnknownOp, sub.Op))
			continue
		}
		res[i] = fn(tx, sub)
	}
	return Result{Array: res}
}

// applyLookup: Args keys. Result.Int: the time of the read; Result.Array:
// for each key, Value the stored value if the key is live, else Null. It
// writes nothing (an expired key is left for active expiry).
func applyLookup(tx *txn, c *Command) Result {
	res := make([]Result, len(c.Args))
	for i, k := range c.Args {
		raw, ok, err := tx.getRaw(dataKey(k))
		if err != nil {
			return errResult(err)
		}
		if ok {
			v, err := decodeValue(raw)
			if err != nil {
				return errResult(err)
			}
			ok = !v.expired(tx.now)
		}
		if ok {
			res[i] = bulk(raw)
		} else {
			res[i] = Result{Null: true}
		}
	}
	return Result{Int: tx.now, Array: res}
}

// LookupView returns a View of the keys an OpLookup read, as the lookup
// saw them (r is its Result), at the lookup's time: a read through it
// answers as a read of the state machine at that point of the transaction
// would. Keys the lookup did not read are absent; scans see nothing.
func LookupView(keys [][]byte, r Result) (*View, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.Array) != len(keys) {
		return nil, fmt.Errorf("%w: lookup of %d keys returned %d values", ErrBadEntry, len(keys), len(r.Array))
	}
	m := make(mapReader, len(keys))
	for i, k := range keys {
		if !r.Array[i].Null {
			m[string(dataKey(k))] = r.Array[i].Value
		}
	}
	return &View{r: m, floor: r.Int}, nil
}

// mapReader is a storage.Reader over a few keys, without iteration.
type mapReader map[string][]byte

func (m mapReader) Get(k []byte) ([]byte, error) {
	v, ok := m[string(k)]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (m mapReader) NewIterator(storage.Range) storage.Iterator { return emptyIterator{} }

type emptyIterator struct{}

func (emptyIterator) Next() bool    { return false }
func (emptyIterator) Key() []byte   { return nil }
func (emptyIterator) Value() []byte { return nil }
func (emptyIterator) Err() error    { return nil }
func (emptyIterator) Close() error  { return nil }
