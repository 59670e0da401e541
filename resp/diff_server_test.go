package resp

import (
	"fmt"
	"strings"
	"testing"
)

// The server commands' differential test: SAVE, BGSAVE, LASTSAVE and
// SHUTDOWN's errors (arity, syntax, ABORT, MULTI) and OBJECT REFCOUNT, FREQ
// and IDLETIME on every type, against redis-server with its default
// maxmemory-policy (noeviction). LASTSAVE and IDLETIME depend on the clock:
// compared by shape. SHUTDOWN is only sent in forms that do not stop
// either server.
var serverCases = []setCase{
	exact("SAVE", "x"), exact("LASTSAVE", "x"), exact("BGSAVE", "x"), exact("BGSAVE", "SCHEDULE", "x"),
	exact("SAVE"), shape("LASTSAVE"),
	exact("SHUTDOWN", "BOGUS"), exact("SHUTDOWN", "ABORT"), exact("SHUTDOWN", "abort", "now"),
	exact("SHUTDOWN", "SAVE", "NOSAVE"), exact("SHUTDOWN", "NOSAVE", "ABORT"), exact("SHUTDOWN", "NOW", "FORCE", "x"),

	// refused while queuing: EXEC aborts
	exact("MULTI"), exact("SAVE"), exact("SHUTDOWN"), exact("LASTSAVE"), exact("BGSAVE"), exact("EXEC"),
	exact("MULTI"), exact("SHUTDOWN", "NOSAVE"), exact("DISCARD"),

	// OBJECT on every type
	exact("SET", "int", "42"), exact("SET", "bigint", "10000"), exact("SET", "str", "hello"),
	exact("SET", "raw", strings.Repeat("x", 50)), exact("RPUSH", "list", "a"), exact("SADD", "set", "a"),
	exact("SADD", "iset", "1"), exact("HSET", "hash", "f", "v"), exact("ZADD", "zset", "1", "a"),
	exact("OBJECT", "REFCOUNT", "int"), exact("OBJECT", "REFCOUNT", "bigint"), exact("OBJECT", "REFCOUNT", "str"),
	exact("OBJECT", "REFCOUNT", "raw"), exact("OBJECT", "REFCOUNT", "list"), exact("OBJECT", "REFCOUNT", "set"),
	exact("OBJECT", "REFCOUNT", "iset"), exact("OBJECT", "REFCOUNT", "hash"), exact("OBJECT", "REFCOUNT", "zset"),
	exact("OBJECT", "REFCOUNT", "nosuch"), exact("OBJECT", "REFCOUNT"), exact("OBJECT", "REFCOUNT", "a", "b"),
	exact("OBJECT", "FREQ", "int"), exact("OBJECT", "FREQ", "str"), exact("OBJECT", "FREQ", "list"),
	exact("OBJECT", "FREQ", "set"), exact("OBJECT", "FREQ", "hash"), exact("OBJECT", "FREQ", "zset"),
	exact("OBJECT", "FREQ", "nosuch"), exact("OBJECT", "FREQ"),
	shape("OBJECT", "IDLETIME", "str"), shape("OBJECT", "IDLETIME", "list"), shape("OBJECT", "IDLETIME", "set"),
	shape("OBJECT", "IDLETIME", "hash"), shape("OBJECT", "IDLETIME", "zset"), exact("OBJECT", "IDLETIME", "nosuch"),
	exact("OBJECT", "IDLETIME"),
}

func TestDifferentialServerCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ref, got := dialDiffPair(t, redisAddr, riot.addr, proto)
			for _, sc := range serverCases {
				want, have := setReply(t, ref, sc), setReply(t, got, sc)
				if want != have {
					t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(sc.args, " "), want, have)
				}
			}
		})
	}
	// Last: redis-server's BGSAVE forks, and a SAVE after it would find it
	// running.
	bg := exact("BGSAVE")
	if want, have := setReply(t, dialRawAddr(t, redisAddr), bg), setReply(t, dialRawAddr(t, riot.addr), bg); want != have {
		t.Errorf("BGSAVE:\n  redis-server: %q\n  riot:         %q", want, have)
	}
}
