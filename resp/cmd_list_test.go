package resp

import (
	"strconv"
	"testing"
)

// Reference: https://redis.io/docs/latest/commands/?group=list. A list
// used as a queue drifts along its positions (each RPUSH takes the next
// one, each LPOP frees the first); a long one answers LINDEX, LRANGE and
// LPOS from the tail as from the head; a write to a list, LTRIM that
// trims nothing included, fails a WATCH on it (Redis signals the key
// modified).
func TestListReplies(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		c := dialRaw(t, ts)
		null, nullArray := "$-1\r\n", "*-1\r\n"
		if proto == 3 {
			c.send(mbulk("HELLO", "3"))
			if _, err := c.reply(); err != nil {
				t.Fatalf("HELLO 3: %v", err)
			}
			null, nullArray = "_\r\n", "_\r\n"
		}
		rt := func(want string, args ...string) {
			t.Helper()
			c.roundTrip(mbulk(args...), want)
		}
		// A queue: 300 rounds of RPUSH and LPOP.
		rt(":1\r\n", "RPUSH", "q", "0")
		for i := 1; i <= 300; i++ {
			rt(":2\r\n", "RPUSH", "q", strconv.Itoa(i))
			rt(bulks(strconv.Itoa(i-1)), "LPOP", "q")
		}
		rt(":1\r\n", "LLEN", "q")
		rt(":2\r\n", "LPUSH", "q", "front")
		rt("*2\r\n"+bulks("front", "300"), "LRANGE", "q", "0", "-1")
		rt(null, "LINDEX", "q", "2")

		// A long list.
		args := []string{"RPUSH", "long"}
		for i := range 1000 {
			args = append(args, strconv.Itoa(i%100))
		}
		rt(":1000\r\n", args...)
		rt(bulks("42"), "LINDEX", "long", "542")
		rt(bulks("57"), "LINDEX", "long", "-443")
		rt("*3\r\n"+bulks("97", "98", "99"), "LRANGE", "long", "-3", "-1")
		rt(":942\r\n", "LPOS", "long", "42", "RANK", "-1")
		rt("*3\r\n:942\r\n:842\r\n:742\r\n", "LPOS", "long", "42", "RANK", "-1", "COUNT", "3")
		rt(":2\r\n", "LPOS", "long", "2", "MAXLEN", "3")
		rt(null, "LPOS", "long", "50", "RANK", "-1", "MAXLEN", "49")
		rt("+OK\r\n", "LSET", "long", "500", "x")
		rt(":10\r\n", "LREM", "long", "0", "7")
		rt(":990\r\n", "LLEN", "long")
		rt(bulks("x"), "LINDEX", "long", "495")
		rt(":991\r\n", "LINSERT", "long", "BEFORE", "x", "y")
		rt("*3\r\n"+bulks("y", "x", "1"), "LRANGE", "long", "495", "497")
		rt("$9\r\nquicklist\r\n", "OBJECT", "ENCODING", "long")
		rt(nullArray, "LMPOP", "1", "nosuch", "LEFT")

		// WATCH: LTRIM of the whole range still modifies the key.
		rt("+OK\r\n", "WATCH", "long")
		rt("+OK\r\n", "LTRIM", "long", "0", "-1")
		rt("+OK\r\n", "MULTI")
		rt("+QUEUED\r\n", "LLEN", "long")
		rt(nullArray, "EXEC")
	})
}
