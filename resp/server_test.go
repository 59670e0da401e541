package resp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/riotkv/riot/respwire"
)

// Error replies with Redis 7's exact text.
const (
	textNotInteger = "ERR value is not an integer or out of range"
	textOverflow   = "ERR increment or decrement would overflow"
	textNoAuth     = "NOAUTH Authentication required."
	textWrongPass  = "WRONGPASS invalid username-password pair or user is disabled."
)

// Reference: https://redis.io/docs/latest/commands/ping/, echo/, select/
func TestServerConnectionCommands(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		got, err := rdb.Ping(ctx).Result()
		wantVal(t, "PING", got, err, "PONG")
		v, err := rdb.Do(ctx, "PING", "hello").Text()
		wantVal(t, "PING hello", v, err, "hello")
		wantErr(t, "PING a b", rdb.Do(ctx, "PING", "a", "b").Err(), "ERR wrong number of arguments for 'ping' command")
		got, err = rdb.Echo(ctx, "hi there").Result()
		wantVal(t, "ECHO", got, err, "hi there")
		got, err = rdb.Echo(ctx, "").Result()
		wantVal(t, `ECHO ""`, got, err, "")
		wantErr(t, "ECHO", rdb.Do(ctx, "ECHO").Err(), "ERR wrong number of arguments for 'echo' command")

		v, err = rdb.Do(ctx, "SELECT", "0").Text()
		wantVal(t, "SELECT 0", v, err, "OK")
		wantErr(t, "SELECT 16", rdb.Do(ctx, "SELECT", "16").Err(), "ERR DB index is out of range")
		wantErr(t, "SELECT -1", rdb.Do(ctx, "SELECT", "-1").Err(), "ERR DB index is out of range")
		wantErr(t, "SELECT x", rdb.Do(ctx, "SELECT", "x").Err(), textNotInteger)

		// go-redis selects Options.DB on each new connection.
		c15 := newClient(t, ts, proto, func(o *redis.Options) { o.DB = 15 })
		if err := c15.Set(ctx, "indb15", "v", 0).Err(); err != nil {
			t.Errorf("SET in DB 15: %v", err)
		}
		n, err := rdb.Exists(ctx, "indb15").Result()
		wantVal(t, "EXISTS indb15 in DB 0", n, err, int64(0))
		wantErr(t, "client with DB 16", newClient(t, ts, proto, func(o *redis.Options) { o.DB = 16 }).Ping(ctx).Err(),
			"ERR DB index is out of range")
	})
}

// Reference: https://redis.io/docs/latest/commands/hello/
func TestServerHello(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		conn := newClient(t, ts, proto).Conn()
		t.Cleanup(func() { _ = conn.Close() })
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT ID: %v", err)
		}
		for _, ver := range []int{3, 2} {
			got, err := conn.Hello(ctx, ver, "", "", "").Result()
			want := map[string]any{
				"server": "redis", "version": "7.2.0", "proto": int64(ver), "id": id,
				"mode": "standalone", "role": "master", "modules": []any{}, "riot_version": "test",
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("HELLO %d = %v, %v; want %v", ver, got, err, want)
			}
		}
		got, err := conn.Hello(ctx, 3, "", "", "hello-name").Result()
		if err != nil || got["proto"] != int64(3) {
			t.Errorf("HELLO 3 SETNAME hello-name = %v, %v; want proto 3", got, err)
		}
		name, err := conn.ClientGetName(ctx).Result()
		wantVal(t, "CLIENT GETNAME after HELLO SETNAME", name, err, "hello-name")
		// The reply to HELLO 3 is a RESP3 map even on a RESP2 connection.
		raw := dialRaw(t, ts)
		raw.send("HELLO 3\r\n")
		if r, err := raw.reply(); err != nil || !bytes.HasPrefix(r, []byte("%8\r\n$6\r\nserver\r\n$5\r\nredis\r\n")) {
			t.Errorf("HELLO 3 on a raw connection: %q, %v; want a map of 8", r, err)
		}
		raw.roundTrip("GET nosuchkey\r\n", "_\r\n")
		raw.send("HELLO 2\r\n")
		if r, err := raw.reply(); err != nil || !bytes.HasPrefix(r, []byte("*16\r\n")) {
			t.Errorf("HELLO 2 on a raw connection: %q, %v; want an array of 16", r, err)
		}
		raw.roundTrip("GET nosuchkey\r\n", "$-1\r\n")

		wantErr(t, "HELLO 4", conn.Do(ctx, "HELLO", "4").Err(), "NOPROTO unsupported protocol version")
		wantErr(t, "HELLO 1", conn.Do(ctx, "HELLO", "1").Err(), "NOPROTO unsupported protocol version")
		wantErr(t, "HELLO x", conn.Do(ctx, "HELLO", "x").Err(), "ERR Protocol version is not an integer or out of range")
		wantErr(t, "HELLO 3 FOO", conn.Do(ctx, "HELLO", "3", "FOO").Err(), "ERR Syntax error in HELLO option 'FOO'")
		wantErr(t, "HELLO 3 AUTH u", conn.Do(ctx, "HELLO", "3", "AUTH", "u").Err(), "ERR Syntax error in HELLO option 'AUTH'")
		wantErr(t, "HELLO 3 SETNAME a b", conn.Do(ctx, "HELLO", "3", "SETNAME", "a b").Err(),
			"ERR Client names cannot contain spaces, newlines or special characters.")
	})
}

