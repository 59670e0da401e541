package kv

// Slots is the number of Redis Cluster hash slots.
const Slots = 16384

// Slot returns key's Redis Cluster hash slot: CRC16 (XMODEM) of the key,
// or of its hash tag, mod 16384. The hash tag is what lies between the
// first '{' and the first '}' after it, when that is not empty; keys that
// share a tag share a slot ({user1000}.following, {user1000}.followers).
// Reference: https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/ (keyHashSlot)
func Slot(key []byte) uint16 {
	for s := range key {
		if key[s] != '{' {
			continue
		}
		for e := s + 1; e < len(key); e++ {
			if key[e] == '}' {
				if e > s+1 {
					key = key[s+1 : e]
				}
				break
			}
		}
		break
	}
	return crc16(key) & (Slots - 1)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), Redis
// Cluster's key hash.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^c]
	}
	return crc
}

var crc16Table = makeCRC16Table()

func makeCRC16Table() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}
