package kv

// applyFunc applies one command inside a transaction; c has passed
// Validate (its argument count and operands are as the op needs). It must
// be deterministic: no clock, no randomness, no map iteration, no local
// config.
type applyFunc func(tx *txn, c *Command) Result

// opDef is an op of a collection family (hash.go, set.go, zset.go), each
// family's table in its file: how it applies, its argument count, and the
// checks of its operands Validate makes (nil: none). Every one is a client
// op.
type opDef struct {
	name  string // for logs: Op.String
	apply applyFunc
	args  argSpec
	check func(c *Command) error
}

// familyOps are the collection families' op tables.
var familyOps = []map[Op]opDef{hashOps, setOps, zsetOps, zsetStoreOps, listOps, bitOps, sortOps}

// ops is the state machine's op table, built once: baseOps and the
// families'.
var ops = func() map[Op]applyFunc {
	m := make(map[Op]applyFunc, len(baseOps))
	for op, f := range baseOps {
		m[op] = f
	}
	for _, fam := range familyOps {
		for op, d := range fam {
			m[op] = d.apply
		}
	}
	return m
}()

// baseOps are the ops of strings, keys, expiry, transactions and the
// cluster's own records.
var baseOps = map[Op]applyFunc{
	OpNoop: func(*txn, *Command) Result { return Result{} },

	// strings (strings.go)
	OpSet:         applySet,
	OpIncrBy:      applyIncrBy,
	OpMSet:        applyMSet,
	OpMSetNX:      applyMSetNX,
	OpGetDel:      applyGetDel,
	OpGetEx:       applyGetEx,
	OpAppend:      applyAppend,
	OpSetRange:    applySetRange,
	OpSetBit:      applySetBit,
	OpIncrByFloat: applyIncrByFloat,

	// keyspace (keyspace.go)
	OpDel:    applyDel,
	OpRename: applyRename,
	OpCopy:   applyCopy,
	OpFlush:  applyFlush,
	OpMove:   applyMove,
	OpSwapDB: applySwapDB,

	// expiry (expire.go)
	OpPExpireAt: applyPExpireAt,
	OpPersist:   applyPersist,
	OpExpire:    applyExpire,

	// transactions (multi.go); OpMulti is applied by applyCommand, as it
	// applies other ops from this table.
	OpLookup: applyLookup,

	OpSetMember:     applySetMember,
	OpDelMember:     applyDelMember,
	OpLeave:         applyLeave,
	OpSetShards:     applySetShards,
	OpPruneRequests: applyPruneRequests,
	OpSecret:        applySecret,
}

// errResult is the Result of an operation that failed with err.
func errResult(err error) Result { return Result{Err: err} }

// bulk returns b as a Result value: never nil, so that an empty string is
// not taken for "no value".
func bulk(b []byte) Result {
	if b == nil {
		b = []byte{}
	}
	return Result{Value: b}
}

const (
	maxInt64 = 1<<63 - 1
	minInt64 = -1 << 63
)

// ParseInt parses b the way Redis parses an integer argument or value: an
// optional '-', digits, no leading zeros, no spaces or '+', and within int64.
func ParseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrNotInteger
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, nil
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, ErrNotInteger
	}
	var u uint64
	for _, ch := range d {
		if ch < '0' || ch > '9' {
			return 0, ErrNotInteger
		}
		// u*10+9 must not wrap: past (1<<63)/10 the result is out of
		// range anyway. (Bounding by MaxUint64/10 let 20-digit inputs
		// such as "18446744073709551619" wrap around to small values.)
		if u > (1<<63)/10 {
			return 0, ErrNotInteger
		}
		u = u*10 + uint64(ch-'0')
		if u > 1<<63 {
			return 0, ErrNotInteger
		}
	}
	if neg {
		return -int64(u-1) - 1, nil
	}
	if u > maxInt64 {
		return 0, ErrNotInteger
	}
	return int64(u), nil
}