// Reference: https://redis.io/docs/latest/commands/client-list/ and the
// other CLIENT subcommands.
func TestServerClient(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		conn := newClient(t, ts, proto).Conn()
		t.Cleanup(func() { _ = conn.Close() })
		id, err := conn.ClientID(ctx).Result()
		if err != nil || id <= 0 {
			t.Fatalf("CLIENT ID = %d, %v; want a positive ID", id, err)
		}
		if name, err := conn.ClientGetName(ctx).Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("CLIENT GETNAME on a new connection = %q, %v; want nil", name, err)
		}
		ok, err := conn.ClientSetName(ctx, "riot-test").Result()
		wantVal(t, "CLIENT SETNAME riot-test", ok, err, true)
		name, err := conn.ClientGetName(ctx).Result()
		wantVal(t, "CLIENT GETNAME", name, err, "riot-test")
		wantErr(t, `CLIENT SETNAME "a b"`, conn.Do(ctx, "CLIENT", "SETNAME", "a b").Err(),
			"ERR Client names cannot contain spaces, newlines or special characters.")
		name, err = conn.ClientGetName(ctx).Result()
		wantVal(t, "CLIENT GETNAME after a rejected name", name, err, "riot-test")

		st, err := conn.ClientSetInfo(ctx, redis.WithLibraryName("mylib")).Result()
		wantVal(t, "CLIENT SETINFO LIB-NAME", st, err, "OK")
		v, err := conn.Do(ctx, "CLIENT", "SETINFO", "LIB-VER", "1.2.3").Text()
		wantVal(t, "CLIENT SETINFO LIB-VER", v, err, "OK")
		wantErr(t, "CLIENT SETINFO foo", conn.Do(ctx, "CLIENT", "SETINFO", "foo", "x").Err(), "ERR Unrecognized option 'foo'")
		wantErr(t, "CLIENT SETINFO lib-name with a space", conn.Do(ctx, "CLIENT", "SETINFO", "lib-name", "a b").Err(),
			"ERR lib-name cannot contain spaces, newlines or special characters.")
		wantErr(t, "CLIENT ID x", conn.Do(ctx, "CLIENT", "ID", "x").Err(), "ERR wrong number of arguments for 'client|id' command")
		wantErr(t, "CLIENT NOPE", conn.Do(ctx, "CLIENT", "NOPE").Err(), "ERR unknown subcommand 'NOPE'. Try CLIENT HELP.")
		wantErr(t, "CLIENT", conn.Do(ctx, "CLIENT").Err(), "ERR wrong number of arguments for 'client' command")

		info, err := conn.ClientInfo(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT INFO: %v", err)
		}
		if info.ID != id || info.Name != "riot-test" || !strings.HasPrefix(info.LibName, "go-redis(mylib,") ||
			info.LibVer != "1.2.3" || info.Resp != proto || info.DB != 0 {
			t.Errorf("CLIENT INFO = %+v; want id=%d name=riot-test lib-name=go-redis(mylib,...) lib-ver=1.2.3 resp=%d db=0", info, id, proto)
		}

		other := dialRaw(t, ts)
		other.roundTrip("CLIENT SETNAME other-conn\r\n", "+OK\r\n")
		list, err := conn.ClientList(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT LIST: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
		var mine, theirs bool
		for _, l := range lines {
			mine = mine || strings.HasPrefix(l, fmt.Sprintf("id=%d ", id)) && strings.Contains(l, " name=riot-test ")
			theirs = theirs || strings.Contains(l, " name=other-conn ")
		}
		if !mine || !theirs || !strings.HasSuffix(list, "\n") {
			t.Errorf("CLIENT LIST = %q; want lines for id=%d name=riot-test and name=other-conn, ending in a newline", list, id)
		}
	})
}

// Reference: https://redis.io/docs/latest/commands/command/ (COUNT, INFO,
// DOCS).
func TestServerCommand(t *testing.T) {
	ts := startServer(t, nil)
	table := newCommandTable()
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		n, err := rdb.Do(ctx, "COMMAND", "COUNT").Int64()
		wantVal(t, "COMMAND COUNT", n, err, int64(len(table)))

		all, err := rdb.Command(ctx).Result()
		if err != nil || len(all) != len(table) {
			t.Fatalf("COMMAND = %d entries, %v; want %d", len(all), err, len(table))
		}
		get := all["get"]
		if get == nil || get.Arity != 2 || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 || !get.ReadOnly ||
			!slices.Equal(get.Flags, []string{"readonly", "fast"}) || !slices.Equal(get.ACLFlags, []string{"@read", "@string", "@fast"}) {
			t.Errorf("COMMAND entry for get = %+v; want arity 2, keys 1 1 1, flags [readonly fast], @read @string @fast (as Redis)", get)
		}
		if set := all["set"]; set == nil || set.Arity != -3 || set.ReadOnly || !slices.Equal(set.Flags, []string{"write"}) {
			t.Errorf("COMMAND entry for set = %+v; want arity -3, flags [write]", set)
		}
		if mset := all["mset"]; mset == nil || mset.FirstKeyPos != 1 || mset.LastKeyPos != -1 || mset.StepCount != 2 {
			t.Errorf("COMMAND entry for mset = %+v; want keys 1 -1 2", mset)
		}

		info, err := rdb.Do(ctx, "COMMAND", "INFO", "GET", "nosuch").Slice()
		if err != nil || len(info) != 2 || info[1] != nil {
			t.Fatalf("COMMAND INFO GET nosuch = %v, %v; want [<get> nil]", info, err)
		}
		entry, ok := info[0].([]any)
		if !ok || len(entry) != 10 || entry[0] != "get" || entry[1] != int64(2) {
			t.Errorf("COMMAND INFO GET entry = %#v; want 10 fields starting get, 2", info[0])
		}

		docs, err := rdb.Do(ctx, "COMMAND", "DOCS", "get", "nosuch").Result()
		want := map[string]any{"get": map[string]any{"summary": "Returns the string value of a key.", "since": "1.0.0", "group": "string"}}
		if err != nil || fmt.Sprint(normalize(docs)) != fmt.Sprint(want) {
			t.Errorf("COMMAND DOCS get nosuch = %#v, %v; want %v", docs, err, want)
		}
		wantErr(t, "COMMAND FOO", rdb.Do(ctx, "COMMAND", "FOO").Err(), "ERR unknown subcommand 'FOO'. Try COMMAND HELP.")
	})
}

