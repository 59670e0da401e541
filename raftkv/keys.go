package raftkv

import (
	"encoding/binary"
	"fmt"
)

// Engine key layout. Everything riot stores lives under a one-byte prefix so
// that user data and state machine metadata never collide:
//
//	'd' + user key      -> encoded value (see encodeValue)
//	'm' + "applied"     -> last applied raft index, 8 bytes big-endian
//	'm' + "restoring"   -> present while a snapshot restore is under way
//	'm' + "member/" + id -> a server's addresses (the address book)
//	'm' + "req/" + client + seq (8+8 bytes) -> applied index + encoded Result
//	                      of a request that carried an ID (dedup)
const (
	prefixData = 'd'
	prefixMeta = 'm'
)

var (
	dataPrefix   = []byte{prefixData}
	keyApplied   = []byte("mapplied")
	keyRestoring = []byte("mrestoring")
	memberPrefix = []byte("mmember/")
	reqPrefix    = []byte("mreq/")
)

func memberKey(id []byte) []byte { return append(append([]byte(nil), memberPrefix...), id...) }

func reqKey(client, seq uint64) []byte {
	k := append(make([]byte, 0, len(reqPrefix)+16), reqPrefix...)
	k = binary.BigEndian.AppendUint64(k, client)
	return binary.BigEndian.AppendUint64(k, seq)
}

func dataKey(user []byte) []byte {
	k := make([]byte, 1+len(user))
	k[0] = prefixData
	copy(k[1:], user)
	return k
}

// Value encoding:
//
//	type   byte (typeString)
//	flags  byte (bit 0: expiry present)
//	[expireAt 8 bytes big-endian Unix ms]
//	payload
const (
	typeString   = 's'
	valueExpires = 1 << 0
)

// value is a decoded stored value.
type value struct {
	typ      byte
	expireAt int64 // Unix ms; 0: never
	data     []byte
}

func encodeValue(v value) []byte {
	n := 2 + len(v.data)
	if v.expireAt != 0 {
		n += 8
	}
	b := make([]byte, 2, n)
	b[0] = v.typ
	if v.expireAt != 0 {
		b[1] = valueExpires
		b = binary.BigEndian.AppendUint64(b, uint64(v.expireAt))
	}
	return append(b, v.data...)
}

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
	v.data = p
	return v, nil
}

func encodeIndex(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }

func decodeIndex(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("raftkv: applied index of %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
