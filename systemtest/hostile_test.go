package systemtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// extremes are the arguments the hostile corpus draws from: keys, numbers
// at and past every integer limit, floats Redis refuses, option words, and
// strings empty, binary and long.
var extremes = []string{
	"k", "s", "n", "big",
	"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
	"18446744073709551616", "4294967295", "4294967296", "536870911", "536870912", "2147483648",
	"-1", "0", "1", "00", "+1", "-0", "1e308", "-1e308", "1e309", "inf", "-inf", "+inf", "nan", "0x10", "3.5",
	"", "\x00\xff", strings.Repeat("x", 1000),
	"EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "GET", "KEEPTTL", "PERSIST", "COUNT", "MATCH", "TYPE",
	"LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN", "BYTE", "BIT", "REPLACE", "DB", "ENCODING", "USAGE", "SAMPLES",
	"*", "SET", "GET", "RESETSTAT", "SETNAME", "LIST", "ID", "INFO", "DOCS", "all", "everything",
}

// skipped commands change the connection or the cluster's membership
// rather than data: sent at random, they would end the corpus early
// (QUIT), queue the rest of it (MULTI), remove or stop nodes (RAFT.LEAVE,
// SHUTDOWN: operators' commands that work as documented) or wait for data
// that never comes (the blocking pops, with a timeout of 0).
var skipped = map[string]bool{
	"quit": true, "multi": true, "exec": true, "discard": true, "watch": true, "unwatch": true, "hello": true,
	"raft.join": true, "raft.leave": true, "raft.remove": true, "raft.transfer": true, "shutdown": true,
	"blpop": true, "brpop": true, "blmove": true, "brpoplpush": true, "blmpop": true, "bzpopmin": true,
	"bzpopmax": true, "bzmpop": true,
}

// TestHostileClient: every command, with arguments at and past every
// limit, CONFIG SET of every parameter to extreme values, and node-to-node
// commands, sent by a client to every node of a 3-node cluster. Afterwards
// every node is up, serves, reports a running state machine, and all hold
// the same keys and values in every database.
func TestHostileClient(t *testing.T) {
	nodes := startCluster(t, 3)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx := testCtx(t, 5*time.Minute)

	// The regressions first: one client crash-looped the cluster with the
	// first two (every replica panicked applying the SETRANGE).
	for _, n := range nodes {
		wantErrPrefix(t, n, "ERR CONFIG SET failed", "CONFIG", "SET", "proto-max-bulk-len", "9223372036854775807")
	}
	for _, args := range [][]any{
		{"SETRANGE", "k", "9223372036854775806", "x"},
		{"SETBIT", "k", "9223372036854775807", "1"},
		{"SET", "k", "v", "PX", "9223372036854775807"},
		{"EXPIRE", "k", "9223372036854775807"},
		{"RIOT.APPLY", "\x01\x06\x04\x01\x01\x03\x02n1\x01x\x01y"},
		{"RIOT.AUTH", "guess"},
		{"RIOT.ANNOUNCE", "n1", "127.0.0.1:1", "127.0.0.1:2"},
	} {
		for _, n := range nodes {
			if err := n.do(args...).Err(); err == nil {
				t.Errorf("%q via %s: no error", args, n.NodeID)
			}
		}
	}

	// CONFIG SET of every parameter to each extreme value, on every node.
	params, err := nodes[0].admin().ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatalf("CONFIG GET *: %v", err)
	}
	for p := range params {
		for _, v := range extremes[4:] {
			for _, n := range nodes {
				n.do("CONFIG", "SET", p, v)
			}
		}
	}
	for _, n := range nodes { // big strings are allowed, but slow to replicate
		if err := n.do("CONFIG", "SET", "proto-max-bulk-len", "1mb").Err(); err != nil {
			t.Fatalf("CONFIG SET proto-max-bulk-len 1mb on %s: %v", n.NodeID, err)
		}
	}

	// Every command, at random arities, with random extreme arguments.
	infos, err := nodes[0].admin().Command(ctx).Result()
	if err != nil {
		t.Fatalf("COMMAND: %v", err)
	}
	names := make([]string, 0, len(infos))
	for name := range infos {
		if !skipped[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	clients := clientsFor(t, nodes)
	sent := 0
	for _, name := range names {
		arity := int(infos[name].Arity)
		for range 25 {
			args := []any{name}
			n := arity - 1
			if arity < 0 {
				n = -arity - 1 + rng.IntN(4)
			}
			if rng.IntN(10) == 0 { // the wrong number, now and then
				n = max(0, n+rng.IntN(3)-1)
			}
			for range n {
				args = append(args, extremes[rng.IntN(len(extremes))])
			}
			i := rng.IntN(len(nodes))
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := clients[i].Do(cctx, args...).Err()
			cancel()
			sent++
			var ne net.Error
			if errors.As(err, &ne) && !nodes[i].running() {
				t.Fatalf("%q killed %s: %v", args, nodes[i].NodeID, err)
			}
		}
	}
	t.Logf("sent %d random commands", sent)

	// Afterwards: every node runs, serves and agrees.
	for _, n := range nodes {
		if !n.running() {
			t.Fatalf("%s exited", n.NodeID)
		}
		if err := n.do("PING").Err(); err != nil {
			t.Errorf("PING %s: %v", n.NodeID, err)
		}
		if info := raftInfo(ctx, t, n.admin()); info["riot_fsm_failed"] != "0" {
			t.Errorf("%s: riot_fsm_failed %q (%s)", n.NodeID, info["riot_fsm_failed"], info["riot_fsm_error"])
		}
	}
	if err := nodes[0].do("SET", "hostile:end", "1").Err(); err != nil {
		t.Fatalf("SET after the corpus: %v", err)
	}
	states := make([]map[string]string, len(nodes))
	for i, n := range nodes {
		states[i] = keyState(ctx, t, n)
	}
	for i := 1; i < len(nodes); i++ {
		if d := diffStates(states[0], states[i]); d != "" {
			t.Errorf("%s and %s disagree: %s", nodes[0].NodeID, nodes[i].NodeID, d)
		}
	}
	t.Logf("%d keys agree on %d nodes", len(states[0]), len(nodes))
}

// wantErrPrefix runs args on n and wants an error reply starting with
// prefix.
func wantErrPrefix(t *testing.T, n *node, prefix string, args ...any) {
	t.Helper()
	if err := n.do(args...).Err(); err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("%q via %s = %v; want %s...", args, n.NodeID, err, prefix)
	}
}

