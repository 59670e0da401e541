package resp

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Reference: https://redis.io/docs/latest/commands/type/, rename/,
// renamenx/, copy/, unlink/, touch/, dbsize/, keys/, flushdb/,
// flushall/, randomkey/
func TestKeyspaceCommands(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		runExchanges(ctx, t, rdb, []exchange{
			ex("(nil)", "RANDOMKEY"),
			ex("0", "DBSIZE"),
			ex("OK", "MSET", "a", "1", "b", "2", "c", "3", "hello", "4", "hallo", "5", "h[llo", "6", "", "7"),
			ex("7", "DBSIZE"),
			ex("[ hello hallo b h[llo c a]", "KEYS", "*"),
			ex("[hello hallo h[llo]", "KEYS", "h?llo"),
			ex("[hello hallo]", "KEYS", "h[ae]llo"),
			ex("[hallo h[llo]", "KEYS", "h[^e]llo"),
			ex("[h[llo]", "KEYS", `h\[llo`),
			ex("[hello hallo b h[llo c a]", "KEYS", "**"), // "" matches only "*"
			ex("[]", "KEYS", "x*"),
			ex("string", "TYPE", "a"),
			ex("none", "TYPE", "nokey"),
			ex("OK", "RENAME", "a", "a2"),
			ex("1", "GET", "a2"),
			ex("ERR no such key", "RENAME", "nokey", "x"),
			ex("ERR no such key", "RENAME", "nokey", "nokey"),
			ex("OK", "RENAME", "a2", "a2"),
			ex("0", "RENAMENX", "a2", "a2"),
			ex("ERR no such key", "RENAMENX", "nokey", "x"),
			ex("0", "RENAMENX", "a2", "b"),
			ex("1", "RENAMENX", "a2", "z"),
			ex("1", "EXPIRE", "z", "100"),
			ex("OK", "RENAME", "z", "zz"),
			ex("100", "TTL", "zz"),
			ex("1", "COPY", "zz", "zc"),
			ex("100", "TTL", "zc"),
			ex("0", "COPY", "zz", "zc"),
			ex("1", "COPY", "b", "zc", "REPLACE"),
			ex("-1", "TTL", "zc"),
			ex("2", "GET", "zc"),
			ex("0", "COPY", "nokey", "x"),
			ex("1", "COPY", "zz", "q", "DB", "0"),
			ex("ERR DB index is out of range", "COPY", "zz", "q", "DB", "16"),
			ex("1", "COPY", "zz", "zz", "DB", "1"),
			ex(textNotInteger, "COPY", "zz", "q", "DB", "x"),
			ex("ERR value is out of range, value must between -2147483648 and 2147483647", "COPY", "zz", "q", "DB", "99999999999"),
			ex("ERR source and destination objects are the same", "COPY", "zz", "zz"),
			ex(textSyntax, "COPY", "zz", "q", "FOO"),
			ex(textSyntax, "COPY", "zz", "q", "DB"),
			ex("2", "UNLINK", "b", "c", "nokey"),
			ex("3", "EXISTS", "zz", "zz", "q", "nokey"),
			ex("2", "TOUCH", "zz", "zz", "nokey"),
			ex(textSyntax, "FLUSHALL", "foo"),
			ex(textSyntax, "FLUSHDB", "ASYNC", "SYNC"),
			ex("OK", "FLUSHDB", "async"),
			ex("0", "DBSIZE"),
			ex("OK", "SET", "only", "1"),
			ex("only", "RANDOMKEY"),
			ex("OK", "FLUSHALL", "SYNC"),
			ex("[]", "KEYS", "*"),
		})
		// RANDOMKEY returns an existing key.
		mustSet(ctx, t, rdb, "r1", "x")
		mustSet(ctx, t, rdb, "r2", "x")
		for range 20 {
			if k, err := rdb.RandomKey(ctx).Result(); err != nil || (k != "r1" && k != "r2") {
				t.Fatalf("RANDOMKEY = %q, %v; want r1 or r2", k, err)
			}
		}
	})
}

