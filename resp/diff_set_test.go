package resp

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The set commands' differential test: a fixed sequence of requests at
// the edges of every set command (arity, counts, numkeys, LIMIT, missing
// keys, WRONGTYPE in every position, empty results, STORE onto every kind
// of destination, intset and hashtable encodings, MULTI), sent on one
// connection to redis-server and one to riot, in RESP2 then in RESP3. The
// replies are compared byte for byte, except where Redis's reply order
// is unspecified (members compared as sets) or random (compared by shape:
// the reply's types and lengths).

// setCmp is how a set case's replies are compared.
type setCmp int

const (
	cmpExact   setCmp = iota
	cmpMembers        // every flat array or set compared as a set
	cmpShape          // types and lengths only (random members, clocks)
	cmpScanAll        // SSCAN iterated to cursor 0: the members seen, as a set
)

type setCase struct {
	cmp  setCmp
	args []string
}

func exact(args ...string) setCase   { return setCase{cmpExact, args} }
func members(args ...string) setCase { return setCase{cmpMembers, args} }
func shape(args ...string) setCase   { return setCase{cmpShape, args} }

// manyMembers returns SADD key with n members named prefix+i.
func manyMembers(key, prefix string, n int) []string {
	args := []string{"SADD", key}
	for i := range n {
		args = append(args, prefix+strconv.Itoa(i))
	}
	return args
}