// keyState reads every key's value (a collection's type and contents) and
// deadline on n, in every one of the 16 databases, after a linearizable
// read of the last write (so n applied everything before it); keys whose
// deadline is within a minute are left out, since they may expire between
// the reads of two nodes.
func keyState(ctx context.Context, t *testing.T, n *node) map[string]string {
	t.Helper()
	if v, err := n.admin().Get(ctx, "hostile:end").Result(); err != nil || v != "1" {
		t.Fatalf("GET hostile:end on %s = %q, %v", n.NodeID, v, err)
	}
	soon := time.Now().Add(time.Minute).UnixMilli()
	state := make(map[string]string)
	for db := range 16 {
		c := redis.NewClient(&redis.Options{Addr: n.Addr, DB: db, MaxRetries: -1, Protocol: 2})
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatalf("KEYS * in db %d on %s: %v", db, n.NodeID, err)
		}
		for _, k := range keys {
			ms, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
			if err != nil {
				t.Fatalf("PEXPIRETIME %q in db %d on %s: %v", k, db, n.NodeID, err)
			}
			if ms >= 0 && ms < soon {
				continue
			}
			v, err := c.Get(ctx, k).Result()
			if errors.Is(err, redis.Nil) {
				continue // expired meanwhile
			}
			if err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE") {
				v, err = collectionContents(ctx, c, k) // a hash, set or sorted set
			}
			if err != nil {
				t.Fatalf("GET %q in db %d on %s: %v", k, db, n.NodeID, err)
			}
			state[fmt.Sprintf("db%d:%s", db, k)] = strconv.Quote(v) + " " + strconv.FormatInt(ms, 10)
		}
		c.Close()
	}
	return state
}

// diffStates describes how a and b differ ("" when they do not).
func diffStates(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, fmt.Sprintf("%q: %.60s vs %.60s", k, v, w))
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%q: missing vs %.60s", k, w))
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("... %d more", len(out)-5))
	}
	return strings.Join(out, "; ")
}
