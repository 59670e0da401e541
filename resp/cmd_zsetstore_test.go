package resp

import (
	"fmt"
	"testing"

	"github.com/riotkv/riot/kv"
)

// zcase is a request and its reply bytes in RESP2 and RESP3 (resp3 "":
// the same as resp2).
type zcase struct {
	args         []string
	resp2, resp3 string
}

func zc(resp2 string, args ...string) zcase { return zcase{args: args, resp2: resp2} }

func zc3(resp2, resp3 string, args ...string) zcase {
	return zcase{args: args, resp2: resp2, resp3: resp3}
}

// runZCases sends each case on one connection (after HELLO 3 for proto
// 3) and compares the reply bytes.
func runZCases(t *testing.T, ts *testServer, proto int, cases []zcase) {
	t.Helper()
	c := dialRaw(t, ts)
	if proto == 3 {
		c.send(req("HELLO", "3"))
		if _, err := c.reply(); err != nil {
			t.Fatal(err)
		}
	}
	for _, z := range cases {
		want := z.resp2
		if proto == 3 && z.resp3 != "" {
			want = z.resp3
		}
		c.send(req(z.args...))
		got, err := c.reply()
		if err != nil || string(got) != want {
			t.Errorf("resp%d %q = %q, %v; want %q", proto, z.args, got, err, want)
		}
	}
}

const (
	textWrongTypeReply = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	textSyntaxReply    = "-ERR syntax error\r\n"
)

// Reference: https://redis.io/docs/latest/commands/zunion/ (and zinter,
// zdiff, zintercard, the *store forms; t_zset.c
// zunionInterDiffGenericCommand: numkeys, then the key lookups, then the
// options). These need no sorted set: missing keys and a string.
func TestZCombineErrorsAndMissingKeys(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		runZCases(t, ts, proto, []zcase{
			zc("+OK\r\n", "SET", "str", "v"),
			zc("-ERR at least 1 input key is needed for 'zunion' command\r\n", "ZUNION", "0", "a"),
			zc("-ERR at least 1 input key is needed for 'zinter' command\r\n", "ZINTER", "-1", "a"),
			zc("-ERR at least 1 input key is needed for 'zdiff' command\r\n", "ZDIFF", "0", "a"),
			zc("-ERR at least 1 input key is needed for 'zintercard' command\r\n", "ZINTERCARD", "0", "a"),
			zc("-ERR at least 1 input key is needed for 'zunionstore' command\r\n", "ZUNIONSTORE", "d", "0", "a"),
			zc("-ERR at least 1 input key is needed for 'zinterstore' command\r\n", "ZINTERSTORE", "d", "0", "a"),
			zc("-ERR at least 1 input key is needed for 'zdiffstore' command\r\n", "ZDIFFSTORE", "d", "0", "a"),
			zc("-ERR value is not an integer or out of range\r\n", "ZUNION", "x", "a"),
			zc("-ERR value is not an integer or out of range\r\n", "ZUNIONSTORE", "d", "01", "a"),
			zc(textSyntaxReply, "ZUNION", "3", "a", "b"),
			zc(textSyntaxReply, "ZINTERSTORE", "str", "2", "str"),
			zc("-ERR wrong number of arguments for 'zunionstore' command\r\n", "ZUNIONSTORE", "d", "1"),
			zc("-ERR wrong number of arguments for 'zintercard' command\r\n", "ZINTERCARD", "1"),
			// WRONGTYPE before any option error.
			zc(textWrongTypeReply, "ZUNION", "1", "str", "WEIGHTS", "x"),
			zc(textWrongTypeReply, "ZINTER", "2", "nosuch", "str", "FOO"),
			zc(textWrongTypeReply, "ZDIFF", "2", "nosuch", "str"),
			zc(textWrongTypeReply, "ZINTERCARD", "2", "nosuch", "str", "LIMIT", "-1"),
			zc(textWrongTypeReply, "ZUNIONSTORE", "d", "1", "str", "AGGREGATE", "foo"),
			zc(textWrongTypeReply, "ZDIFFSTORE", "d", "2", "nosuch", "str", "WEIGHTS", "1", "1"),
			zc("-ERR weight value is not a float\r\n", "ZUNION", "1", "a", "WEIGHTS", "x"),
			zc("-ERR weight value is not a float\r\n", "ZUNION", "1", "a", "WEIGHTS", "nan"),
			zc("-ERR weight value is not a float\r\n", "ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", " 2"),
			zc(textSyntaxReply, "ZUNION", "2", "a", "b", "WEIGHTS", "1"),
			zc(textSyntaxReply, "ZUNION", "1", "a", "AGGREGATE", "avg"),
			zc(textSyntaxReply, "ZUNION", "1", "a", "AGGREGATE"),
			zc(textSyntaxReply, "ZDIFF", "1", "a", "WEIGHTS", "1"),
			zc(textSyntaxReply, "ZDIFF", "1", "a", "AGGREGATE", "sum"),
			zc(textSyntaxReply, "ZUNIONSTORE", "d", "1", "a", "WITHSCORES"),
			zc(textSyntaxReply, "ZINTERCARD", "1", "a", "WITHSCORES"),
			zc(textSyntaxReply, "ZINTERCARD", "1", "a", "WEIGHTS", "1"),
			zc(textSyntaxReply, "ZINTERCARD", "1", "a", "LIMIT"),
			zc("-ERR LIMIT can't be negative\r\n", "ZINTERCARD", "1", "a", "LIMIT", "-1"),
			zc("-ERR LIMIT can't be negative\r\n", "ZINTERCARD", "1", "a", "LIMIT", "x"),
			// Missing keys: empty results.
			zc("*0\r\n", "ZUNION", "2", "a", "b", "WITHSCORES", "WEIGHTS", "1", "2", "AGGREGATE", "max", "withscores"),
			zc("*0\r\n", "ZINTER", "1", "a"),
			zc("*0\r\n", "ZDIFF", "1", "a", "WITHSCORES"),
			zc(":0\r\n", "ZINTERCARD", "2", "a", "b", "LIMIT", "0"),
			zc(":0\r\n", "ZUNIONSTORE", "d", "1", "a"),
			// An empty result deletes the destination, whatever it is.
			zc(":0\r\n", "ZINTERSTORE", "str", "1", "nosuch"),
			zc(":0\r\n", "EXISTS", "str"),
			zc("+OK\r\n", "SET", "str", "v"),
		})
	})
}