var setCases = []setCase{
	// arity
	exact("SADD", "k"), exact("SREM", "k"), exact("SCARD"), exact("SCARD", "a", "b"), exact("SISMEMBER", "k"),
	exact("SMISMEMBER", "k"), exact("SMEMBERS"), exact("SMEMBERS", "a", "b"), exact("SPOP"), exact("SRANDMEMBER"),
	exact("SMOVE", "a", "b"), exact("SINTER"), exact("SINTERCARD", "1"), exact("SINTERSTORE", "d"),
	exact("SUNION"), exact("SUNIONSTORE", "d"), exact("SDIFF"), exact("SDIFFSTORE", "d"), exact("SSCAN", "k"),

	// missing keys
	exact("SCARD", "nosuch"), exact("SISMEMBER", "nosuch", "a"), exact("SMISMEMBER", "nosuch", "a", "b"),
	exact("SMEMBERS", "nosuch"), exact("SPOP", "nosuch"), exact("SPOP", "nosuch", "3"), exact("SPOP", "nosuch", "0"),
	exact("SRANDMEMBER", "nosuch"), exact("SRANDMEMBER", "nosuch", "3"), exact("SRANDMEMBER", "nosuch", "-3"),
	exact("SREM", "nosuch", "a"), exact("SMOVE", "nosuch", "other", "a"), exact("SINTER", "nosuch"),
	exact("SUNION", "nosuch", "nosuch2"), exact("SDIFF", "nosuch"), exact("SINTERCARD", "2", "nosuch", "nosuch2"),
	exact("SSCAN", "nosuch", "0"), exact("SSCAN", "nosuch", "0", "COUNT", "0"), exact("SINTERSTORE", "d", "nosuch"),
	exact("EXISTS", "d"),

	// adding and removing
	exact("SADD", "s", "3", "1", "2", "10", "-5"), exact("SADD", "s", "1", "1", "4"), exact("SCARD", "s"),
	exact("SISMEMBER", "s", "10"), exact("SISMEMBER", "s", "11"), exact("SMISMEMBER", "s", "1", "x", "-5", "1"),
	members("SMEMBERS", "s"), exact("OBJECT", "ENCODING", "s"), exact("TYPE", "s"),
	exact("SADD", "t", "a", "b", "c", "1", ""), members("SMEMBERS", "t"), exact("SISMEMBER", "t", ""),
	exact("OBJECT", "ENCODING", "t"), exact("SREM", "t", "a", "zz", "a"), exact("SCARD", "t"),
	exact("SADD", "big", "9223372036854775807", "-9223372036854775808"), exact("OBJECT", "ENCODING", "big"),
	exact("SADD", "over", "9223372036854775808"), exact("OBJECT", "ENCODING", "over"),
	exact("SADD", "neg0", "-0"), exact("OBJECT", "ENCODING", "neg0"),
	exact("SADD", "lead0", "007"), exact("OBJECT", "ENCODING", "lead0"),
	exact("SADD", "gone", "x"), exact("SREM", "gone", "x"), exact("EXISTS", "gone"),
	exact("SADD", "gone", "y", "z"), exact("SREM", "gone", "y", "z", "w"), exact("EXISTS", "gone"),

	// WRONGTYPE, in every position
	exact("SET", "str", "v"),
	exact("SADD", "str", "a"), exact("SREM", "str", "a"), exact("SCARD", "str"), exact("SISMEMBER", "str", "a"),
	exact("SMISMEMBER", "str", "a"), exact("SMEMBERS", "str"), exact("SPOP", "str"), exact("SPOP", "str", "0"),
	exact("SPOP", "str", "2"), exact("SRANDMEMBER", "str"), exact("SRANDMEMBER", "str", "0"), exact("SRANDMEMBER", "str", "-2"),
	exact("SINTER", "str"), exact("SINTER", "nosuch", "str"), exact("SINTER", "str", "nosuch"), exact("SINTER", "s", "str"),
	exact("SUNION", "s", "nosuch", "str"), exact("SDIFF", "nosuch", "str"), exact("SDIFF", "s", "str"),
	exact("SINTERCARD", "2", "nosuch", "str"), exact("SINTERCARD", "1", "str", "LIMIT", "1"),
	exact("SINTERSTORE", "d", "nosuch", "str"), exact("SUNIONSTORE", "d", "str"), exact("SDIFFSTORE", "d", "s", "str"),
	exact("SUNIONSTORE", "str", "str", "s"), exact("GET", "str"),
	exact("SMOVE", "nosuch", "str", "a"), exact("SMOVE", "s", "str", "1"), exact("SMOVE", "str", "s", "1"),
	exact("SMOVE", "s", "str", "nosuch"), exact("SSCAN", "str", "0"), exact("SSCAN", "str", "x"),

	// SMOVE
	exact("SMOVE", "s", "s", "1"), exact("SMOVE", "s", "s", "zz"), exact("SMOVE", "s", "dst", "zz"), exact("EXISTS", "dst"),
	exact("SMOVE", "s", "dst", "1"), exact("SMOVE", "s", "dst", "1"), exact("SISMEMBER", "dst", "1"),
	exact("SADD", "dst", "2"), exact("EXPIRE", "dst", "1000"), exact("SMOVE", "s", "dst", "2"), exact("TTL", "dst"),
	exact("SCARD", "s"), exact("SCARD", "dst"), exact("SADD", "one", "x"), exact("SMOVE", "one", "dst", "x"),
	exact("EXISTS", "one"), members("SMEMBERS", "dst"),

	// SPOP
	exact("SPOP", "s", "-1"), exact("SPOP", "s", "x"), exact("SPOP", "s", "1", "2"), exact("SPOP", "s", "0"),
	exact("SPOP", "s", "99999999999999999999"), exact("SPOP", "s", "-0"),
	exact("SADD", "p1", "only"), exact("SPOP", "p1"), exact("SPOP", "p1"), exact("EXISTS", "p1"),
	exact("SADD", "p1", "only"), exact("SPOP", "p1", "1"), exact("EXISTS", "p1"),
	exact("SADD", "p2", "a", "b", "c"), members("SPOP", "p2", "3"), exact("EXISTS", "p2"),
	exact("SADD", "p2", "a", "b", "c"), members("SPOP", "p2", "9223372036854775807"), exact("EXISTS", "p2"),
	exact("SADD", "p3", "a", "b", "c", "d", "e"), exact("EXPIRE", "p3", "1000"),
	shape("SPOP", "p3"), shape("SPOP", "p3", "2"), exact("SCARD", "p3"), exact("TTL", "p3"), exact("DEL", "p3"),

	// SRANDMEMBER
	exact("SRANDMEMBER", "s", "x"), exact("SRANDMEMBER", "s", "1", "2"), exact("SRANDMEMBER", "s", "x", "y"),
	exact("SRANDMEMBER", "s", "-9223372036854775808"), exact("SRANDMEMBER", "s", "9223372036854775808"),
	exact("SRANDMEMBER", "s", "0"), members("SRANDMEMBER", "s", "100"), members("SRANDMEMBER", "s", "9223372036854775807"),
	shape("SRANDMEMBER", "s", "2"), shape("SRANDMEMBER", "s", "-7"), shape("SRANDMEMBER", "s"),
	exact("SRANDMEMBER", "one"), shape("SRANDMEMBER", "dst", "-3"), exact("SADD", "solo", "x"), exact("SRANDMEMBER", "solo", "-3"), exact("SRANDMEMBER", "solo", "3"), exact("SCARD", "s"),

	// SINTER, SUNION, SDIFF and SINTERCARD
	exact("SADD", "a", "1", "2", "3", "x", "y"), exact("SADD", "b", "2", "3", "4", "y"), exact("SADD", "c", "3", "y", "z"),
	members("SINTER", "a", "b"), members("SINTER", "a", "b", "c"), members("SINTER", "a", "nosuch", "b"),
	members("SINTER", "a", "a"), members("SUNION", "a", "b", "c"), members("SUNION", "a", "nosuch"),
	members("SDIFF", "a", "b"), members("SDIFF", "a", "b", "c"), members("SDIFF", "a", "nosuch"), members("SDIFF", "a", "a"),
	members("SDIFF", "nosuch", "a"), members("SINTER", "b"),
	exact("SINTERCARD", "2", "a", "b"), exact("SINTERCARD", "3", "a", "b", "c"), exact("SINTERCARD", "2", "a", "b", "LIMIT", "1"),
	exact("SINTERCARD", "2", "a", "b", "limit", "0"), exact("SINTERCARD", "2", "a", "b", "LIMIT", "99"),
	exact("SINTERCARD", "1", "a", "LIMIT", "3", "LIMIT", "2"), exact("SINTERCARD", "2", "a", "nosuch"),
	exact("SINTERCARD", "0", "a"), exact("SINTERCARD", "-1", "a"), exact("SINTERCARD", "x", "a"), exact("SINTERCARD", "", "a"),
	exact("SINTERCARD", "99999999999999999999", "a"), exact("SINTERCARD", "3", "a", "b"), exact("SINTERCARD", "1", "a", "LIMIT"),
	exact("SINTERCARD", "1", "a", "LIMIT", "-1"), exact("SINTERCARD", "1", "a", "LIMIT", "x"), exact("SINTERCARD", "1", "a", "FOO"),
	exact("SINTERCARD", "1", "a", "b"), exact("SINTERCARD", "1", "str", "LIMIT", "-1"),
	exact("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"), exact("COMMAND", "GETKEYS", "SINTERCARD", "0", "a"),
	exact("COMMAND", "GETKEYS", "SINTERCARD", "3", "a", "b"), exact("COMMAND", "GETKEYS", "SINTERCARD", "x", "a"),
	exact("COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"), exact("COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"),

	// the STORE forms
	exact("SINTERSTORE", "i", "a", "b"), members("SMEMBERS", "i"), exact("SUNIONSTORE", "u", "a", "b", "c"),
	members("SMEMBERS", "u"), exact("SDIFFSTORE", "df", "a", "b", "c"), members("SMEMBERS", "df"),
	exact("SET", "dstr", "v", "EX", "1000"), exact("SUNIONSTORE", "dstr", "c"), exact("TYPE", "dstr"), exact("TTL", "dstr"),
	exact("SINTERSTORE", "i", "a", "nosuch"), exact("EXISTS", "i"), exact("SDIFFSTORE", "u", "a", "a"), exact("EXISTS", "u"),
	exact("SINTERSTORE", "nothere", "a", "nosuch"), exact("EXISTS", "nothere"),
	exact("SUNIONSTORE", "a", "a", "c"), members("SMEMBERS", "a"), exact("SDIFFSTORE", "c", "c"), members("SMEMBERS", "c"),
	exact("SINTERSTORE", "ints", "s", "s"), exact("OBJECT", "ENCODING", "ints"), exact("SUNIONSTORE", "mixed", "s", "t"),
	exact("OBJECT", "ENCODING", "mixed"),

	// SSCAN
	exact("SSCAN", "s", "x"), members("SSCAN", "s", "-1"), members("SSCAN", "s", "4611686018427387904"), members("SSCAN", "s", "12345"), exact("SSCAN", "s", "0", "COUNT", "0"),
	exact("SSCAN", "s", "0", "COUNT", "x"), exact("SSCAN", "s", "0", "FOO"), exact("SSCAN", "s", "0", "MATCH"),
	exact("SSCAN", "s", "0", "NOVALUES"),
	members("SSCAN", "s", "0"), members("SSCAN", "s", "0", "COUNT", "1"), members("SSCAN", "s", "0", "MATCH", "1*"),
	members("SSCAN", "s", "0", "MATCH", "nomatch*"), members("SSCAN", "t", "0", "COUNT", "100"),
	setCase{cmpExact, manyMembers("many", "", 600)}, exact("OBJECT", "ENCODING", "many"),
	setCase{cmpScanAll, []string{"SSCAN", "many", "0"}}, setCase{cmpScanAll, []string{"SSCAN", "many", "0", "COUNT", "7"}},
	setCase{cmpScanAll, []string{"SSCAN", "many", "0", "MATCH", "5*", "COUNT", "50"}},
	setCase{cmpExact, manyMembers("ints512", "", 512)}, exact("OBJECT", "ENCODING", "ints512"),
	exact("SADD", "ints512", "512"), exact("OBJECT", "ENCODING", "ints512"),

	// MULTI: reads of several sets and writes in one transaction
	exact("MULTI"), exact("SINTERCARD", "2", "a", "b"), exact("SADD", "m", "1", "2"), exact("SINTER", "m", "a"),
	exact("SMOVE", "m", "m2", "1"), exact("SUNIONSTORE", "m3", "m", "m2"), exact("SMEMBERS", "m3"), exact("SPOP", "m2", "5"),
	exact("SINTERCARD", "0", "a"), exact("SCARD", "m3"), exact("SPOP", "m", "-1"), exact("SMISMEMBER", "m", "2", "1"),
	exact("EXEC"),
}