// normalize turns a reply holding RESP3 maps, or RESP2 flat arrays where a
// map is expected, into map[string]any.
func normalize(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		if len(v)%2 != 0 {
			return v
		}
		m := make(map[string]any, len(v)/2)
		for i := 0; i < len(v); i += 2 {
			k, ok := v[i].(string)
			if !ok {
				return v
			}
			m[k] = normalize(v[i+1])
		}
		return m
	}
	return v
}

// Reference: https://redis.io/docs/latest/commands/info/,
// https://redis.io/docs/latest/commands/dbsize/
func TestServerInfo(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		n, err := rdb.DBSize(ctx).Result()
		wantVal(t, "DBSIZE on an empty store", n, err, 0)
		info, err := rdb.Info(ctx).Result()
		if err != nil {
			t.Fatalf("INFO: %v", err)
		}
		for _, want := range []string{"# Server\r\n", "redis_version:7", "riot_version:test\r\n", "tcp_port:" + port(ts.addr) + "\r\n",
			"# Clients\r\n", "blocked_clients:0\r\n", "# Memory\r\n", "maxmemory_policy:noeviction\r\n", "# Persistence\r\n", "# Stats\r\n", "# Replication\r\n", "raft_state:leader\r\n", "# Raft\r\n", "# Keyspace\r\n"} {
			if !strings.Contains(info, want) {
				t.Errorf("INFO lacks %q:\n%s", want, info)
			}
		}
		if strings.Contains(info, "db0:") {
			t.Errorf("INFO of an empty store has a db0 line:\n%s", info)
		}

		if err := rdb.MSet(ctx, "a", "1", "b", "2", "c", "3").Err(); err != nil {
			t.Fatalf("MSET: %v", err)
		}
		n, err = rdb.DBSize(ctx).Result()
		wantVal(t, "DBSIZE after MSET of 3 keys", n, err, 3)
		info, err = rdb.Info(ctx, "keyspace").Result()
		want := "# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n"
		wantVal(t, "INFO keyspace", info, err, want)
		info, err = rdb.Info(ctx).Result()
		if err != nil || !strings.Contains(info, "\r\n"+want) {
			t.Errorf("INFO = %q, %v; want it to hold %q", info, err, want)
		}
		info, err = rdb.Info(ctx, "SERVER").Result()
		if err != nil || !strings.HasPrefix(info, "# Server\r\n") || strings.Contains(info, "# Keyspace") || strings.Contains(info, "# Raft") {
			t.Errorf("INFO SERVER = %q, %v; want only the server section", info, err)
		}
		mem, err := rdb.InfoMap(ctx, "memory").Result()
		if used, _ := strconv.ParseUint(mem["Memory"]["used_memory"], 10, 64); err != nil || used == 0 {
			t.Errorf("INFO memory = %v, %v; want used_memory > 0", mem, err)
		}
		if rss, _ := strconv.ParseUint(mem["Memory"]["used_memory_rss"], 10, 64); rss == 0 {
			t.Errorf("INFO memory has no used_memory_rss: %v", mem)
		}
		m, err := rdb.InfoMap(ctx, "server", "raft").Result()
		if err != nil || m["Server"]["redis_version"] != "7.2.0" || len(m["Raft"]) == 0 {
			t.Errorf("InfoMap(server, raft) = %v, %v; want Server.redis_version 7.2.0 and a Raft section", m, err)
		}
		if err := rdb.Del(ctx, "a", "b", "c").Err(); err != nil {
			t.Fatalf("DEL: %v", err)
		}
		n, err = rdb.DBSize(ctx).Result()
		wantVal(t, "DBSIZE after DEL", n, err, 0)
	})
}

