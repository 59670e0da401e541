package kv

import (
	"encoding/binary"
	"fmt"
)

// Engine key layout. Everything riot stores lives under a one-byte prefix so
// that user data and state machine metadata never collide:
//
//	'd' + user key      -> encoded value (see encodeValue)
//	'e' + expireAt (8 bytes big-endian Unix ms) + user key -> empty: the
//	                      expiry index, one entry per key with a deadline,
//	                      written in the same batch as the key
//	't' + user key      -> tombstone of a deleted key: the raft index of the
//	                      entry that deleted it and the deleted value's
//	                      version (8+8 bytes big-endian), for WATCH; pruned
//	                      with the request records
//	'm' + "tombfloor"   -> tombstones deleted at or below this index were
//	                      pruned (8 bytes big-endian)
//	'm' + "applied"     -> last applied raft index, 8 bytes big-endian
//	'm' + "clock"       -> the largest Command.Now applied, 8 bytes
//	                      big-endian Unix ms (time never runs backwards)
//	'm' + "restoring"   -> present while a snapshot restore is under way
//	'm' + "member/" + id -> a server's addresses (the address book)
//	'm' + "left/" + id  -> when RAFT.LEAVE removed the server (8 bytes
//	                      big-endian Unix ms; see OpLeave)
//	'm' + "req/" + client + seq (8+8 bytes) -> applied index + encoded Result
//	                      of a request that carried an ID (dedup)
const (
	prefixData   = 'd'
	prefixExpire = 'e'
	prefixMeta   = 'm'
	prefixTomb   = 't'
)

var (
	dataPrefix   = []byte{prefixData}
	expirePrefix = []byte{prefixExpire}
	keyApplied   = []byte("mapplied")
	keyClock     = []byte("mclock")
	keyRestoring = []byte("mrestoring")
	tombPrefix   = []byte{prefixTomb}
	keyTombFloor = []byte("mtombfloor")
	// keySecret holds the cluster's node secret (OpSecret, secret.go).
	keySecret    = []byte("msecret")
	memberPrefix = []byte("mmember/")
	leftPrefix   = []byte("mleft/")
	reqPrefix    = []byte("mreq/")
)

// prefixed returns a new key: prefix followed by id.
func prefixed(prefix, id []byte) []byte { return append(append([]byte(nil), prefix...), id...) }

func memberKey(id []byte) []byte { return prefixed(memberPrefix, id) }

func leftKey(id []byte) []byte { return prefixed(leftPrefix, id) }

func reqKey(client, seq uint64) []byte {
	k := append(make([]byte, 0, len(reqPrefix)+16), reqPrefix...)
	k = binary.BigEndian.AppendUint64(k, client)
	return binary.BigEndian.AppendUint64(k, seq)
}

func tombKey(user []byte) []byte {
	k := make([]byte, 1+len(user))
	k[0] = prefixTomb
	copy(k[1:], user)
	return k
}

// encodeTomb encodes a tombstone: the deleting entry's index and the
// deleted value's version.
func encodeTomb(index, version uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), index), version)
}

func decodeTomb(b []byte) (index, version uint64, err error) {
	if len(b) != 16 {
		return 0, 0, fmt.Errorf("raftkv: tombstone of %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), nil
}

func dataKey(user []byte) []byte { return appendDataKey(make([]byte, 0, 1+len(user)), user) }

// appendDataKey appends the data key of user key user to b.
func appendDataKey(b, user []byte) []byte { return append(append(b, prefixData), user...) }

// expireKey is the expiry index entry of user key with deadline at.
func expireKey(at int64, user []byte) []byte {
	k := make([]byte, 9, 9+len(user))
	k[0] = prefixExpire
	binary.BigEndian.PutUint64(k[1:], uint64(at))
	return append(k, user...)
}

// splitExpireKey returns the deadline and user key of an expiry index entry.
func splitExpireKey(k []byte) (at int64, user []byte, ok bool) {
	if len(k) < 9 || k[0] != prefixExpire {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), k[9:], true
}

// Value encoding:
//
//	type   byte (a Type: typeString, ...)
//	flags  byte (bit 0: expiry present, bit 1: version present)
//	[expireAt 8 bytes big-endian Unix ms]
//	[version  8 bytes big-endian: the raft index of the entry that last
//	          wrote the key; WATCH compares it]
//	payload
//
// Bit 1 was added with transactions; values written before it have no
// version (0).
//
// Only strings exist yet. The other type bytes are reserved so that a key of
// a type this version does not implement (written by a newer one) is still
// a key: it has a TYPE, expires, renames and is deleted like any other, and
// every string command on it answers WRONGTYPE.
const (
	typeString   = 's'
	typeList     = 'l'
	typeHash     = 'h'
	typeSet      = 'S'
	typeZSet     = 'z'
	typeStream   = 'x'
	valueExpires = 1 << 0
	valueVersion = 1 << 1
)

// Type is the type of a stored value.
type Type byte

// String returns the type's name as Redis's TYPE reports it.
func (t Type) String() string {
	switch t {
	case typeString:
		return "string"
	case typeList:
		return "list"
	case typeHash:
		return "hash"
	case typeSet:
		return "set"
	case typeZSet:
		return "zset"
	case typeStream:
		return "stream"
	}
	return "unknown"
}

// value is a decoded stored value.
type value struct {
	typ      byte
	expireAt int64 // Unix ms; 0: never
	// version is the raft index of the entry that last wrote the value (0
	// for values written before versions existed). txn.put sets it.
	version uint64
	data    []byte
}

func encodeValue(v value) []byte {
	n := 2 + len(v.data)
	if v.expireAt != 0 {
		n += 8
	}
	if v.version != 0 {
		n += 8
	}
	return appendValue(make([]byte, 0, n), v)
}

// appendValue appends the stored form of v to b.
func appendValue(b []byte, v value) []byte {
	flags := len(b) + 1
	b = append(b, v.typ, 0)
	if v.expireAt != 0 {
		b[flags] |= valueExpires
		b = binary.BigEndian.AppendUint64(b, uint64(v.expireAt))
	}
	if v.version != 0 {
		b[flags] |= valueVersion
		b = binary.BigEndian.AppendUint64(b, v.version)
	}
	return append(b, v.data...)
}

// expired reports whether v's deadline is at or before now.
func (v value) expired(now int64) bool { return v.expireAt != 0 && v.expireAt <= now }

func decodeValue(b []byte) (value, error) {
	if len(b) < 2 {
		return value{}, fmt.Errorf("raftkv: stored value of %d bytes", len(b))
	}
	v := value{typ: b[0]}
	p := b[2:]
	if b[1]&valueExpires != 0 {
		if len(p) < 8 {
			return value{}, fmt.Errorf("raftkv: stored value with short expiry")
		}
		v.expireAt = int64(binary.BigEndian.Uint64(p))
		p = p[8:]
	}
	if b[1]&valueVersion != 0 {
		if len(p) < 8 {
			return value{}, fmt.Errorf("raftkv: stored value with short version")
		}
		v.version = binary.BigEndian.Uint64(p)
		p = p[8:]
	}
	v.data = p
	return v, nil
}

func encodeIndex(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }

func decodeClock(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("raftkv: clock of %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func decodeIndex(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("raftkv: applied index of %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
