package kv

import (
	"bytes"
	"fmt"
)

// Validation. Every command is checked by Validate twice (the apply
// functions rely on it: they do not check their arguments again): when it is
// proposed (raftkv.Node.Propose, ProposeBatch, Apply: a bad command never reaches
// the log) and again when it is applied (applyCommand: an entry that got
// into the log anyway, from an older or a misbehaving node, gets the same
// error Result on every replica and changes nothing). The rules depend on
// the command alone, never on runtime settings, so every replica reaches
// the same verdict.
//
// The hard limits bound what one small entry can make a replica allocate:
// a string never grows past MaxStringBytes, whatever limit the entry
// carries (a node's proto-max-bulk-len can never be set above it).

// MaxStringBytes is the largest string value a command may create: Redis's
// default proto-max-bulk-len, 512 MiB. APPEND and SETRANGE answer
// ErrTooLong past it, SETBIT refuses offsets at or past 8*MaxStringBytes.
const MaxStringBytes = 512 << 20

// MaxClockAhead is how far ahead of the leader's own clock the Now of a
// proposed command may be. The leader lowers a later Now to its clock plus
// this allowance, so that no other node's clock (or a forged entry) can move
// the state machine's time, and with it every key's expiry, further ahead.
const MaxClockAhead = 1000 // ms

// argSpec is how many arguments an op takes: at least min, at most max
// (-1: no upper bound), and pairs when they must come in twos.
type argSpec struct {
	min, max int
	pairs    bool
}

var opArgs = withFamilies(map[Op]argSpec{
	OpNoop: {0, 0, false}, OpSet: {2, 2, false}, OpDel: {1, -1, false},
	OpIncrBy: {1, 1, false}, OpMSet: {2, -1, true}, OpSetMember: {3, 3, false},
	OpDelMember: {1, 1, false}, OpPruneRequests: {0, 0, false},
	OpMSetNX: {2, -1, true}, OpGetDel: {1, 1, false}, OpGetEx: {1, 1, false},
	OpAppend: {3, 3, false}, OpSetRange: {3, 3, false}, OpSetBit: {2, 2, false},
	OpIncrByFloat: {2, 2, false}, OpRename: {2, 2, false}, OpCopy: {2, 3, false},
	OpFlush: {0, 0, false}, OpPExpireAt: {1, 2, false}, OpPersist: {1, 1, false},
	OpExpire: {0, -1, false}, OpMulti: {1, -1, false}, OpLookup: {0, -1, false},
	OpLeave: {1, 1, false}, OpSecret: {1, 1, false},
	OpMove: {1, 1, false}, OpSwapDB: {2, 2, false}, OpSetShards: {1, 1, false},
}, func(d opDef) argSpec { return d.args })

// withFamilies returns m with an entry for every collection op, made by f.
func withFamilies[T any](m map[Op]T, f func(opDef) T) map[Op]T {
	for _, fam := range familyOps {
		for op, d := range fam {
			m[op] = f(d)
		}
	}
	return m
}

// clientOps are the operations a client command can produce (directly, or
// inside a transaction): the only ones another node may forward
// (RIOT.APPLY) and the only ones a transaction may hold. The rest (the
// address book, request pruning, active expiry, the read barrier) are
// proposed by the leader itself.
var clientOps = withFamilies(map[Op]bool{
	OpSet: true, OpDel: true, OpIncrBy: true, OpMSet: true, OpMSetNX: true,
	OpGetDel: true, OpGetEx: true, OpAppend: true, OpSetRange: true,
	OpSetBit: true, OpIncrByFloat: true, OpRename: true, OpCopy: true,
	OpFlush: true, OpPExpireAt: true, OpPersist: true, OpMulti: true,
	OpLookup: true, OpMove: true, OpSwapDB: true,
}, func(opDef) bool { return true })

// IsClientOp reports whether op is one a client command can produce.
func IsClientOp(op Op) bool { return clientOps[op] }

// badEntry is the error of a command that fails validation.
func badEntry(c *Command, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadEntry, c.Op, fmt.Sprintf(format, a...))
}

// Validate checks c against the rules every replica applies: a known op,
// its argument count, the ranges of its integer operands, and for a
// transaction, each command inside it. It reads no state and no setting.
func (c *Command) Validate() error {
	if err := c.validateOne(); err != nil {
		return err
	}
	if c.Op == OpMulti {
		_, _, err := decodeTransaction(c)
		return err
	}
	return nil
}

