package kv

import (
	"encoding/binary"
	"fmt"
)

// Engine key layout (format 2, docs/design/0005-collections-layout.md).
// Everything riot stores lives under a one-byte family so that user data and
// state machine metadata never collide. Every user key's records carry its
// database (one byte: SELECT's index, Command.DB) and its Redis Cluster hash
// slot (two bytes, big-endian, Slot), so that one slot of one database is
// one contiguous range of each family:
//
//	'k' + db + slot + user key -> encoded value (see encodeValue)
//	'x' + expireAt (8 bytes big-endian Unix ms) + db + slot + user key ->
//	                      empty: the expiry index, one entry per key with a
//	                      deadline, written in the same batch as the key
//	'u' + db + slot + user key -> tombstone of a deleted key: the raft index
//	                      of the entry that deleted it and the deleted
//	                      value's version (8+8 bytes big-endian), for WATCH;
//	                      pruned with the request records
//	'm' + "tombfloor"   -> tombstones deleted at or below this index were
//	                      pruned (8 bytes big-endian)
//	'm' + "applied"     -> last applied raft index, 8 bytes big-endian
//	'm' + "clock"       -> the largest Command.Now applied, 8 bytes
//	                      big-endian Unix ms (time never runs backwards)
//	'm' + "restoring"   -> present while a snapshot restore is under way
//	'm' + "member/" + id -> a server's addresses (the address book)
//	'm' + "shards"      -> the shard map of a sharded cluster (JSON; the
//	                      metadata group's, see shards.go)
//	'm' + "left/" + id  -> when RAFT.LEAVE removed the server (8 bytes
//	                      big-endian Unix ms; see OpLeave)
//	'm' + "req/" + client + seq (8+8 bytes) -> applied index + encoded Result
//	                      of a request that carried an ID (dedup)
//
// Format 1 (releases before 2026-12-07) had 'd' + user key, 'e' + expireAt
// + user key and 't' + user key; migrate.go moves such records to their
// format-2 families when an engine is opened or restored.
const (
	prefixData   = 'k'
	prefixExpire = 'x'
	prefixMeta   = 'm'
	prefixTomb   = 'u'
)

// MaxDatabases is how many databases the key layout can hold: the db is
// one byte. A node serves the first --databases of them.
const MaxDatabases = 256

// keyHead is the length of family + db + slot.
const keyHead = 4

var (
	expirePrefix = []byte{prefixExpire}
	keyApplied   = []byte("mapplied")
	keyClock     = []byte("mclock")
	keyRestoring = []byte("mrestoring")
	tombPrefix   = []byte{prefixTomb}
	keyTombFloor = []byte("mtombfloor")
	// keySecret holds the cluster's node secret (OpSecret, secret.go).
	keySecret    = []byte("msecret")
	memberPrefix = []byte("mmember/")
	// keyShards holds a sharded cluster's shard map (OpSetShards, shards.go).
	keyShards  = []byte("mshards")
	leftPrefix = []byte("mleft/")
	reqPrefix  = []byte("mreq/")
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

// dataPrefix is where database db's data keys begin.
func dataPrefix(db uint8) []byte { return []byte{prefixData, db} }

// volKey is the volatile set's key of user key user in database db.
func volKey(db uint8, user []byte) string {
	return string(append(append(make([]byte, 0, 1+len(user)), db), user...))
}

// appendUserKey appends family + db + slot + user to b.
func appendUserKey(b []byte, family byte, db uint8, user []byte) []byte {
	b = append(b, family, db)
	b = binary.BigEndian.AppendUint16(b, Slot(user))
	return append(b, user...)
}

func tombKey(db uint8, user []byte) []byte {
	return appendUserKey(make([]byte, 0, keyHead+len(user)), prefixTomb, db, user)
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

func dataKey(db uint8, user []byte) []byte {
	return appendDataKey(make([]byte, 0, keyHead+len(user)), db, user)
}

// DataKey returns the engine key of user key's value in database 0, for
// tools and tests that write an engine directly.
func DataKey(user []byte) []byte { return dataKey(0, user) }

// appendDataKey appends the data key of user key user in database db to b.
func appendDataKey(b []byte, db uint8, user []byte) []byte {
	return appendUserKey(b, prefixData, db, user)
}

// dataUser returns the user key of a data key.
func dataUser(k []byte) []byte { return k[keyHead:] }

// dataDB returns the database of a data key.
func dataDB(k []byte) uint8 { return k[1] }

// isDataKey reports whether engine key k is a data key.
func isDataKey(k []byte) bool { return len(k) >= keyHead && k[0] == prefixData }

// dataPos returns the position of a data key in the key space: its slot
// and user key, the order scans run in.
func dataPos(k []byte) []byte { return k[2:] }

// Position returns where user key key stands in the order View.Scan
// visits keys: its slot (2 bytes, big-endian), then the key.
func Position(key []byte) []byte {
	return append(binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(key)), Slot(key)), key...)
}

// expireKey is the expiry index entry of user key in database db with
// deadline at.
func expireKey(at int64, db uint8, user []byte) []byte {
	k := expireBound(at)
	k = append(k, db)
	k = binary.BigEndian.AppendUint16(k, Slot(user))
	return append(k, user...)
}

// expireBound is where the expiry index entries with deadline at begin.
func expireBound(at int64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 12+16), prefixExpire), uint64(at))
}

// splitExpireKey returns the deadline, database and user key of an expiry
// index entry.
func splitExpireKey(k []byte) (at int64, db uint8, user []byte, ok bool) {
	if len(k) < 12 || k[0] != prefixExpire {
		return 0, 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), k[9], k[12:], true
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
