package resp

import (
	"strconv"
	"strings"
	"testing"
)

// Reference: https://redis.io/docs/latest/commands/config-set/,
// config-resetstat/, config-rewrite/ (errors as redis-server 7 words them)
func TestConfigSet(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBulkLen = 4 << 20 })
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		failed := func(name, why string) string {
			return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why
		}
		fixed := "riot cannot change it; see docs/commands.md"
		get := func(v string) string {
			if proto == 3 {
				return "map[proto-max-bulk-len:" + v + "]"
			}
			return "[proto-max-bulk-len " + v + "]"
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex("OK", "CONFIG", "SET", "proto-max-bulk-len", "2mb"),
			ex(get("2097152"), "CONFIG", "GET", "proto-max-bulk-len"),
			ex("OK", "CONFIG", "SET", "PROTO-MAX-BULK-LEN", "3000000", "save", "", "appendonly", "yes"),
		})
		if got, err := rdb.ConfigGet(ctx, "proto-max-bulk-len").Result(); err != nil || got["proto-max-bulk-len"] != "3000000" {
			t.Errorf("CONFIG GET proto-max-bulk-len after SET 3000000 = %v, %v", got, err)
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex(failed("proto-max-bulk-len", "argument must be between 1048576 and 536870912 inclusive"),
				"CONFIG", "SET", "proto-max-bulk-len", "1000"),
			ex(failed("proto-max-bulk-len", "argument must be a memory value"), "CONFIG", "SET", "proto-max-bulk-len", "abc"),
			ex(failed("proto-max-bulk-len", "argument must be a memory value"), "CONFIG", "SET", "proto-max-bulk-len", "-5mb"),
			ex(failed("proto-max-bulk-len", "argument must be a memory value"), "CONFIG", "SET", "proto-max-bulk-len", "99999999999gb"),
			ex(failed("databases", "can't set immutable config"), "CONFIG", "SET", "databases", "1"),
			ex(failed("appendfsync", fixed), "CONFIG", "SET", "appendfsync", "everysec"),
			ex(failed("maxmemory", fixed), "CONFIG", "SET", "maxmemory", "1mb"),
			ex(failed("Save", fixed), "CONFIG", "SET", "Save", "900 1"),
			ex(failed("maxmemory", "duplicate parameter"), "CONFIG", "SET", "maxmemory", "0", "maxmemory", "0"),
			// An unknown name wins over every other error, wherever it is.
			ex("ERR Unknown option or number of arguments for CONFIG SET - 'foo'", "CONFIG", "SET", "databases", "2", "foo", "bar"),
			ex("ERR Unknown option or number of arguments for CONFIG SET - 'requirepass'", "CONFIG", "SET", "requirepass", "x"),
			ex("ERR wrong number of arguments for 'config|set' command", "CONFIG", "SET", "maxmemory"),
			ex(textSyntax, "CONFIG", "SET", "maxmemory", "0", "save"),
			// Nothing is set when any value is refused.
			ex(failed("maxmemory", fixed), "CONFIG", "SET", "proto-max-bulk-len", "5mb", "maxmemory", "1"),
			ex(get("3000000"), "CONFIG", "GET", "proto-max-bulk-len"),
			ex("OK", "CONFIG", "RESETSTAT"),
			ex("ERR wrong number of arguments for 'config|resetstat' command", "CONFIG", "RESETSTAT", "x"),
			ex("ERR The server is running without a config file", "CONFIG", "REWRITE"),
			ex("ERR wrong number of arguments for 'config|rewrite' command", "CONFIG", "REWRITE", "x"),
		})
		if proto == 3 {
			return
		}
		help, err := rdb.Do(ctx, "CONFIG", "HELP").StringSlice()
		if err != nil || len(help) != 11 || !strings.HasPrefix(help[0], "CONFIG <subcommand>") {
			t.Errorf("CONFIG HELP = %q, %v", help, err)
		}
	})
}

// TestConfigSetProtoMaxBulkLen: the new limit applies to requests at once,
// and to the string growth limit commands carry.
func TestConfigSetProtoMaxBulkLen(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	c.roundTrip("CONFIG SET proto-max-bulk-len 1mb\r\n", "+OK\r\n")
	c.roundTrip("SETRANGE k 1048576 x\r\n", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
	c.roundTrip("SETBIT k 8388608 1\r\n", "-ERR bit offset is not an integer or out of range\r\n")
	c.roundTrip("SETRANGE k 1048575 x\r\n", ":1048576\r\n")
	in := "SET k $1048577\r\n"
	c.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
	c.expect(in, "-ERR Protocol error: invalid bulk length\r\n")
	c.expectClosed(in)
}

// TestConfigResetStat: INFO's totals and # Commandstats start again from 0
// (the Prometheus counters do not).
// Reference: https://redis.io/docs/latest/commands/config-resetstat/
func TestConfigResetStat(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	for range 5 {
		c.roundTrip("GET k\r\n", "$-1\r\n")
	}
	c.roundTrip("NOSUCH\r\n", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n")
	c.roundTrip("CONFIG RESETSTAT\r\n", "+OK\r\n")
	info := func(section string) map[string]string {
		t.Helper()
		c.send("INFO " + section + "\r\n")
		r, err := c.reply()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, l := range strings.Split(string(r), "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				m[k] = v
			}
		}
		return m
	}
	st := info("stats")
	if n, _ := strconv.Atoi(st["total_commands_processed"]); n > 2 || st["total_error_replies"] != "0" || st["total_connections_received"] != "0" {
		t.Errorf("INFO stats after CONFIG RESETSTAT = %v; want total_commands_processed at most 2 (RESETSTAT, INFO), no error reply, no connection", st)
	}
	if cs := info("commandstats"); cs["cmdstat_get"] != "" {
		t.Errorf("INFO commandstats after CONFIG RESETSTAT has cmdstat_get:%s; want none", cs["cmdstat_get"])
	}
	c.roundTrip("GET k\r\n", "$-1\r\n")
	if got := info("commandstats")["cmdstat_get"]; !strings.HasPrefix(got, "calls=1,") {
		t.Errorf("cmdstat_get after one GET since RESETSTAT = %q; want calls=1", got)
	}
}