// Reference: https://redis.io/docs/latest/commands/command-getkeys/ and
// command-info/ (numkeys commands: movablekeys; the sources, then a
// store's destination, first or last as Redis 7.0 lists it)
func TestZCombineKeys(t *testing.T) {
	ts := startServer(t, nil)
	runZCases(t, ts, 2, []zcase{
		zc("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "COMMAND", "GETKEYS", "ZUNION", "2", "a", "b", "WEIGHTS", "1", "2"),
		zc("*1\r\n$1\r\na\r\n", "COMMAND", "GETKEYS", "ZINTER", "1x", "a", "b"),
		zc("*2\r\n$1\r\na\r\n$1\r\nd\r\n", "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "1x", "a"),
		zc("*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n", "COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "2", "a", "b"),
		zc("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n", "COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "+2", "a", "b"),
		zc("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "COMMAND", "GETKEYS", "ZINTERCARD", "2", "a", "b", "LIMIT", "1"),
		zc("-ERR Invalid arguments specified for command\r\n", "COMMAND", "GETKEYS", "ZUNION", "0", "a"),
		zc("-ERR Invalid arguments specified for command\r\n", "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a"),
		zc("-ERR Invalid arguments specified for command\r\n", "COMMAND", "GETKEYS", "ZINTERSTORE", "d", "-1", "a"),
	})
	c := dialRaw(t, ts)
	for _, tt := range []struct{ name, info string }{
		{"zunion", "*10\r\n$6\r\nzunion\r\n:-3\r\n*2\r\n+readonly\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n"},
		{"zintercard", "*10\r\n$10\r\nzintercard\r\n:-3\r\n*2\r\n+readonly\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n"},
		{"zunionstore", "*10\r\n$11\r\nzunionstore\r\n:-4\r\n*2\r\n+write\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"},
	} {
		c.send(req("COMMAND", "INFO", tt.name))
		got, err := c.reply()
		if err != nil || len(got) < 4+len(tt.info) || string(got[4:4+len(tt.info)]) != tt.info {
			t.Errorf("COMMAND INFO %s = %q, %v; want it to start with %q", tt.name, got, err, tt.info)
		}
	}
}

// needZSets skips a test whose inputs need ZADD and SADD when the server
// has not got them (they come from the sorted set and set families).
func needZSets(t *testing.T, ts *testServer) {
	t.Helper()
	if ts.commands["zadd"] == nil || ts.commands["sadd"] == nil {
		t.Skip("ZADD or SADD is not implemented: the combinations' inputs cannot be built")
	}
}

// zinputs builds the inputs of the tests: a: x 1, y 2, z 3; b: y 10, w 20;
// s: the set {x, w, q}; inf: p inf, q -inf, r 0; ninf: p -inf, q -inf,
// r inf; str: a string.
var zinputs = []zcase{
	zc(":3\r\n", "ZADD", "a", "1", "x", "2", "y", "3", "z"),
	zc(":2\r\n", "ZADD", "b", "10", "y", "20", "w"),
	zc(":3\r\n", "SADD", "s", "x", "w", "q"),
	zc(":3\r\n", "ZADD", "inf", "inf", "p", "-inf", "q", "0", "r"),
	zc(":3\r\n", "ZADD", "ninf", "-inf", "p", "-inf", "q", "+inf", "r"),
	zc("+OK\r\n", "SET", "str", "v"),
}

// Reference: https://redis.io/docs/latest/commands/zunion/, zinter/,
// zdiff/, zintercard/ and the *store forms (replies checked against
// redis-server 7.0: RESP3 WITHSCORES is an array of [member, double])
func TestZCombine(t *testing.T) {
	ts := startServer(t, nil)
	needZSets(t, ts)
	runZCases(t, ts, 2, zinputs)
	forEachProto(t, func(t *testing.T, proto int) {
		runZCases(t, ts, proto, []zcase{
			zc("*4\r\n$1\r\nx\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nw\r\n", "ZUNION", "2", "a", "b"),
			zc3("*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\ny\r\n$2\r\n22\r\n$1\r\nw\r\n$2\r\n40\r\n",
				"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\nz\r\n,3\r\n*2\r\n$1\r\ny\r\n,22\r\n*2\r\n$1\r\nw\r\n,40\r\n",
				"ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "WITHSCORES"),
			zc3("*8\r\n$1\r\nx\r\n$1\r\n0\r\n$1\r\ny\r\n$1\r\n0\r\n$1\r\nz\r\n$1\r\n0\r\n$1\r\nw\r\n$2\r\n20\r\n",
				"*4\r\n*2\r\n$1\r\nx\r\n,0\r\n*2\r\n$1\r\ny\r\n,0\r\n*2\r\n$1\r\nz\r\n,0\r\n*2\r\n$1\r\nw\r\n,20\r\n",
				"ZUNION", "2", "b", "a", "AGGREGATE", "MIN", "WITHSCORES", "WEIGHTS", "1", "0"),
			zc3("*10\r\n$1\r\nq\r\n$1\r\n1\r\n$1\r\nw\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n",
				"*5\r\n*2\r\n$1\r\nq\r\n,1\r\n*2\r\n$1\r\nw\r\n,1\r\n*2\r\n$1\r\nx\r\n,2\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nz\r\n,3\r\n",
				"ZUNION", "2", "a", "s", "WITHSCORES"),
			zc3("*6\r\n$1\r\nq\r\n$4\r\n-inf\r\n$1\r\np\r\n$1\r\n0\r\n$1\r\nr\r\n$3\r\ninf\r\n",
				"*3\r\n*2\r\n$1\r\nq\r\n,-inf\r\n*2\r\n$1\r\np\r\n,0\r\n*2\r\n$1\r\nr\r\n,inf\r\n",
				"ZUNION", "2", "inf", "ninf", "WITHSCORES"),
			zc3("*6\r\n$1\r\np\r\n$4\r\n-inf\r\n$1\r\nr\r\n$2\r\n-0\r\n$1\r\nq\r\n$3\r\ninf\r\n",
				"*3\r\n*2\r\n$1\r\np\r\n,-inf\r\n*2\r\n$1\r\nr\r\n,-0\r\n*2\r\n$1\r\nq\r\n,inf\r\n",
				"ZUNION", "1", "inf", "WEIGHTS", "-1", "WITHSCORES"),
			zc3("*2\r\n$1\r\nx\r\n$1\r\n2\r\n", "*1\r\n*2\r\n$1\r\nx\r\n,2\r\n", "ZINTER", "2", "a", "s", "WITHSCORES"),
			zc3("*2\r\n$1\r\ny\r\n$2\r\n10\r\n", "*1\r\n*2\r\n$1\r\ny\r\n,10\r\n", "ZINTER", "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"),
			zc("*0\r\n", "ZINTER", "3", "a", "b", "s"),
			zc3("*6\r\n$1\r\np\r\n$1\r\n0\r\n$1\r\nq\r\n$1\r\n0\r\n$1\r\nr\r\n$1\r\n0\r\n",
				"*3\r\n*2\r\n$1\r\np\r\n,0\r\n*2\r\n$1\r\nq\r\n,0\r\n*2\r\n$1\r\nr\r\n,0\r\n",
				"ZINTER", "2", "inf", "ninf", "WEIGHTS", "1", "0", "WITHSCORES"),
			zc3("*4\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n", "*2\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nz\r\n,3\r\n", "ZDIFF", "2", "a", "s", "WITHSCORES"),
			zc("*2\r\n$1\r\nq\r\n$1\r\nw\r\n", "ZDIFF", "2", "s", "a"),
			zc(":1\r\n", "ZINTERCARD", "2", "a", "s"),
			zc(":2\r\n", "ZINTERCARD", "2", "s", "s", "LIMIT", "2"),
			zc(":3\r\n", "ZINTERCARD", "1", "s", "LIMIT", "0"),
			zc(textWrongTypeReply, "ZUNION", "2", "a", "str"),
			// Stores.
			zc(":4\r\n", "ZUNIONSTORE", "str", "2", "a", "b", "WEIGHTS", "2", "1"),
			zc("+zset\r\n", "TYPE", "str"),
			zc3("*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n6\r\n$1\r\ny\r\n$2\r\n14\r\n$1\r\nw\r\n$2\r\n20\r\n",
				"*4\r\n*2\r\n$1\r\nx\r\n,2\r\n*2\r\n$1\r\nz\r\n,6\r\n*2\r\n$1\r\ny\r\n,14\r\n*2\r\n$1\r\nw\r\n,20\r\n",
				"ZUNION", "1", "str", "WITHSCORES"),
			zc(":2\r\n", "ZINTERSTORE", "str", "2", "str", "s", "WEIGHTS", "1", "0.5", "AGGREGATE", "MIN"),
			zc3("*4\r\n$1\r\nw\r\n$3\r\n0.5\r\n$1\r\nx\r\n$3\r\n0.5\r\n", "*2\r\n*2\r\n$1\r\nw\r\n,0.5\r\n*2\r\n$1\r\nx\r\n,0.5\r\n", "ZUNION", "1", "str", "WITHSCORES"),
			zc(":1\r\n", "ZDIFFSTORE", "str", "2", "b", "a"),
			zc3("*2\r\n$1\r\nw\r\n$2\r\n20\r\n", "*1\r\n*2\r\n$1\r\nw\r\n,20\r\n", "ZUNION", "1", "str", "WITHSCORES"),
			zc("-ERR weight value is not a float\r\n", "ZUNIONSTORE", "d", "1", "str", "WEIGHTS", "x"), // str is a sorted set now
			zc("-ERR weight value is not a float\r\n", "ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "x"),
			zc(":0\r\n", "ZDIFFSTORE", "str", "2", "a", "a"),
			zc(":0\r\n", "EXISTS", "str"),
			zc("+OK\r\n", "SET", "str", "v"),
			zc(textWrongTypeReply, "ZUNIONSTORE", "d", "1", "str", "WEIGHTS", "x"),
			// A -0 stored is 0, as in Redis's listpack.
			zc(":3\r\n", "ZUNIONSTORE", "neg", "1", "inf", "WEIGHTS", "-1"),
			zc3("*6\r\n$1\r\np\r\n$4\r\n-inf\r\n$1\r\nr\r\n$1\r\n0\r\n$1\r\nq\r\n$3\r\ninf\r\n",
				"*3\r\n*2\r\n$1\r\np\r\n,-inf\r\n*2\r\n$1\r\nr\r\n,0\r\n*2\r\n$1\r\nq\r\n,inf\r\n",
				"ZUNION", "1", "neg", "WITHSCORES"),
		})
	})
}

// Reference: https://redis.io/docs/latest/commands/multi/ (a read with
// numkeys inside a transaction reads the keys it names)
func TestZCombineInMulti(t *testing.T) {
	ts := startServer(t, nil)
	needZSets(t, ts)
	runZCases(t, ts, 2, append(zinputs,
		zc("+OK\r\n", "MULTI"),
		zc("+QUEUED\r\n", "ZUNIONSTORE", "d", "2", "a", "s"),
		zc("+QUEUED\r\n", "ZINTER", "2", "d", "b", "WITHSCORES"),
		zc("+QUEUED\r\n", "ZINTERCARD", "2", "d", "s"),
		zc("+QUEUED\r\n", "ZDIFF", "0", "d"),
		zc("*4\r\n:5\r\n*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nw\r\n$2\r\n21\r\n:3\r\n-ERR at least 1 input key is needed for 'zdiff' command\r\n", "EXEC"),
	))
}

// The stores' ops, as buildZStore makes them: valid entries, the
// options as kv reads them, option errors deferred to the op.
func TestBuildZStore(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantInt int64
		want    []string // the op's Args
	}{
		{[]string{"zunionstore", "d", "2", "a", "b"}, kv.CombineUnion, []string{"d", "a", "b"}},
		{[]string{"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "-inf", "AGGREGATE", "MAX"},
			kv.CombineUnion | kv.CombineMax | kv.CombineWeights, []string{"d", "a", "b", "1", "-inf"}},
		{[]string{"zinterstore", "d", "1", "a", "aggregate", "min", "weights", "0x1p3", "aggregate", "sum"},
			kv.CombineInter | kv.CombineWeights, []string{"d", "a", "0x1p3"}},
		{[]string{"zinterstore", "d", "1", "a", "WEIGHTS", "2", "WEIGHTS", "3"}, kv.CombineInter | kv.CombineWeights, []string{"d", "a", "3"}},
		{[]string{"zdiffstore", "d", "2", "a", "a"}, kv.CombineDiff, []string{"d", "a", "a"}},
		{[]string{"zdiffstore", "d", "1", "a", "WEIGHTS", "1"}, kv.CombineDiff | kv.CombineFailSyntax, []string{"d", "a"}},
		{[]string{"zunionstore", "d", "1", "a", "WITHSCORES"}, kv.CombineUnion | kv.CombineFailSyntax, []string{"d", "a"}},
		{[]string{"zunionstore", "d", "1", "a", "AGGREGATE", "MAX", "WEIGHTS", "x"}, kv.CombineUnion | kv.CombineFailWeight, []string{"d", "a"}},
	} {
		cmd := newCommandTable()[tt.args[0]]
		c, _, err := cmd.build(nil, toArgs(tt.args))
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if c.Op != kv.OpZStore || c.Int != tt.wantInt || fmt.Sprintf("%q", c.Args) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%q = %s Int %#x Args %q, want Int %#x Args %q", tt.args, c.Op, c.Int, c.Args, tt.wantInt, tt.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", tt.args, err)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/multi/ (as
// TestZCombineInMulti, with sets for inputs: it needs SADD only)
func TestZCombineInMultiSets(t *testing.T) {
	ts := startServer(t, nil)
	if ts.commands["sadd"] == nil {
		t.Skip("SADD is not implemented: the combinations' inputs cannot be built")
	}
	runZCases(t, ts, 2, []zcase{
		zc(":3\r\n", "SADD", "s", "x", "w", "q"),
		zc(":3\r\n", "SADD", "t", "w", "q", "z"),
		zc("+OK\r\n", "MULTI"),
		zc("+QUEUED\r\n", "ZUNIONSTORE", "d", "2", "s", "t", "WEIGHTS", "2", "3"),
		zc("+QUEUED\r\n", "ZINTER", "2", "d", "t", "WITHSCORES"),
		zc("+QUEUED\r\n", "ZINTERCARD", "2", "d", "s", "LIMIT", "2"),
		zc("+QUEUED\r\n", "ZDIFF", "2", "d", "s", "WITHSCORES"),
		zc("+QUEUED\r\n", "ZUNION", "0", "d"),
		zc("*5\r\n:4\r\n*6\r\n$1\r\nz\r\n$1\r\n4\r\n$1\r\nq\r\n$1\r\n6\r\n$1\r\nw\r\n$1\r\n6\r\n:2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n"+
			"-ERR at least 1 input key is needed for 'zunion' command\r\n", "EXEC"),
	})
}