// Reference: https://redis.io/docs/latest/commands/get/, set/, del/,
// exists/, mget/, mset/, incr/, decr/, incrby/, decrby/
func TestServerStrings(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		k := func(name string) string { return fmt.Sprintf("resp%d:%s", proto, name) }

		if v, err := rdb.Get(ctx, k("missing")).Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET missing = %q, %v; want nil", v, err)
		}
		st, err := rdb.Set(ctx, k("s"), "value", 0).Result()
		wantVal(t, "SET s value", st, err, "OK")
		v, err := rdb.Get(ctx, k("s")).Result()
		wantVal(t, "GET s", v, err, "value")
		v, err = rdb.Do(ctx, "gEt", k("s")).Text()
		wantVal(t, "gEt s (mixed case)", v, err, "value")
		st, err = rdb.Set(ctx, k("s"), "", 0).Result()
		wantVal(t, `SET s ""`, st, err, "OK")
		v, err = rdb.Get(ctx, k("s")).Result()
		wantVal(t, "GET s after SET empty", v, err, "")
		wantErr(t, "SET s v FOO", rdb.Do(ctx, "SET", k("s"), "v", "FOO").Err(), "ERR syntax error")

		n, err := rdb.Exists(ctx, k("s"), k("s"), k("missing")).Result()
		wantVal(t, "EXISTS s s missing", n, err, 2)
		n, err = rdb.Del(ctx, k("s"), k("missing"), k("s")).Result()
		wantVal(t, "DEL s missing s", n, err, 1)
		n, err = rdb.Exists(ctx, k("s")).Result()
		wantVal(t, "EXISTS s after DEL", n, err, 0)

		st, err = rdb.MSet(ctx, k("a"), "1", k("b"), "2").Result()
		wantVal(t, "MSET a 1 b 2", st, err, "OK")
		vals, err := rdb.MGet(ctx, k("a"), k("missing"), k("b"), k("a")).Result()
		if want := []any{"1", nil, "2", "1"}; err != nil || !slices.Equal(vals, want) {
			t.Errorf("MGET a missing b a = %v, %v; want %v", vals, err, want)
		}
		wantErr(t, "MSET a 1 b", rdb.Do(ctx, "MSET", k("a"), "1", k("b")).Err(), "ERR wrong number of arguments for 'mset' command")
		wantErr(t, "MSET a", rdb.Do(ctx, "MSET", k("a")).Err(), "ERR wrong number of arguments for 'mset' command")
		v, err = rdb.Get(ctx, k("b")).Result()
		wantVal(t, "GET b after a rejected MSET", v, err, "2")

		n, err = rdb.Incr(ctx, k("n")).Result()
		wantVal(t, "INCR n (new)", n, err, 1)
		n, err = rdb.IncrBy(ctx, k("n"), 10).Result()
		wantVal(t, "INCRBY n 10", n, err, 11)
		n, err = rdb.Decr(ctx, k("n")).Result()
		wantVal(t, "DECR n", n, err, 10)
		n, err = rdb.DecrBy(ctx, k("n"), 15).Result()
		wantVal(t, "DECRBY n 15", n, err, -5)
		n, err = rdb.IncrBy(ctx, k("n"), -5).Result()
		wantVal(t, "INCRBY n -5", n, err, -10)
		n, err = rdb.DecrBy(ctx, k("n"), -20).Result()
		wantVal(t, "DECRBY n -20", n, err, 10)
		n, err = rdb.Decr(ctx, k("fresh")).Result()
		wantVal(t, "DECR fresh", n, err, -1)
		v, err = rdb.Get(ctx, k("n")).Result()
		wantVal(t, "GET n", v, err, "10")

		mustSet(ctx, t, rdb, k("text"), "abc")
		wantErr(t, "INCR text", rdb.Incr(ctx, k("text")).Err(), textNotInteger)
		mustSet(ctx, t, rdb, k("spaced"), " 1")
		wantErr(t, `INCR " 1"`, rdb.Incr(ctx, k("spaced")).Err(), textNotInteger)
		wantErr(t, "INCRBY n abc", rdb.Do(ctx, "INCRBY", k("n"), "abc").Err(), textNotInteger)
		wantErr(t, "INCRBY n 1.5", rdb.Do(ctx, "INCRBY", k("n"), "1.5").Err(), textNotInteger)
		wantErr(t, "INCRBY n 9223372036854775808", rdb.Do(ctx, "INCRBY", k("n"), "9223372036854775808").Err(), textNotInteger)
		wantErr(t, "DECRBY n +1", rdb.Do(ctx, "DECRBY", k("n"), "+1").Err(), textNotInteger)
		mustSet(ctx, t, rdb, k("max"), "9223372036854775807")
		wantErr(t, "INCR max", rdb.Incr(ctx, k("max")).Err(), textOverflow)
		wantErr(t, "DECRBY max -1", rdb.DecrBy(ctx, k("max"), -1).Err(), textOverflow)
		mustSet(ctx, t, rdb, k("min"), "-9223372036854775808")
		wantErr(t, "DECR min", rdb.Decr(ctx, k("min")).Err(), textOverflow)
		wantErr(t, "INCRBY min -1", rdb.IncrBy(ctx, k("min"), -1).Err(), textOverflow)
		wantErr(t, "DECRBY n -9223372036854775808", rdb.Do(ctx, "DECRBY", k("n"), "-9223372036854775808").Err(), "ERR decrement would overflow")
		n, err = rdb.IncrBy(ctx, k("zero"), -9223372036854775808).Result()
		wantVal(t, "INCRBY zero -9223372036854775808", n, err, -9223372036854775808)
		v, err = rdb.Get(ctx, k("max")).Result()
		wantVal(t, "GET max after the overflows", v, err, "9223372036854775807")

		wantErr(t, "GET", rdb.Do(ctx, "GET").Err(), "ERR wrong number of arguments for 'get' command")
		wantErr(t, "GET a b", rdb.Do(ctx, "GET", "a", "b").Err(), "ERR wrong number of arguments for 'get' command")
		wantErr(t, "INCR", rdb.Do(ctx, "INCR").Err(), "ERR wrong number of arguments for 'incr' command")
		wantErr(t, "SeT a", rdb.Do(ctx, "SeT", "a").Err(), "ERR wrong number of arguments for 'set' command")
		wantErr(t, "DEL", rdb.Do(ctx, "DEL").Err(), "ERR wrong number of arguments for 'del' command")
		wantErr(t, "foo a b", rdb.Do(ctx, "foo", "a", "b").Err(), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
		wantErr(t, "FOO", rdb.Do(ctx, "FOO").Err(), "ERR unknown command 'FOO', with args beginning with: ")

		cmds, _ := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k("p"), "1", 0)
			p.Incr(ctx, k("p"))
			p.Get(ctx, k("p"))
			p.Incr(ctx, k("text"))
			p.Exists(ctx, k("p"), k("p"))
			p.Del(ctx, k("p"))
			p.Get(ctx, k("p"))
			return nil
		})
		var got []string
		for _, c := range cmds {
			got = append(got, fmt.Sprint(strings.TrimPrefix(c.String(), c.Name()+" ")))
		}
		want := []string{
			k("p") + " 1: OK", k("p") + ": 2", k("p") + ": 2", k("text") + ": " + textNotInteger,
			k("p") + " " + k("p") + ": 2", k("p") + ": 1", k("p") + ": redis: nil",
		}
		if !slices.Equal(got, want) {
			t.Errorf("pipeline = %q; want %q", got, want)
		}
	})
}

