package resp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The COMMAND INFO differential test: for every command of the
// collections (hashes, sets, sorted sets, lists, blocking pops, bits,
// SORT) and the keyspace and server commands that work on them, riot's
// entry against redis-server's: arity, the flags riot models, first key,
// last key and step, and the key specs' begin_search and find_keys (what
// a client that routes by key positions reads). Where riot's entry differs
// by design, commandInfoExceptions says which part and why; nothing else
// may differ.

// commandInfoNames are the commands compared.
var commandInfoNames = []string{
	// hashes
	"hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hrandfield",
	"hscan", "hset", "hsetnx", "hstrlen", "hvals",
	// sets
	"sadd", "scard", "sdiff", "sdiffstore", "sinter", "sintercard", "sinterstore", "sismember", "smembers",
	"smismember", "smove", "spop", "srandmember", "srem", "sscan", "sunion", "sunionstore",
	// sorted sets
	"zadd", "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard", "zinterstore", "zlexcount",
	"zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange", "zrangebylex", "zrangebyscore", "zrangestore",
	"zrank", "zrem", "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex",
	"zrevrangebyscore", "zrevrank", "zscan", "zscore", "zunion", "zunionstore",
	// lists
	"lindex", "linsert", "llen", "lmove", "lmpop", "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset",
	"ltrim", "rpop", "rpoplpush", "rpush", "rpushx",
	// blocking
	"blmove", "blmpop", "blpop", "brpop", "brpoplpush", "bzmpop", "bzpopmax", "bzpopmin",
	// bits
	"bitcount", "bitfield", "bitfield_ro", "bitop", "bitpos", "getbit", "setbit",
	// SORT
	"sort", "sort_ro",
	// keyspace, databases and the server
	"copy", "dbsize", "del", "expire", "flushall", "flushdb", "move", "object", "randomkey", "rename", "renamenx",
	"scan", "select", "swapdb", "type", "unlink",
	"bgsave", "client", "command", "config", "info", "save", "shutdown",
	"discard", "exec", "multi", "unwatch", "watch",
}

// commandInfoFlags are the COMMAND INFO flags riot models. Redis's others
// (noscript, denyoom, stale, loading, skip_slowlog, may_replicate, ...)
// riot does not give: it has no scripts' restrictions, no maxmemory and no
// replicas that load.
var commandInfoFlags = []string{"write", "readonly", "admin", "no_auth", "blocking", "fast", "no_multi", "movablekeys"}

// commandInfoException is a part of a command's entry that differs from
// Redis's by design.
type commandInfoException struct {
	// specs: riot's key specs are simpler; they are not compared (first
	// key, last key and step still are).
	specs bool
	// flags riot gives differently.
	flags []string
	// sub: Redis's entry is a container whose subcommands carry the flags
	// and keys, riot's is one entry for all of them: its flags, keys and
	// key specs are compared with those of Redis's subcommand sub.
	sub string
	why string
}

// A "range" key spec from the first key to the last, one spec where Redis
// gives one per argument (or a fixed one then a range): riot's key specs
// are derived from first key, last key and step. Those still match, so a
// client that routes by them finds every key.
const whySimplerSpecs = "riot derives one range key spec from first key, last key and step; " +
	"Redis gives the source and the destination a spec each"

// commandInfoExceptions are the documented differences (docs/commands.md,
// COMMAND).
var commandInfoExceptions = map[string]commandInfoException{
	"copy":        {specs: true, why: whySimplerSpecs},
	"rename":      {specs: true, why: whySimplerSpecs},
	"renamenx":    {specs: true, why: whySimplerSpecs},
	"lmove":       {specs: true, why: whySimplerSpecs},
	"blmove":      {specs: true, why: whySimplerSpecs},
	"rpoplpush":   {specs: true, why: whySimplerSpecs},
	"brpoplpush":  {specs: true, why: whySimplerSpecs},
	"smove":       {specs: true, why: whySimplerSpecs},
	"zrangestore": {specs: true, why: whySimplerSpecs},
	"sinterstore": {specs: true, why: whySimplerSpecs},
	"sunionstore": {specs: true, why: whySimplerSpecs},
	"sdiffstore":  {specs: true, why: whySimplerSpecs},
	"bitop":       {specs: true, why: whySimplerSpecs},
	"sort": {specs: true, why: "riot gives only the sorted key's spec; Redis adds 'unknown' specs " +
		"for the keys BY and GET patterns read and for STORE's destination"},
	"sort_ro": {specs: true, why: "riot gives only the sorted key's spec; Redis adds an 'unknown' spec " +
		"for the keys BY and GET patterns read"},
	"dbsize": {flags: []string{"fast"}, why: "riot's DBSIZE counts the keys by a scan of the database (O(n)), " +
		"so it is not flagged fast"},
	"object": {sub: "object|encoding", why: "riot's OBJECT entry gives the key position of " +
		"OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT key, so that key-routing clients find the key"},
	"config":  {sub: "config|get", why: "riot's CONFIG entry is flagged admin, as CONFIG GET and SET are"},
	"client":  {sub: "client|id", why: "riot's CLIENT entry has the flags of CLIENT ID, GETNAME and SETNAME (none)"},
	"command": {sub: "command|info", why: "riot's COMMAND entry has the flags of COMMAND INFO (none)"},
}