// Reference: https://redis.io/docs/latest/commands/object-encoding/,
// object-refcount/, object-idletime/, object-freq/, memory-usage/
func TestObjectMemory(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		runExchanges(ctx, t, rdb, []exchange{
			ex("OK", "MSET", "i", "123", "big", "12345678901", "neg", "-5", "lz", "007", "emb", string(bytes.Repeat([]byte("a"), 44)), "raw", string(bytes.Repeat([]byte("a"), 45))),
			ex("int", "OBJECT", "ENCODING", "i"),
			ex("int", "OBJECT", "encoding", "big"),
			ex("int", "OBJECT", "ENCODING", "neg"),
			ex("embstr", "OBJECT", "ENCODING", "lz"),
			ex("embstr", "OBJECT", "ENCODING", "emb"),
			ex("raw", "OBJECT", "ENCODING", "raw"),
			ex("(nil)", "OBJECT", "ENCODING", "nokey"),
			ex("2147483647", "OBJECT", "REFCOUNT", "i"),
			ex("1", "OBJECT", "REFCOUNT", "big"),
			ex("1", "OBJECT", "REFCOUNT", "emb"),
			ex("(nil)", "OBJECT", "REFCOUNT", "nokey"),
			ex("0", "OBJECT", "IDLETIME", "i"),
			ex("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.", "OBJECT", "FREQ", "i"),
			ex("(nil)", "OBJECT", "FREQ", "nokey"),
			ex("ERR wrong number of arguments for 'object|encoding' command", "OBJECT", "ENCODING"),
			ex("ERR wrong number of arguments for 'object|encoding' command", "OBJECT", "ENCODING", "a", "b"),
			ex("ERR unknown subcommand 'foo'. Try OBJECT HELP.", "OBJECT", "foo"),
			ex("ERR wrong number of arguments for 'object' command", "OBJECT"),
			ex("(nil)", "MEMORY", "USAGE", "nokey"),
			ex(textSyntax, "MEMORY", "USAGE", "i", "SAMPLES", "-1"),
			ex(textSyntax, "MEMORY", "USAGE", "i", "foo"),
			ex(textNotInteger, "MEMORY", "USAGE", "i", "SAMPLES", "x"),
			ex("ERR wrong number of arguments for 'memory|usage' command", "MEMORY", "USAGE"),
			ex("ERR unknown subcommand 'foo'. Try MEMORY HELP.", "MEMORY", "foo"),
		})
		for _, sub := range []string{"OBJECT", "MEMORY"} {
			help, err := rdb.Do(ctx, sub, "HELP").StringSlice()
			if err != nil || len(help) < 5 || help[0] != sub+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
				t.Errorf("%s HELP = %q, %v; want Redis's help lines", sub, help, err)
			}
		}
		small, err1 := rdb.MemoryUsage(ctx, "i").Result()
		large, err2 := rdb.MemoryUsage(ctx, "raw", 0).Result()
		if err1 != nil || err2 != nil || small <= 0 || large <= small {
			t.Errorf("MEMORY USAGE i = %d, %v; raw = %d, %v; want positive, growing with the value", small, err1, large, err2)
		}
	})
}