// Reference: https://redis.io/docs/latest/commands/readonly/,
// readwrite/, quit/
func TestServerReadonlyQuit(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		conn := newClient(t, ts, proto).Conn()
		t.Cleanup(func() { _ = conn.Close() })
		mustSet(ctx, t, conn, "ro", "v")
		st, err := conn.ReadOnly(ctx).Result()
		wantVal(t, "READONLY", st, err, "OK")
		v, err := conn.Get(ctx, "ro").Result()
		wantVal(t, "GET after READONLY", v, err, "v")
		n, err := conn.DBSize(ctx).Result()
		if err != nil || n < 1 {
			t.Errorf("DBSIZE after READONLY = %d, %v; want >= 1", n, err)
		}
		st, err = conn.ReadWrite(ctx).Result()
		wantVal(t, "READWRITE", st, err, "OK")
		v, err = conn.Get(ctx, "ro").Result()
		wantVal(t, "GET after READWRITE", v, err, "v")
		wantErr(t, "READONLY x", conn.Do(ctx, "READONLY", "x").Err(), "ERR wrong number of arguments for 'readonly' command")
		v, err = conn.Do(ctx, "QUIT").Text()
		wantVal(t, "QUIT", v, err, "OK")
	})
	raw := dialRaw(t, ts)
	in := "PING\r\nQUIT\r\nPING\r\n"
	raw.send(in)
	raw.expect(in, "+PONG\r\n", "+OK\r\n")
	raw.expectClosed(in)
}

// Reference: https://redis.io/docs/latest/commands/auth/ and hello/
// (AUTH option).
func TestServerAuth(t *testing.T) {
	const pass = "s3cret"
	ts := startServer(t, func(c *Config) { c.RequirePass = pass })
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		k := fmt.Sprintf("resp%d:k", proto)
		anon := newClient(t, ts, proto)
		wantErr(t, "GET before AUTH", anon.Get(ctx, k).Err(), textNoAuth)
		wantErr(t, "SET before AUTH", anon.Set(ctx, k, "v", 0).Err(), textNoAuth)
		wantErr(t, "PING before AUTH", anon.Ping(ctx).Err(), textNoAuth)
		wantErr(t, "unknown command before AUTH", anon.Do(ctx, "nosuch").Err(), "ERR unknown command 'nosuch', with args beginning with: ")

		conn := anon.Conn()
		t.Cleanup(func() { _ = conn.Close() })
		wantErr(t, "HELLO 3 without AUTH", conn.Do(ctx, "HELLO", "3").Err(),
			"NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		wantErr(t, "AUTH wrong", conn.Do(ctx, "AUTH", "wrong").Err(), textWrongPass)
		wantErr(t, "AUTH bob s3cret", conn.Do(ctx, "AUTH", "bob", pass).Err(), textWrongPass)
		wantErr(t, "AUTH a b c", conn.Do(ctx, "AUTH", "a", "b", "c").Err(), "ERR syntax error")
		wantErr(t, "GET after failed AUTH", conn.Get(ctx, k).Err(), textNoAuth)
		st, err := conn.Do(ctx, "AUTH", pass).Text()
		wantVal(t, "AUTH s3cret", st, err, "OK")
		if err := conn.Get(ctx, k).Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET after AUTH: %v, want nil", err)
		}

		conn2 := anon.Conn()
		t.Cleanup(func() { _ = conn2.Close() })
		st, err = conn2.Do(ctx, "AUTH", "default", pass).Text()
		wantVal(t, "AUTH default s3cret", st, err, "OK")
		st, err = conn2.Ping(ctx).Result()
		wantVal(t, "PING after AUTH default", st, err, "PONG")

		conn3 := anon.Conn()
		t.Cleanup(func() { _ = conn3.Close() })
		wantErr(t, "HELLO 3 AUTH default wrong", conn3.Hello(ctx, 3, "default", "wrong", "").Err(), textWrongPass)
		hello, err := conn3.Hello(ctx, 3, "default", pass, "").Result()
		if err != nil || hello["proto"] != int64(3) {
			t.Errorf("HELLO 3 AUTH default s3cret = %v, %v; want proto 3", hello, err)
		}
		st, err = conn3.Set(ctx, k, "v", 0).Result()
		wantVal(t, "SET after HELLO AUTH", st, err, "OK")

		authed := newClient(t, ts, proto, func(o *redis.Options) { o.Password = pass })
		v, err := authed.Get(ctx, k).Result()
		wantVal(t, "GET with a client that has the password", v, err, "v")
		bad := newClient(t, ts, proto, func(o *redis.Options) { o.Password = "nope" })
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), textWrongPass) {
			t.Errorf("PING with a wrong password: %v, want %q", err, textWrongPass)
		}
	})
	raw := dialRaw(t, ts)
	raw.roundTrip("GET k\r\n", "-"+textNoAuth+"\r\n")
	in := "QUIT\r\n"
	raw.roundTrip(in, "+OK\r\n")
	raw.expectClosed(in)
}

