package kv

import "testing"

// TestSlot: the slots redis-server 7.0 (cluster-enabled) answers to
// CLUSTER KEYSLOT, hash tags and their edge cases included.
// Reference: https://redis.io/docs/latest/commands/cluster-keyslot/
func TestSlot(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3 (CRC-16/XMODEM check value)", got)
	}
	for key, want := range map[string]uint16{
		"foo": 12182, "bar": 5061, "hello": 866, "": 0, "a": 15495,
		"{user1000}.following": 3443, "{user1000}.followers": 3443, "user1000": 3443,
		"{}": 15257, "{}foo": 9500, "foo{}{bar}": 8363, "foo{{bar}}zap": 4015, "foo{bar}{zap}": 5061,
		"{": 4092, "}": 12090, "a{b": 13340, "123456789": 12739, "k\xff": 2336, "key:0000001": 13151,
	} {
		if got := Slot([]byte(key)); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
}

// crc16Bitwise is CRC-16/XMODEM one bit at a time: the reference the table
// is checked against.
func crc16Bitwise(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func FuzzSlot(f *testing.F) {
	for _, s := range []string{"", "foo", "{a}b", "a{}b", "{{}}", "\xff\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		if got, want := crc16(key), crc16Bitwise(key); got != want {
			t.Fatalf("crc16(%q) = %#x, bitwise %#x", key, got, want)
		}
		if s := Slot(key); s >= Slots {
			t.Fatalf("Slot(%q) = %d", key, s)
		}
	})
}

func BenchmarkSlot(b *testing.B) {
	key := []byte("{user1000}.following")
	for b.Loop() {
		Slot(key)
	}
}