// Reference: https://redis.io/docs/latest/commands/?group=set (every set
// command riot implements, compared with redis-server 7.0)
func TestDifferentialSets(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ref, got := dialDiffPair(t, redisAddr, riot.addr, proto)
			for _, sc := range setCases {
				want, have := setReply(t, ref, sc), setReply(t, got, sc)
				if want != have {
					t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(sc.args, " "), want, have)
				}
			}
		})
	}
}

// setReply sends a case's request on c and returns the reply, normalized
// as the case compares it.
func setReply(t *testing.T, c *rawConn, sc setCase) string {
	t.Helper()
	if sc.cmp == cmpScanAll {
		return sscanAll(t, c, sc.args)
	}
	c.send(req(sc.args...))
	raw, err := c.reply()
	if err != nil {
		t.Fatalf("%q: %v", sc.args, err)
	}
	switch sc.cmp {
	case cmpMembers:
		return normalizeMembers(raw)
	case cmpShape:
		return replyShape(raw)
	}
	return string(raw)
}

// sscanAll iterates SSCAN from cursor 0 to cursor 0 and returns the sorted
// members seen, each once.
func sscanAll(t *testing.T, c *rawConn, args []string) string {
	t.Helper()
	seen := map[string]bool{}
	args = slices.Clone(args)
	for range 10000 {
		c.send(req(args...))
		raw, err := c.reply()
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		n, rest := parseNode(raw)
		if len(rest) != 0 || len(n.elems) != 2 {
			return "bad scan reply " + string(raw)
		}
		for _, m := range n.elems[1].elems {
			seen[m.text] = true
		}
		if args[2] = n.elems[0].text; args[2] == "0" {
			break
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// respNode is a parsed reply: its type byte, its text (a simple string,
// error, number or bulk), and the elements of an aggregate.
type respNode struct {
	typ   byte
	text  string
	elems []respNode
	raw   []byte
}

// parseNode parses one well-formed reply (ReadReplyStrict read it) off b.
func parseNode(b []byte) (respNode, []byte) {
	i := bytes.Index(b, []byte("\r\n"))
	n := respNode{typ: b[0], text: string(b[1:i])}
	rest := b[i+2:]
	switch n.typ {
	case '$', '=', '!':
		l, _ := strconv.Atoi(n.text)
		if l >= 0 {
			n.text, rest = string(rest[:l]), rest[l+2:]
		}
	case '*', '~', '>', '%':
		l, _ := strconv.Atoi(n.text)
		if n.typ == '%' {
			l *= 2
		}
		for range max(l, 0) {
			var e respNode
			e, rest = parseNode(rest)
			n.elems = append(n.elems, e)
		}
	}
	n.raw = b[:len(b)-len(rest)]
	return n, rest
}

// normalizeMembers sorts the elements of every aggregate of raw whose
// elements are all scalars (a set of members), and re-encodes it.
func normalizeMembers(raw []byte) string {
	n, _ := parseNode(raw)
	var enc func(n respNode) string
	enc = func(n respNode) string {
		if n.elems == nil {
			return string(n.raw)
		}
		parts := make([]string, len(n.elems))
		flat := true
		for i, e := range n.elems {
			parts[i] = enc(e)
			flat = flat && e.elems == nil
		}
		if flat {
			slices.Sort(parts)
		}
		i := bytes.Index(n.raw, []byte("\r\n"))
		return string(n.raw[:i+2]) + strings.Join(parts, "")
	}
	return enc(n)
}

// replyShape is raw with every bulk's contents left out: the types and
// lengths of a reply of random members.
func replyShape(raw []byte) string {
	n, _ := parseNode(raw)
	var enc func(n respNode) string
	enc = func(n respNode) string {
		switch {
		case n.typ == '$' && n.text != "-1":
			return "$?"
		case n.typ == ':':
			return ":?" // a count of random picks, a clock (LASTSAVE, IDLETIME)
		case n.elems != nil:
			s := string(n.typ) + strconv.Itoa(len(n.elems)) + "["
			for _, e := range n.elems {
				s += enc(e) + " "
			}
			return s + "]"
		}
		return string(n.raw)
	}
	return enc(n)
}