// decodeTransaction returns the watches and the commands of OpMulti c,
// each command checked as Validate checks one: a client operation, no
// nested transaction, no request ID.
func decodeTransaction(c *Command) ([]Watch, []Command, error) {
	watches, err := decodeWatches(c.Args[0])
	if err != nil {
		return nil, nil, err
	}
	cmds := make([]Command, len(c.Args)-1)
	for i, raw := range c.Args[1:] {
		sub, err := DecodeCommand(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("transaction command %d: %w", i, err)
		}
		if sub.Op == OpMulti || sub.ClientID != 0 || !clientOps[sub.Op] {
			return nil, nil, badEntry(c, "%s inside a transaction", sub.Op)
		}
		if err := sub.validateOne(); err != nil {
			return nil, nil, err
		}
		cmds[i] = sub
	}
	return watches, cmds, nil
}

// validateOne is Validate without looking inside a transaction.
func (c *Command) validateOne() error {
	spec, ok := opArgs[c.Op]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownOp, c.Op)
	}
	n := len(c.Args)
	if n < spec.min || (spec.max >= 0 && n > spec.max) || (spec.pairs && n%2 != 0) {
		return badEntry(c, "%d arguments", n)
	}
	if c.ClientID == 0 && c.Seq != 0 {
		return badEntry(c, "a sequence number without a client ID")
	}
	switch c.Op {
	case OpSet:
		if c.Int&^(SetNX|SetXX|SetGet|SetKeepTTL) != 0 {
			return badEntry(c, "options %#x", c.Int)
		}
	case OpGetEx:
		if c.Int&^(GetExPersist|GetExSet|GetExBadInt|GetExBadTime) != 0 {
			return badEntry(c, "options %#x", c.Int)
		}
	case OpAppend, OpSetRange:
		if _, ok := maxLenArg(c, 2); !ok {
			return badEntry(c, "a bad length limit")
		}
		if c.Op == OpSetRange && (c.Int < 0 || c.Int > MaxStringBytes) {
			return badEntry(c, "offset %d", c.Int)
		}
	case OpSetBit:
		if c.Int < 0 || c.Int>>3 >= MaxStringBytes {
			return badEntry(c, "bit offset %d", c.Int)
		}
		if b := c.Args[1]; len(b) != 1 || (b[0] != '0' && b[0] != '1') {
			return badEntry(c, "bit %q", b)
		}
	case OpRename, OpCopy, OpFlush:
		if c.Int != 0 && c.Int != 1 {
			return badEntry(c, "flag %d", c.Int)
		}
		if c.Op == OpCopy && n == 3 && len(c.Args[2]) != 1 {
			return badEntry(c, "a target database of %d bytes", len(c.Args[2]))
		}
		if c.Op == OpCopy && (n == 2 || c.Args[2][0] == c.DB) && bytes.Equal(c.Args[0], c.Args[1]) {
			return badEntry(c, "a copy of a key onto itself")
		}
	case OpMove:
		if c.Int < 0 || c.Int >= MaxDatabases || c.Int == int64(c.DB) {
			return badEntry(c, "target database %d", c.Int)
		}
	case OpSwapDB:
		if len(c.Args[0]) != 1 || len(c.Args[1]) != 1 {
			return badEntry(c, "database arguments of %d and %d bytes", len(c.Args[0]), len(c.Args[1]))
		}
	case OpPExpireAt:
		if n == 2 && len(c.Args[1]) != 1 {
			return badEntry(c, "a condition of %d bytes", len(c.Args[1]))
		}
	case OpSecret:
		if len(c.Args[0]) < minSecretBytes {
			return badEntry(c, "a secret of %d bytes", len(c.Args[0]))
		}
	case OpSetMember, OpLeave:
		if len(c.Args[0]) == 0 {
			return badEntry(c, "an empty server ID")
		}
	case OpSetShards:
		if _, err := DecodeShardMap(c.Args[0]); err != nil {
			return badEntry(c, "%v", err)
		}
	case OpPruneRequests:
		if c.Int < 0 {
			return badEntry(c, "cutoff %d", c.Int)
		}
	}
	for _, fam := range familyOps {
		if d, ok := fam[c.Op]; ok && d.check != nil {
			return d.check(c)
		}
	}
	return nil
}