// Reference: https://redis.io/docs/latest/commands/config-get/
func TestServerConfigGet(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBulkLen = 4096 })
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		got, err := rdb.ConfigGet(ctx, "proto-max-bulk-len").Result()
		if want := map[string]string{"proto-max-bulk-len": "4096"}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("CONFIG GET proto-max-bulk-len = %v, %v; want %v", got, err, want)
		}
		got, err = rdb.ConfigGet(ctx, "*").Result()
		if err != nil || len(got) != len(ts.configParams()) || got["databases"] != "16" {
			t.Errorf("CONFIG GET * = %v, %v; want all %d parameters", got, err, len(ts.configParams()))
		}
		some, err := rdb.Do(ctx, "CONFIG", "GET", "MAX*", "*fsync").Result()
		if n := normalize(some); err != nil || fmt.Sprint(n) != "map[appendfsync:always maxmemory:0]" {
			t.Errorf("CONFIG GET MAX* *fsync = %v, %v; want maxmemory and appendfsync", n, err)
		}
		// A pattern that takes exponential time in a naive matcher.
		pat := strings.Repeat("*", 40) + "z"
		got, err = rdb.ConfigGet(ctx, pat).Result()
		if err != nil || len(got) != 0 {
			t.Errorf("CONFIG GET %s = %v, %v; want an empty reply", pat, got, err)
		}
		wantErr(t, "CONFIG SET", rdb.Do(ctx, "CONFIG", "SET", "maxmemory", "1").Err(),
			"ERR CONFIG SET failed (possibly related to argument 'maxmemory') - riot cannot change it; see docs/commands.md")
		wantErr(t, "CONFIG GET", rdb.Do(ctx, "CONFIG", "GET").Err(), "ERR wrong number of arguments for 'config|get' command")
		wantErr(t, "CONFIG FOO", rdb.Do(ctx, "CONFIG", "FOO").Err(), "ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
	})
}

// TestServerAuthWithoutPassword checks AUTH when no password is set.
func TestServerAuthWithoutPassword(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	raw.roundTrip("AUTH x\r\n", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")
	raw.roundTrip("PING\r\n", "+PONG\r\n")
}

// TestServerProtocolErrors sends malformed requests on raw connections:
// each gets "-ERR Protocol error: ..." and is closed, after the replies to
// the requests before it; other connections keep working.
func TestServerProtocolErrors(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBulkLen = 1024 })
	good := dialRaw(t, ts)
	good.roundTrip("PING\r\n", "+PONG\r\n")
	tests := []struct {
		in   string
		want []string
	}{
		{"*1\r\n$abc\r\n", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"*x\r\n", []string{"-ERR Protocol error: invalid multibulk length\r\n"}},
		{"*9223372036854775807\r\n", []string{"-ERR Protocol error: invalid multibulk length\r\n"}},
		{"*1\r\n$9223372036854775807\r\nabc\r\n", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"*1\r\nx", []string{"-ERR Protocol error: expected '$', got 'x'\r\n"}},
		{"*1\r\n$3\r\nGETxx", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"SET \"a b\r\n", []string{"-ERR Protocol error: unbalanced quotes in request\r\n"}},
		{"*2\r\n$3\r\nGET\r\n$1025\r\n", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n" + strings.Repeat("v", 2000) + "\r\n", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"PING\r\n*1\r\n$-5\r\n", []string{"+PONG\r\n", "-ERR Protocol error: invalid bulk length\r\n"}},
		{"SET pe v\r\nINCR pe\r\n*1\r\nx", []string{"+OK\r\n", "-" + textNotInteger + "\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"}},
		{"*1\r\n" + strings.Repeat("$", 70<<10), []string{"-ERR Protocol error: too big bulk count string\r\n"}},
		{strings.Repeat("x", 70<<10), []string{"-ERR Protocol error: too big inline request\r\n"}},
	}
	for _, tt := range tests {
		bad := dialRaw(t, ts)
		bad.send(tt.in)
		bad.expect(tt.in, tt.want...)
		bad.expectClosed(tt.in)
		good.roundTrip("PING\r\n", "+PONG\r\n")
	}
	v := strings.Repeat("b", 1024)
	good.roundTrip(mbulk("SET", "big", v), "+OK\r\n")
	good.roundTrip(mbulk("GET", "big"), "$1024\r\n"+v+"\r\n")
}

// TestServerInline sends telnet-style inline commands.
func TestServerInline(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	raw.roundTrip("PING\r\n", "+PONG\r\n")
	raw.roundTrip("ping\n", "+PONG\r\n")
	raw.roundTrip("SET a b\r\n", "+OK\r\n")
	raw.roundTrip("GET a\r\n", "$1\r\nb\r\n")
	raw.roundTrip("\r\n\n   \r\nECHO x\r\n", "$1\r\nx\r\n")
	raw.roundTrip(`SET q "hello \x41\n"`+"\r\n", "+OK\r\n")
	raw.roundTrip("GET q\r\n", "$8\r\nhello A\n\r\n")
	raw.roundTrip("ECHO 'x y'\r\n", "$3\r\nx y\r\n")
	raw.roundTrip("EXISTS a a q nope\r\n", ":3\r\n")
	raw.roundTrip("foo a b\r\n", "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n")
	raw.roundTrip("GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n")
	raw.roundTrip("INCR a\r\nPING\r\n", "-"+textNotInteger+"\r\n", "+PONG\r\n")
	raw.roundTrip("*0\r\n*-1\r\nPING\r\n", "+PONG\r\n")
}

