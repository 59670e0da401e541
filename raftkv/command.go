// Package raftkv replicates Commands through hashicorp/raft and applies them
// to a storage.Engine.
//
// The state machine (FSM) is durable: every raft batch becomes one atomic
// storage batch that also records the last applied raft index, so a restart
// skips entries the engine already holds instead of re-applying them (INCR is
// not idempotent). Anything non-deterministic (time, randomness) is decided
// before a Command is proposed and carried inside it.
package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Op names a state machine operation. Values are part of the log format:
// never renumber them.
type Op uint8

// Operations. Each is applied by the function registered for it in ops.go.
const (
	OpNoop   Op = 1 // no effect; used as the per-term read barrier
	OpSet    Op = 2 // Args: key, value
	OpDel    Op = 3 // Args: keys...; Result.Int = keys removed
	OpIncrBy Op = 4 // Args: key; Int: delta; Result.Int = new value
	OpMSet   Op = 5 // Args: key, value, key, value...
	// OpSetMember records a server's addresses in the address book.
	// Args: id, raft address, client (RESP) address.
	OpSetMember Op = 6
	// OpDelMember removes a server from the address book. Args: id.
	OpDelMember Op = 7
	// OpPruneRequests drops dedup records applied at or before index Int.
	OpPruneRequests Op = 8
)

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

var opNames = map[Op]string{
	OpNoop: "noop", OpSet: "set", OpDel: "del", OpIncrBy: "incrby", OpMSet: "mset",
	OpSetMember: "setmember", OpDelMember: "delmember", OpPruneRequests: "prunerequests",
}

// Command is one state machine operation, as proposed to raft. Everything
// Apply needs is in here: applying never reads the clock or local config.
type Command struct {
	Op   Op
	Args [][]byte
	// Int is the integer operand (the INCRBY delta).
	Int int64
	// ExpireAt is an absolute deadline in Unix milliseconds; 0 means none.
	ExpireAt int64
	// ClientID and Seq identify a request that may be retried (a forwarded
	// write). The state machine applies each (ClientID, Seq) at most once
	// and answers a repeat with the first outcome. ClientID 0: no ID.
	ClientID uint64
	Seq      uint64
}

// Log entry encoding, version 1:
//
//	version  byte  (1)
//	op       byte
//	flags    byte  (bit 0: Int present, bit 1: ExpireAt present,
//	                bit 2: request ID present)
//	[Int      varint]
//	[ExpireAt varint]
//	[ClientID uvarint, Seq uvarint]
//	nargs    uvarint
//	nargs x (len uvarint, bytes)
const (
	encodingV1   = 1
	flagInt      = 1 << 0
	flagExpireAt = 1 << 1
	flagRequest  = 1 << 2
	knownFlags   = flagInt | flagExpireAt | flagRequest
)

// ErrBadEntry is returned by DecodeCommand for data that is not a valid
// encoded Command.
var ErrBadEntry = errors.New("raftkv: malformed log entry")

// AppendEncode appends the encoding of c to dst and returns the result.
func (c *Command) AppendEncode(dst []byte) []byte {
	var flags byte
	if c.Int != 0 {
		flags |= flagInt
	}
	if c.ExpireAt != 0 {
		flags |= flagExpireAt
	}
	if c.ClientID != 0 {
		flags |= flagRequest
	}
	dst = append(dst, encodingV1, byte(c.Op), flags)
	if c.Int != 0 {
		dst = binary.AppendVarint(dst, c.Int)
	}
	if c.ExpireAt != 0 {
		dst = binary.AppendVarint(dst, c.ExpireAt)
	}
	if c.ClientID != 0 {
		dst = binary.AppendUvarint(dst, c.ClientID)
		dst = binary.AppendUvarint(dst, c.Seq)
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.Args)))
	for _, a := range c.Args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

// Encode returns the encoding of c.
func (c *Command) Encode() []byte {
	n := 16
	for _, a := range c.Args {
		n += len(a) + binary.MaxVarintLen32
	}
	return c.AppendEncode(make([]byte, 0, n))
}

// DecodeCommand decodes an entry written by Encode. The Args alias data.
func DecodeCommand(data []byte) (Command, error) {
	var c Command
	if len(data) < 3 {
		return c, fmt.Errorf("%w: %d bytes", ErrBadEntry, len(data))
	}
	if data[0] != encodingV1 {
		return c, fmt.Errorf("%w: unknown version %d", ErrBadEntry, data[0])
	}
	c.Op = Op(data[1])
	flags := data[2]
	if flags&^knownFlags != 0 {
		return c, fmt.Errorf("%w: unknown flags %#x", ErrBadEntry, flags)
	}
	p := data[3:]
	var n int
	if flags&flagInt != 0 {
		if c.Int, n = binary.Varint(p); n <= 0 {
			return c, fmt.Errorf("%w: bad int", ErrBadEntry)
		}
		p = p[n:]
	}
	if flags&flagExpireAt != 0 {
		if c.ExpireAt, n = binary.Varint(p); n <= 0 {
			return c, fmt.Errorf("%w: bad expiry", ErrBadEntry)
		}
		p = p[n:]
	}
	if flags&flagRequest != 0 {
		if c.ClientID, n = binary.Uvarint(p); n <= 0 || c.ClientID == 0 {
			return c, fmt.Errorf("%w: bad client id", ErrBadEntry)
		}
		p = p[n:]
		if c.Seq, n = binary.Uvarint(p); n <= 0 {
			return c, fmt.Errorf("%w: bad sequence", ErrBadEntry)
		}
		p = p[n:]
	}
	nargs, n := binary.Uvarint(p)
	if n <= 0 || nargs > uint64(len(p)) {
		return c, fmt.Errorf("%w: bad arg count", ErrBadEntry)
	}
	p = p[n:]
	c.Args = make([][]byte, nargs)
	for i := range c.Args {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return c, fmt.Errorf("%w: bad arg %d", ErrBadEntry, i)
		}
		c.Args[i] = p[n : n+int(l) : n+int(l)]
		p = p[n+int(l):]
	}
	if len(p) != 0 {
		return c, fmt.Errorf("%w: %d trailing bytes", ErrBadEntry, len(p))
	}
	return c, nil
}