// commandEntry is the part of a COMMAND INFO entry the test compares.
type commandEntry struct {
	arity            string
	flags            []string // of commandInfoFlags, sorted
	first, last, stp string
	specs            []string // begin_search and find_keys of each key spec
}

// Reference: https://redis.io/docs/latest/commands/command-info/ and
// https://redis.io/docs/latest/develop/reference/key-specs/
func TestDifferentialCommandInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ref, got := dialDiffPair(t, redisAddr, riot.addr, proto)
			for _, name := range commandInfoNames {
				exc := commandInfoExceptions[name]
				have, ok := commandInfoEntry(t, got, name)
				if !ok {
					t.Errorf("COMMAND INFO %s: riot has no entry", name)
					continue
				}
				want, ok := commandInfoEntry(t, ref, name)
				if !ok {
					t.Fatalf("COMMAND INFO %s: redis-server has no entry", name)
				}
				if want.arity != have.arity {
					t.Errorf("COMMAND INFO %s: arity %s, redis-server %s", name, have.arity, want.arity)
				}
				if exc.sub != "" {
					// Redis's container: the subcommand carries the rest.
					if want, ok = commandInfoEntry(t, ref, exc.sub); !ok {
						t.Fatalf("COMMAND INFO %s: redis-server has no entry", exc.sub)
					}
				}
				wantFlags := slices.DeleteFunc(slices.Clone(want.flags), func(f string) bool { return slices.Contains(exc.flags, f) })
				haveFlags := slices.DeleteFunc(slices.Clone(have.flags), func(f string) bool { return slices.Contains(exc.flags, f) })
				if !slices.Equal(wantFlags, haveFlags) {
					t.Errorf("COMMAND INFO %s: flags %v, redis-server %v", name, have.flags, want.flags)
				}
				if w, h := [3]string{want.first, want.last, want.stp}, [3]string{have.first, have.last, have.stp}; w != h {
					t.Errorf("COMMAND INFO %s: first key, last key, step %v, redis-server %v", name, h, w)
				}
				if !exc.specs && !slices.Equal(want.specs, have.specs) {
					t.Errorf("COMMAND INFO %s: key specs\n  redis-server: %q\n  riot:         %q", name, want.specs, have.specs)
				}
			}
		})
	}
	// Every exception names a compared command and gives its reason.
	for name, exc := range commandInfoExceptions {
		if !slices.Contains(commandInfoNames, name) || exc.why == "" {
			t.Errorf("commandInfoExceptions[%s]: not a compared command, or no reason", name)
		}
	}
}

// commandInfoEntry sends COMMAND INFO name on c and returns the compared
// part of the entry; false if the server has none.
func commandInfoEntry(t *testing.T, c *rawConn, name string) (commandEntry, bool) {
	t.Helper()
	c.send(req("COMMAND", "INFO", name))
	raw, err := c.reply()
	if err != nil {
		t.Fatalf("COMMAND INFO %s: %v", name, err)
	}
	top, _ := parseNode(raw)
	if len(top.elems) != 1 || len(top.elems[0].elems) < 9 {
		return commandEntry{}, false
	}
	f := top.elems[0].elems
	e := commandEntry{arity: f[1].text, first: f[3].text, last: f[4].text, stp: f[5].text}
	for _, fl := range f[2].elems {
		if slices.Contains(commandInfoFlags, fl.text) {
			e.flags = append(e.flags, fl.text)
		}
	}
	slices.Sort(e.flags)
	for _, spec := range f[8].elems {
		var parts []string
		for i := 0; i+1 < len(spec.elems); i += 2 {
			if k := spec.elems[i].text; k == "begin_search" || k == "find_keys" {
				parts = append(parts, k+"="+flatNode(spec.elems[i+1]))
			}
		}
		e.specs = append(e.specs, strings.Join(parts, " "))
	}
	return e, true
}

// flatNode renders a reply without its RESP types (a RESP2 array and a
// RESP3 map of the same pairs render alike).
func flatNode(n respNode) string {
	if !strings.ContainsRune("*~%>", rune(n.typ)) {
		return n.text
	}
	parts := make([]string, len(n.elems))
	for i, e := range n.elems {
		parts[i] = flatNode(e)
	}
	return "{" + strings.Join(parts, " ") + "}"
}