// TestServerSplitWrites sends requests one byte per write, so that the
// server sees every cut of them.
func TestServerSplitWrites(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	in := mbulk("SET", "split", "a value") + "GET split\r\n" + mbulk("MGET", "split", "nope")
	for i := range len(in) {
		raw.send(in[i : i+1])
	}
	raw.expect(in, "+OK\r\n", "$7\r\na value\r\n", "*2\r\n$7\r\na value\r\n$-1\r\n")
}

// TestServerPipeline writes 100 mixed commands at once: the replies come
// back in order and reads see the writes before them.
func TestServerPipeline(t *testing.T) {
	for _, maxPipeline := range []int{1024, 3} {
		t.Run(fmt.Sprintf("MaxPipeline=%d", maxPipeline), func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.MaxPipeline = maxPipeline })
			raw := dialRaw(t, ts)
			model := map[string]string{}
			var in strings.Builder
			var want []string
			for i := range 100 {
				key := "k" + strconv.Itoa(i%7)
				switch i % 5 {
				case 0:
					in.WriteString(mbulk("SET", key, "v"+strconv.Itoa(i)))
					model[key] = "v" + strconv.Itoa(i)
					want = append(want, "+OK\r\n")
				case 1:
					in.WriteString(mbulk("INCR", "counter"))
					n, _ := strconv.Atoi(model["counter"])
					model["counter"] = strconv.Itoa(n + 1)
					want = append(want, ":"+model["counter"]+"\r\n")
				case 2:
					in.WriteString(mbulk("GET", key))
					if v, ok := model[key]; ok {
						want = append(want, string(respwire.AppendBulkString(nil, v)))
					} else {
						want = append(want, "$-1\r\n")
					}
				case 3:
					in.WriteString(mbulk("GET", "counter"))
					want = append(want, string(respwire.AppendBulkString(nil, model["counter"])))
				case 4:
					if i%10 == 4 {
						in.WriteString(mbulk("INCR", key))
						if _, ok := model[key]; ok {
							want = append(want, "-"+textNotInteger+"\r\n")
						} else {
							model[key] = "1"
							want = append(want, ":1\r\n")
						}
					} else {
						in.WriteString(mbulk("DEL", key, "nope"))
						if _, ok := model[key]; ok {
							delete(model, key)
							want = append(want, ":1\r\n")
						} else {
							want = append(want, ":0\r\n")
						}
					}
				}
			}
			shared := func() int { // writes that did not need a log entry of their own
				t.Helper()
				info, err := newClient(t, ts, 2).Do(context.Background(), "RAFT.INFO").Text()
				if err != nil {
					t.Fatalf("RAFT.INFO: %v", err)
				}
				return raftInfoInt(t, info, "riot_apply_commands") - raftInfoInt(t, info, "riot_apply_entries")
			}
			before := shared()
			raw.send(in.String())
			for i, w := range want {
				got, err := raw.reply()
				if err != nil || string(got) != w {
					t.Fatalf("pipeline reply %d = %q, %v; want %q", i, got, err, w)
				}
			}
			raw.roundTrip("PING\r\n", "+PONG\r\n")
			// Consecutive writes (DEL or INCR, SET, INCR) were proposed together.
			if got := shared() - before; got < 20 {
				t.Errorf("%d of the pipeline's 60 writes shared a log entry, want at least 20", got)
			}
		})
	}
}

// TestServerRepliesWhileReading: writes sent one at a time, without
// waiting for replies, are answered in order while the session goes on
// reading (handed to the replier); a read after them sees them all; writes
// in flight when the client stops sending are still answered.
func TestServerRepliesWhileReading(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	const n = 300
	var want []string
	for i := 1; i <= n; i++ {
		raw.send(mbulk("INCR", "c"))
		want = append(want, ":"+strconv.Itoa(i)+"\r\n")
		switch {
		case i%100 == 0:
			raw.send(mbulk("GET", "c"))
			want = append(want, string(respwire.AppendBulkString(nil, strconv.Itoa(i))))
		case i%70 == 0:
			raw.send(mbulk("INCR", "not-a-number-key") + mbulk("SET", "not-a-number-key", "x") + mbulk("INCR", "not-a-number-key"))
			want = append(want, ":1\r\n", "+OK\r\n", "-"+textNotInteger+"\r\n")
			raw.send(mbulk("DEL", "not-a-number-key"))
			want = append(want, ":1\r\n")
		}
	}
	for i, w := range want {
		got, err := raw.reply()
		if err != nil || string(got) != w {
			t.Fatalf("reply %d = %q, %v; want %q", i, got, err, w)
		}
	}

	// A client that stops writing (half-closes) with writes in flight
	// still gets every reply before the server closes the connection.
	last := dialRaw(t, ts)
	for range n {
		last.send(mbulk("INCR", "late"))
	}
	if err := last.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	for i := 1; i <= n; i++ {
		if got, err := last.reply(); err != nil || string(got) != ":"+strconv.Itoa(i)+"\r\n" {
			t.Fatalf("after half-close: reply %d = %q, %v; want :%d", i, got, err, i)
		}
	}
	last.expectClosed(fmt.Sprintf("%d INCRs and a half-close", n))
	raw.roundTrip("PING\r\n", "+PONG\r\n")
}

