package resp

import (
	"testing"
)

// Reference: https://redis.io/docs/latest/commands/bitpos/, bitop/,
// bitfield/ and bitfield_ro/ (replies in RESP2 and RESP3; the edge cases
// are diff_bitops_test.go's).
func TestBitOpsReplies(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		c := dialRaw(t, ts)
		null := "$-1\r\n"
		if proto == 3 {
			c.send(mbulk("HELLO", "3"))
			if _, err := c.reply(); err != nil {
				t.Fatalf("HELLO 3: %v", err)
			}
			null = "_\r\n"
		}
		rt := func(want string, args ...string) {
			t.Helper()
			c.roundTrip(mbulk(args...), want)
		}
		rt("+OK\r\n", "SET", "k", "\xff\xf0\x00")
		rt(":12\r\n", "BITPOS", "k", "0")
		rt(":-1\r\n", "BITPOS", "k", "1", "2")
		rt(":12\r\n", "BITPOS", "k", "0", "0", "1", "BYTE")
		rt(":16\r\n", "BITPOS", "k", "0", "2")
		rt(":-1\r\n", "BITPOS", "k", "0", "0", "11", "BIT")
		rt("+OK\r\n", "SET", "ones", "\xff")
		rt(":8\r\n", "BITPOS", "ones", "0")
		rt(":-1\r\n", "BITPOS", "ones", "0", "0", "-1")
		rt(":0\r\n", "BITPOS", "nosuch", "0")
		rt("-ERR The bit argument must be 1 or 0.\r\n", "BITPOS", "k", "2")

		rt(":3\r\n", "BITOP", "NOT", "d", "k")
		rt("$3\r\n\x00\x0f\xff\r\n", "GET", "d")
		rt(":3\r\n", "BITOP", "or", "d", "d", "ones")
		rt("$3\r\n\xff\x0f\xff\r\n", "GET", "d")
		rt(":0\r\n", "BITOP", "AND", "d", "nosuch")
		rt(":0\r\n", "EXISTS", "d")
		rt("-ERR BITOP NOT must be called with a single source key.\r\n", "BITOP", "NOT", "d", "k", "ones")
		rt("-ERR syntax error\r\n", "BITOP", "NAND", "d", "k")

		rt("*3\r\n:0\r\n:-1\r\n"+null, "BITFIELD", "b", "SET", "u8", "0", "255", "GET", "i8", "0", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1")
		rt("*2\r\n:255\r\n:15\r\n", "BITFIELD_RO", "b", "GET", "u8", "#0", "GET", "u4", "#1")
		rt("-ERR BITFIELD_RO only supports the GET subcommand\r\n", "BITFIELD_RO", "b", "SET", "u8", "0", "1")
		rt("-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n", "BITFIELD", "b", "GET", "u64", "0")
		rt("-ERR Invalid OVERFLOW type specified\r\n", "BITFIELD", "b", "OVERFLOW", "NONE")
		rt("*0\r\n", "BITFIELD", "b")
		rt(":1\r\n", "HSET", "h", "f", "v")
		rt("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "BITFIELD", "h", "GET", "u8", "0")
		rt("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "BITOP", "AND", "d", "k", "h")
	})
}

// Reference: https://redis.io/docs/latest/commands/bitfield/ (offsets are
// bounded by proto-max-bulk-len, as SETBIT's)
func TestBitFieldMaxBulkLen(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBulkLen = 1 << 20 })
	c := dialRaw(t, ts)
	rt := func(want string, args ...string) {
		t.Helper()
		c.roundTrip(mbulk(args...), want)
	}
	rt("-ERR bit offset is not an integer or out of range\r\n", "BITFIELD", "k", "SET", "u8", "8388608", "1")
	rt("-ERR bit offset is not an integer or out of range\r\n", "BITFIELD", "k", "GET", "i64", "#131072")
	rt("*1\r\n:0\r\n", "BITFIELD", "k", "SET", "i64", "8388607", "-1")
	rt(":1048584\r\n", "STRLEN", "k") // the last field may end past the limit, as in Redis
	rt("*1\r\n:-1\r\n", "BITFIELD_RO", "k", "GET", "i64", "8388607")
}