// TestScanCursor: the cursor is the 7-byte group of the next key plus 1,
// and resuming starts at the smallest key of that group.
func TestScanCursor(t *testing.T) {
	for _, key := range []string{"", "a", "ab", "ab\x00", "ab\x00\x00\x00\x00\x00", "abcdefg", "abcdefgh", "\xff\xff\xff\xff\xff\xff\xff\xff"} {
		c := scanCursor(scanGroup([]byte(key)))
		if c == 0 {
			t.Errorf("cursor of %q is 0 (done)", key)
		}
		start := scanStart(c)
		if bytes.Compare(start, []byte(key)) > 0 {
			t.Errorf("cursor %d of %q resumes at %q, after the key", c, key, start)
		}
		if scanGroup(start) != scanGroup([]byte(key)) {
			t.Errorf("cursor %d of %q resumes at %q, in another group", c, key, start)
		}
	}
	if s := scanStart(0); s != nil {
		t.Errorf("scanStart(0) = %q, want nil (the beginning)", s)
	}
	if s := scanStart(1<<64 - 1); !bytes.Equal(s, bytes.Repeat([]byte{0xff}, 7)) {
		t.Errorf("scanStart(max) = %q, want 7 bytes 0xff", s)
	}
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"42", 42, true}, {"+7", 7, true}, {"-1", 1<<64 - 1, true},
		{" 1", 0, false}, {"1 ", 0, false}, {"x", 0, false}, {"18446744073709551616", 0, false}, {"-", 0, false},
	} {
		if got, ok := parseCursor([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("parseCursor(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// scanAll runs a whole SCAN iteration with the given options and returns
// every key returned (with duplicates) and the number of calls.
func scanAll(ctx context.Context, t *testing.T, rdb *redis.Client, args ...any) ([]string, int) {
	t.Helper()
	var keys []string
	cursor := uint64(0)
	for calls := 1; ; calls++ {
		req := append([]any{"SCAN", strconv.FormatUint(cursor, 10)}, args...)
		res, err := rdb.Do(ctx, req...).Slice()
		if err != nil || len(res) != 2 {
			t.Fatalf("%v = %v, %v; want [cursor keys]", req, res, err)
		}
		next, err := strconv.ParseUint(fmt.Sprint(res[0]), 10, 64)
		if err != nil || next >= 1<<63 {
			t.Fatalf("%v: cursor %v: %v; want an integer below 2^63", req, res[0], err)
		}
		for _, k := range res[1].([]any) {
			keys = append(keys, k.(string))
		}
		if next == 0 {
			return keys, calls
		}
		if calls > 100000 {
			t.Fatalf("SCAN did not finish after %d calls", calls)
		}
		cursor = next
	}
}

// Reference: https://redis.io/docs/latest/commands/scan/ (MATCH, COUNT,
// TYPE and errors)
func TestScan(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts, eng := startServerEngine(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		var want []string
		for i := range 300 {
			want = append(want, fmt.Sprintf("key:%d", i))
		}
		// Keys sharing 7-byte groups and short keys with zero bytes.
		want = append(want, "", "\x00", "a", "a\x00", "a\x00\x00\x00\x00\x00\x00\x00", "a\x00\x01")
		for _, k := range want {
			mustSet(ctx, t, rdb, k, "v")
		}
		putForeignType(t, eng, "list")
		slices.Sort(want)
		got, calls := scanAll(ctx, t, rdb, "COUNT", "7")
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Contains(got, "list") {
			t.Errorf("SCAN missed the list key")
		}
		got = slices.DeleteFunc(got, func(k string) bool { return k == "list" })
		if !slices.Equal(got, want) {
			t.Errorf("SCAN COUNT 7 returned %d distinct keys, want %d", len(got), len(want))
		}
		if calls < 10 {
			t.Errorf("SCAN COUNT 7 over %d keys took %d calls, want COUNT to bound a call", len(want), calls)
		}
		got, _ = scanAll(ctx, t, rdb, "MATCH", "key:1?", "COUNT", "1000")
		if slices.Sort(got); !slices.Equal(got, []string{"key:10", "key:11", "key:12", "key:13", "key:14", "key:15", "key:16", "key:17", "key:18", "key:19"}) {
			t.Errorf("SCAN MATCH key:1? = %q", got)
		}
		got, _ = scanAll(ctx, t, rdb, "TYPE", "STREAM")
		if !slices.Equal(got, []string{"list"}) {
			t.Errorf("SCAN TYPE STREAM = %q, want [list]", got)
		}
		got, _ = scanAll(ctx, t, rdb, "TYPE", "nosuchtype")
		if len(got) != 0 {
			t.Errorf("SCAN TYPE nosuchtype = %q, want nothing", got)
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex("ERR invalid cursor", "SCAN", "x"),
			ex("ERR invalid cursor", "SCAN", " 1"),
			ex(textSyntax, "SCAN", "0", "COUNT", "0"),
			ex(textNotInteger, "SCAN", "0", "COUNT", "x"),
			ex(textSyntax, "SCAN", "0", "MATCH"),
			ex(textSyntax, "SCAN", "0", "FOO", "bar"),
			ex("[0 []]", "SCAN", "18446744073709551615"),
		})
	})
}

// TestScanConcurrentWrites: a full SCAN iteration while other keys are
// written and deleted returns every key present from start to end at
// least once, with keys that differ within their first 7 bytes (group
// cursors) and keys that share a long prefix (key cursors).
// Reference: https://redis.io/docs/latest/commands/scan/ (scan guarantees)
func TestScanConcurrentWrites(t *testing.T) {
	for _, prefix := range []string{"s", "session:user:"} {
		t.Run(strings.TrimSuffix(prefix, ":"), func(t *testing.T) { testScanConcurrentWrites(t, prefix) })
	}
}

func testScanConcurrentWrites(t *testing.T, prefix string) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	stable := map[string]bool{}
	pipe := rdb.Pipeline()
	for i := range 2000 {
		k := fmt.Sprintf(prefix+"%05d", i*7%2000)
		stable[k] = true
		pipe.Set(ctx, k, "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("writing the stable keys: %v", err)
	}
	stop := make(chan struct{})
	var wg, warm sync.WaitGroup
	var writes atomic.Int64
	for w := range 3 {
		wg.Add(1)
		warm.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, ts, 2)
			for i := 0; ; i++ {
				if i == 10 {
					warm.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
				// Keys landing before, among and after the stable ones.
				for _, k := range []string{fmt.Sprintf("a%d:%d", w, i), fmt.Sprintf(prefix+"%05d:%d", i%2000, w), fmt.Sprintf(prefix+"%05d", 2000+i), fmt.Sprintf("z%d:%d", w, i)} {
					if err := c.Set(ctx, k, "x", 0).Err(); err != nil {
						t.Errorf("concurrent SET %s: %v", k, err)
						return
					}
					writes.Add(1)
					if i%2 == 0 {
						if err := c.Del(ctx, k).Err(); err != nil {
							t.Errorf("concurrent DEL %s: %v", k, err)
							return
						}
					}
				}
			}
		}()
	}
	warm.Wait() // every writer is running
	before := writes.Load()
	got, calls := scanAll(ctx, t, rdb, "COUNT", "20")
	during := writes.Load() - before
	close(stop)
	if calls < 50 {
		t.Errorf("SCAN COUNT 20 over 2000 keys took %d calls, want at least 100", calls)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, k := range got {
		seen[k] = true
	}
	missing := 0
	for k := range stable {
		if !seen[k] {
			missing++
			if missing < 5 {
				t.Errorf("SCAN under concurrent writes missed %q", k)
			}
		}
	}
	if missing > 0 {
		t.Errorf("SCAN missed %d of %d stable keys", missing, len(stable))
	}
	if during == 0 {
		t.Errorf("no concurrent write happened during the SCAN")
	}
	t.Logf("%d calls returned %d keys (%d distinct) while 3 writers made %d writes", calls, len(got), len(seen), during)
}