// raftInfoInt returns the integer field name of a RAFT.INFO reply.
func raftInfoInt(t *testing.T, info, name string) int {
	t.Helper()
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("RAFT.INFO %s: %v", name, err)
			}
			return n
		}
	}
	t.Fatalf("RAFT.INFO has no %s:\n%s", name, info)
	return 0
}

// TestServerLargePipeline writes more than the initial read buffer holds
// in one write.
func TestServerLargePipeline(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	var in strings.Builder
	const n = 2000
	for i := range n {
		in.WriteString(mbulk("SET", "lp"+strconv.Itoa(i), strings.Repeat("x", 40)))
	}
	in.WriteString(mbulk("DBSIZE"))
	if in.Len() <= 4*initialBuf {
		t.Fatalf("pipeline of %d bytes does not exceed the read buffer", in.Len())
	}
	want := make([]string, 0, n+1)
	for range n {
		want = append(want, "+OK\r\n")
	}
	want = append(want, ":"+strconv.Itoa(n)+"\r\n")
	sent := fmt.Sprintf("<%d SETs>", n)
	done := make(chan error, 1)
	go func() { // the server may answer before the whole pipeline is written
		_, err := raw.conn.Write([]byte(in.String()))
		done <- err
	}()
	raw.expect(sent, want...)
	if err := <-done; err != nil {
		t.Fatalf("write pipeline: %v", err)
	}
}

// TestServerBigValue round-trips a 1 MB value.
func TestServerBigValue(t *testing.T) {
	ts := startServer(t, nil)
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	val := make([]byte, 1<<20)
	for i := range val {
		val[i] = byte(r.Uint32())
	}
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		if err := rdb.Set(ctx, "big", val, 0).Err(); err != nil {
			t.Fatalf("SET big <1 MB>: %v", err)
		}
		got, err := rdb.Get(ctx, "big").Bytes()
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("GET big = %d bytes, %v; want the 1 MB value back", len(got), err)
		}
		v, err := rdb.Echo(ctx, "after").Result()
		wantVal(t, "ECHO after the big value", v, err, "after")
	})
}

// TestServerConcurrentClients increments one counter from several
// connections at once.
func TestServerConcurrentClients(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 3, func(o *redis.Options) { o.PoolSize = 8 })
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				if err := rdb.Incr(ctx, "ctr").Err(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("INCR ctr: %v", err)
	}
	v, err := rdb.Get(ctx, "ctr").Result()
	wantVal(t, "GET ctr", v, err, strconv.Itoa(workers*each))
}

// TestServerClose checks that Close ends client connections and Serve.
func TestServerClose(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	raw.roundTrip("SET c v\r\n", "+OK\r\n")
	if err := ts.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	raw.expectClosed("(server closed)")
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
}

// TestServerCloseBeforeServe: Close may come before Serve has started (a
// test that skips at once): the race detector used to see Serve's
// WaitGroup.Add racing with Close's Wait. Serve then returns nil.
func TestServerCloseBeforeServe(t *testing.T) {
	backend := startServer(t, nil).Server.backend
	for range 20 {
		cfg := DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		srv, err := NewServer(cfg, backend)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Listen(); err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve() }()
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve after Close: %v, want nil", err)
		}
	}
}

// TestForwardValueAtBulkLimit: a value of exactly the bulk limit, which a
// client may send, is written through a follower too (the forwarded
// RIOT.APPLY carries each argument as its own bulk; it used to carry one
// bulk holding the whole command, over the leader's limit).
func TestForwardValueAtBulkLimit(t *testing.T) {
	const limit = 4096
	addrs := startClusterServersWith(t, 2, func(c *Config) { c.MaxBulkLen = limit })
	ctx := t.Context()
	big := strings.Repeat("v", limit)
	for _, addr := range addrs { // one of them follows
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		if err := c.Set(ctx, "big:"+addr, big, 0).Err(); err != nil {
			t.Fatalf("SET of a %d-byte value via %s: %v", limit, addr, err)
		}
		if got, err := c.Get(ctx, "big:"+addr).Result(); err != nil || got != big {
			t.Fatalf("GET via %s = %d bytes, %v; want %d", addr, len(got), err, limit)
		}
		if err := c.Set(ctx, "over", big+"v", 0).Err(); err == nil || !strings.Contains(err.Error(), "Protocol error") {
			t.Errorf("SET of a value over the limit via %s: %v, want a protocol error", addr, err)
		}
	}
}

// TestBytesHuman: INFO's *_human figures read as Redis writes them.
func TestBytesHuman(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.00K", 1536: "1.50K", 12_939_428: "12.34M", 3 << 30: "3.00G"} {
		if got := bytesHuman(n); got != want {
			t.Errorf("bytesHuman(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestRole: ROLE says master, as INFO does, with the applied index as the
// offset and no replicas.
// Reference: https://redis.io/docs/latest/commands/role/
func TestRole(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		got, err := rdb.Do(ctx, "ROLE").Slice()
		if err != nil || len(got) != 3 {
			t.Fatalf("ROLE = %#v, %v; want 3 elements", got, err)
		}
		offset, _ := got[1].(int64)
		replicas, _ := got[2].([]any)
		if got[0] != "master" || offset < 1 || replicas == nil || len(replicas) != 0 {
			t.Errorf("ROLE = %#v; want master, the applied index (>= 1), no replicas", got)
		}
		if _, err := rdb.Do(ctx, "ROLE", "x").Result(); err == nil || !strings.Contains(err.Error(), "wrong number of arguments for 'role'") {
			t.Errorf("ROLE x: %v, want the arity error", err)
		}
	})
}
