package kv

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

	// Strings. Every data op treats a key whose deadline is at or before
	// the command's Now as absent. The Int and Args conventions of each are
	// documented next to its apply function.
	OpMSetNX      Op = 9  // Args: key, value...; Result.Int 1 if all were set
	OpGetDel      Op = 10 // Args: key; Result.Value or Null
	OpGetEx       Op = 11 // Args: key; Int: getEx* flags; ExpireAt
	OpAppend      Op = 12 // Args: key, suffix, max length
	OpSetRange    Op = 13 // Args: key, value, max length; Int: offset
	OpSetBit      Op = 14 // Args: key, bit ("0"/"1"); Int: bit offset
	OpIncrByFloat Op = 15 // Args: key, increment (as the client sent it)

	// Keyspace.
	OpRename Op = 16 // Args: src, dst; Int: 1 for RENAMENX
	OpCopy   Op = 17 // Args: src, dst, [target database, one byte]; Int: 1 to REPLACE
	OpFlush  Op = 18 // no args; Int 0: deletes every key of every database, 1: of the command's DB

	// Expiry.
	OpPExpireAt Op = 19 // Args: key; Int: deadline (Unix ms); ExpireAt unused; Args[1]: condition flags
	OpPersist   Op = 20 // Args: key
	// OpExpire deletes each key that is still expired at Now: the leader's
	// active expiry. Args: keys. Result.Int: keys deleted.
	OpExpire Op = 21

	// Transactions (multi.go).
	// OpMulti is a MULTI/EXEC transaction: Args[0] the watched keys and
	// the versions WATCH saw (EncodeWatches), Args[1:] the queued commands,
	// each encoded by Command.Encode. Result.Array: one Result per command;
	// Result.Null when a watched key changed (nothing applied).
	OpMulti Op = 22
	// OpLookup reads keys inside a transaction. Args: keys. Result.Int:
	// the time it read at; Result.Array: per key, the stored value (see
	// LookupView) or Null.
	OpLookup Op = 23

	// OpLeave is RAFT.LEAVE's: it removes server Args[0] from the address
	// book and records that RAFT.LEAVE removed it at Now (LeftAt), so that
	// whichever node leads holds it out while it shuts down.
	OpLeave Op = 24

	// OpSecret records the cluster's node secret (secret.go), unless one is
	// recorded already. Args: the secret.
	OpSecret Op = 25

	// Databases (SELECT). OpMove moves key Args[0] from the command's
	// database to database Int, unless it exists there. Result.Int: 1 if
	// moved.
	OpMove Op = 26
	// OpSwapDB swaps databases Args[0][0] and Args[1][0] (one byte each):
	// every record of the two is rewritten in the other, in this entry.
	OpSwapDB Op = 27

	// OpSetShards stores a sharded cluster's shard map (shards.go) when its
	// epoch follows the stored one's. Args: the map (EncodeShardMap). Only
	// the metadata group's leader proposes it. Ops 28-99 are the
	// collection families'.
	OpSetShards Op = 100
)

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	for _, fam := range familyOps {
		if d, ok := fam[o]; ok {
			return d.name
		}
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

var opNames = map[Op]string{
	OpNoop: "noop", OpSet: "set", OpDel: "del", OpIncrBy: "incrby", OpMSet: "mset",
	OpSetMember: "setmember", OpDelMember: "delmember", OpPruneRequests: "prunerequests",
	OpMSetNX: "msetnx", OpGetDel: "getdel", OpGetEx: "getex", OpAppend: "append",
	OpSetRange: "setrange", OpSetBit: "setbit", OpIncrByFloat: "incrbyfloat",
	OpRename: "rename", OpCopy: "copy", OpFlush: "flush",
	OpPExpireAt: "pexpireat", OpPersist: "persist", OpExpire: "expire",
	OpMulti: "multi", OpLookup: "lookup", OpLeave: "leave", OpSecret: "secret",
	OpMove: "move", OpSwapDB: "swapdb", OpSetShards: "setshards",
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
	// Now is the proposer's clock (Unix milliseconds) when it built the
	// command. Apply uses it, never the local clock, to decide which keys
	// have expired: max(Now, the largest Now applied before) is the
	// command's time, so time never runs backwards along the log. 0 (an
	// entry from before Now existed) means the time of the previous entry.
	Now int64
	// ClientID and Seq identify a request that may be retried (a forwarded
	// write). The state machine applies each (ClientID, Seq) at most once
	// and answers a repeat with the first outcome. ClientID 0: no ID.
	ClientID uint64
	Seq      uint64
	// DB is the database (SELECT's index) the command's keys are in.
	// Entries written before databases existed decode as 0.
	DB uint8
}

// Log entry encoding, version 1:
//
//	version  byte  (1)
//	op       byte
//	flags    byte  (bit 0: Int present, bit 1: ExpireAt present,
//	                bit 2: request ID present, bit 3: Now present)
//	[Int      varint]
//	[ExpireAt varint]
//	[ClientID uvarint, Seq uvarint]
//	[Now      varint]
//	[DB       byte]
//	nargs    uvarint
//	nargs x (len uvarint, bytes)
//
// Bit 3 was added after the first release, bit 4 (DB present, for a DB
// other than 0) with SELECT; entries written before them have the bits
// clear and decode with Now 0 and DB 0.
const (
	encodingV1   = 1
	flagInt      = 1 << 0
	flagExpireAt = 1 << 1
	flagRequest  = 1 << 2
	flagNow      = 1 << 3
	flagDB       = 1 << 4
	knownFlags   = flagInt | flagExpireAt | flagRequest | flagNow | flagDB
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
	if c.Now != 0 {
		flags |= flagNow
	}
	if c.DB != 0 {
		flags |= flagDB
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
	if c.Now != 0 {
		dst = binary.AppendVarint(dst, c.Now)
	}
	if c.DB != 0 {
		dst = append(dst, c.DB)
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
	return c.AppendEncode(make([]byte, 0, c.EncodedSize()))
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
	if flags&flagNow != 0 {
		if c.Now, n = binary.Varint(p); n <= 0 {
			return c, fmt.Errorf("%w: bad now", ErrBadEntry)
		}
		p = p[n:]
	}
	if flags&flagDB != 0 {
		if len(p) == 0 || p[0] == 0 {
			return c, fmt.Errorf("%w: bad db", ErrBadEntry)
		}
		c.DB, p = p[0], p[1:]
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

// A batch entry carries several commands proposed together (one pipeline's
// writes, or the writes another node forwarded in one read), applied in
// order as one raft entry, so raft's per-entry costs (the log store,
// replication, futures) are paid once for all of them. Every command in it
// is applied at the entry's index.
//
//	version  byte  (2)
//	count    uvarint (at least 2)
//	count x (len uvarint, a command as AppendEncode writes it)
const encodingBatch = 2

// AppendEncodeBatch appends the batch entry of cs to dst.
func AppendEncodeBatch(dst []byte, cs []*Command) []byte {
	dst = AppendBatchHead(dst, len(cs))
	var one []byte
	for _, c := range cs {
		one = c.AppendEncode(one[:0])
		dst = AppendBatchItem(dst, one)
	}
	return dst
}

// AppendBatchHead appends the start of a batch entry of n commands, each
// to be appended by AppendBatchItem (raftkv's proposer builds batch
// entries; FSM.ApplyBatch applies them).
func AppendBatchHead(dst []byte, n int) []byte {
	return binary.AppendUvarint(append(dst, encodingBatch), uint64(n))
}

// AppendBatchItem appends one encoded command to a batch entry.
func AppendBatchItem(dst, enc []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(enc))), enc...)
}

// isBatch reports whether a log entry's data is a batch entry.
func isBatch(data []byte) bool { return len(data) > 0 && data[0] == encodingBatch }

// decodeBatch returns the encoded commands of a batch entry, which alias
// data. Each is decoded by DecodeCommand.
func decodeBatch(data []byte) ([][]byte, error) {
	if !isBatch(data) {
		return nil, fmt.Errorf("%w: not a batch", ErrBadEntry)
	}
	p := data[1:]
	count, n := binary.Uvarint(p)
	if n <= 0 || count < 2 || count > uint64(len(p)) {
		return nil, fmt.Errorf("%w: bad batch count", ErrBadEntry)
	}
	p = p[n:]
	cmds := make([][]byte, count)
	for i := range cmds {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return nil, fmt.Errorf("%w: bad batch command %d", ErrBadEntry, i)
		}
		cmds[i] = p[n : n+int(l) : n+int(l)]
		p = p[n+int(l):]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after batch", ErrBadEntry, len(p))
	}
	return cmds, nil
}

// EncodedSize is about the size of c's encoding (at least it), for
// sizing buffers and entries before encoding.
func (c *Command) EncodedSize() int {
	n := 4 + 4*binary.MaxVarintLen64 + binary.MaxVarintLen32
	for _, a := range c.Args {
		n += len(a) + binary.MaxVarintLen32
	}
	return n
}
