package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// req encodes args as a RESP request.
func req(args ...string) string {
	s := "*" + strconv.Itoa(len(args)) + "\r\n"
	for _, a := range args {
		s += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
	}
	return s
}

// Reference: https://redis.io/docs/latest/commands/auth/ (the default user
// without requirepass is "nopass": any password authenticates it).
func TestAuthWithoutPassword(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	raw.roundTrip(req("AUTH", "default", "anything"), "+OK\r\n")
	raw.roundTrip(req("AUTH", "bob", "anything"), "-"+textWrongPass+"\r\n")
	raw.roundTrip(req("AUTH", "anything"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")
	raw.send(req("HELLO", "2", "AUTH", "default", "anything"))
	if got, err := raw.reply(); err != nil || got[0] != '*' {
		t.Errorf("HELLO 2 AUTH default anything = %q, %v; want the server's map", got, err)
	}
	raw.roundTrip(req("PING"), "+PONG\r\n")
}

// Reference: https://redis.io/docs/latest/commands/hello/ (Redis parses
// every option before it authenticates; a bad option or name leaves the
// connection as it was).
func TestHelloParsesBeforeAuth(t *testing.T) {
	const pass = "s3cret"
	ts := startServer(t, func(c *Config) { c.RequirePass = pass })
	raw := dialRaw(t, ts)
	raw.roundTrip(req("HELLO", "3", "AUTH", "default", pass, "BADOPT"), "-ERR Syntax error in HELLO option 'BADOPT'\r\n")
	raw.roundTrip(req("GET", "k"), "-"+textNoAuth+"\r\n")
	raw.roundTrip(req("HELLO", "3", "AUTH", "default", pass, "SETNAME", "a b"), "-"+string(errInvalidName)+"\r\n")
	raw.roundTrip(req("GET", "k"), "-"+textNoAuth+"\r\n")
	raw.roundTrip(req("HELLO", "3", "SETNAME", "a b", "AUTH", "default", "wrong"), "-"+string(errInvalidName)+"\r\n")
	for _, v := range []string{"+3", "03", " 3", "3.0"} {
		raw.roundTrip(req("HELLO", v), "-ERR Protocol version is not an integer or out of range\r\n")
	}
	raw.roundTrip(req("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n")
}

// Reference: https://redis.io/docs/latest/commands/select/ (the index is
// parsed as Redis parses integers: no sign, no leading zeros)
func TestSelectStrictInteger(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	for _, v := range []string{"00", "+0", "-0", " 0", "0x0", ""} {
		raw.roundTrip(req("SELECT", v), "-"+string(errNotInteger)+"\r\n")
	}
	raw.roundTrip(req("SELECT", "0"), "+OK\r\n")
	raw.roundTrip(req("SELECT", "15"), "+OK\r\n")
	raw.roundTrip(req("SELECT", "16"), "-"+string(errDBIndex)+"\r\n")
	raw.roundTrip(req("SELECT", "-1"), "-"+string(errDBIndex)+"\r\n")
	raw.roundTrip(req("SELECT", "4294967296"), "-"+string(errIntRange)+"\r\n")
}

// TestNodeOnlyCommands: a client cannot send node-to-node commands; a
// connection that presented the node secret can, and even then RIOT.APPLY
// takes only what a client command produces, with its Now bounded by the
// leader's clock.
func TestNodeOnlyCommands(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	setMember := kv.Command{Op: kv.OpSetMember, ClientID: 1, Seq: 1,
		Args: [][]byte{[]byte("node1"), []byte("x"), []byte("127.0.0.1:1")}}
	for _, args := range [][]string{
		{"RIOT.APPLY", string(setMember.Encode())}, {"RIOT.READINDEX"}, {"RIOT.CONFIRM"},
		{"RIOT.MEMBER", "node1"}, {"RIOT.REMOVED", "node1", "node1"},
		{"RIOT.ANNOUNCE", "node1", "x", "127.0.0.1:1"},
	} {
		raw.roundTrip(req(args...), "-"+errNodeOnly(strings.ToLower(args[0]))+"\r\n")
	}
	raw.roundTrip(req("RIOT.AUTH", "guess"), "-NOPERM invalid node secret\r\n")
	raw.roundTrip(req("RIOT.AUTH", ""), "-NOPERM invalid node secret\r\n")
	raw.roundTrip(req("RIOT.READINDEX"), "-"+errNodeOnly("riot.readindex")+"\r\n")

	secret := ts.backend.(secretBackend).NodeSecret()
	if len(secret) == 0 {
		t.Fatal("the node has no secret")
	}
	raw.roundTrip(req("RIOT.AUTH", string(secret)), "+OK\r\n")
	raw.roundTrip(req("RIOT.APPLY", string(setMember.Encode())), "-ERR malformed forwarded command\r\n")
	for _, op := range []kv.Op{kv.OpDelMember, kv.OpLeave, kv.OpPruneRequests, kv.OpSecret, kv.OpExpire, kv.OpNoop} {
		c := kv.Command{Op: op, ClientID: 1, Seq: 2, Args: [][]byte{[]byte("node1")}}
		raw.roundTrip(req("RIOT.APPLY", string(c.Encode())), "-ERR malformed forwarded command\r\n")
	}
	bad := kv.Command{Op: kv.OpSetRange, ClientID: 1, Seq: 3, Int: 1 << 62,
		Args: [][]byte{[]byte("k"), []byte("x"), []byte("9223372036854775807")}}
	raw.send(req("RIOT.APPLY", string(bad.Encode())))
	if got, err := raw.reply(); err != nil || len(got) < 5 || string(got[:5]) != "-ERR " {
		t.Errorf("RIOT.APPLY of SETRANGE at 2^62 = %q, %v; want an error", got, err)
	}
	future := time.Now().Add(24 * time.Hour).UnixMilli()
	ok := kv.Command{Op: kv.OpSet, ClientID: 1, Seq: 4, Now: future, Args: [][]byte{[]byte("k"), []byte("v")}}
	raw.send(req("RIOT.APPLY", string(ok.Encode())))
	if got, err := raw.reply(); err != nil || got[0] != '$' {
		t.Fatalf("RIOT.APPLY of SET = %q, %v; want the encoded result", got, err)
	}
	node := ts.backend.(interface{ RaftInfo() []raftkv.Field })
	for _, f := range node.RaftInfo() {
		if f.Name == "riot_clock_clamped" && f.Value != "1" {
			t.Errorf("riot_clock_clamped = %s, want 1", f.Value)
		}
	}
	c := newClient(t, ts, 2)
	if v, err := c.Get(testCtx(t), "k").Result(); err != nil || v != "v" {
		t.Errorf("GET k = %q, %v; want the forwarded write", v, err)
	}
}

// TestRemovalNoticeChecked: a removal notice (RIOT.REMOVED), even from a
// connection authenticated as a node, stops nothing unless the leader it
// names confirms (RIOT.MEMBER, which only the leader answers).
func TestRemovalNoticeChecked(t *testing.T) {
	servers := startCluster(t, 3, nil)
	var leader, follower *testServer
	var leaderID, followerID string
	for _, ts := range servers {
		st := ts.backend.(interface{ RaftState() string }).RaftState()
		id := ts.backend.(interface{ Following() (uint64, string) })
		_, lid := id.Following()
		if st == "leader" {
			leader, leaderID = ts, lid
		} else {
			follower = ts
		}
	}
	for _, f := range follower.backend.(interface{ RaftInfo() []raftkv.Field }).RaftInfo() {
		if f.Name == "node_id" {
			followerID = f.Value
		}
	}
	secret := string(leader.backend.(secretBackend).NodeSecret())
	asNode := func(ts *testServer) *rawConn {
		raw := dialRaw(t, ts)
		raw.roundTrip(req("RIOT.AUTH", secret), "+OK\r\n")
		return raw
	}
	f, l := asNode(follower), asNode(leader)
	f.send(req("RIOT.REMOVED", followerID, leaderID))
	if got, err := f.reply(); err != nil || !strings.Contains(string(got), "still has this node") {
		t.Errorf("RIOT.REMOVED to a member = %q, %v; want the leader's denial", got, err)
	}
	f.send(req("RIOT.REMOVED", leaderID, leaderID))
	if got, err := f.reply(); err != nil || got[0] != '-' {
		t.Errorf("RIOT.REMOVED naming another node = %q, %v; want an error", got, err)
	}
	f.send(req("RIOT.REMOVED", followerID, "nosuch"))
	if got, err := f.reply(); err != nil || !strings.Contains(string(got), "not in the address book") {
		t.Errorf("RIOT.REMOVED from an unknown node = %q, %v; want an error", got, err)
	}
	l.roundTrip(req("RIOT.MEMBER", followerID), ":1\r\n")
	f.send(req("RIOT.MEMBER", followerID))
	if got, err := f.reply(); err != nil || got[0] != '-' {
		t.Errorf("RIOT.MEMBER on a follower = %q, %v; want an error (only the leader answers)", got, err)
	}
	if st := follower.backend.(interface{ RaftState() string }).RaftState(); st == "shutdown" {
		t.Errorf("the follower shut down on an unconfirmed notice")
	}
}

// Reference: https://redis.io/docs/latest/commands/command-getkeys/ and
// command-list/, command-count/ (replies checked against redis-server 7.0).
func TestCommandSubcommands(t *testing.T) {
	ts := startServer(t, nil)
	raw := dialRaw(t, ts)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"COMMAND", "COUNT", "x"}, "-ERR wrong number of arguments for 'command|count' command\r\n"},
		{[]string{"COMMAND", "GETKEYS", "get"}, "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{[]string{"COMMAND", "GETKEYS", "set", "k", "v"}, "*1\r\n$1\r\nk\r\n"},
		{[]string{"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"COMMAND", "GETKEYS", "mget", "a", "b", "c"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{[]string{"COMMAND", "GETKEYS", "nosuch", "a"}, "-ERR Invalid command specified\r\n"},
		{[]string{"COMMAND", "GETKEYS", "ping", "a"}, "-ERR The command has no key arguments\r\n"},
		{[]string{"COMMAND", "GETKEYS", "mset", "a"}, "-ERR Invalid number of arguments specified for command\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY"}, "-ERR syntax error\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "FOO", "x"}, "-ERR syntax error\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"}, "*0\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "PATTERN", "getd*"}, "*1\r\n$6\r\ngetdel\r\n"},
	} {
		raw.roundTrip(req(tc.args...), tc.want)
	}
}

// TestWriteOnStoppedStateMachine: a write whose entry committed but which
// this node's state machine could not apply (its engine failed) answers
// UNCERTAIN, never OK or a plain error; after that the node refuses reads
// and writes with the reason, and stays up.
func TestWriteOnStoppedStateMachine(t *testing.T) {
	mem := storage.NewMemory()
	t.Cleanup(func() { mem.Close() })
	eng := storage.NewFaultyEngine(mem)
	ts := startServerOn(t, eng, nil)
	raw := dialRaw(t, ts)
	raw.roundTrip(req("SET", "k", "v"), "+OK\r\n")
	eng.FailWrites.Store(true)
	raw.send(req("SET", "k", "w"))
	if got, err := raw.reply(); err != nil || !strings.HasPrefix(string(got), "-UNCERTAIN ") {
		t.Errorf("SET while the engine fails = %q, %v; want UNCERTAIN", got, err)
	}
	eng.FailWrites.Store(false)
	for _, args := range [][]string{{"GET", "k"}, {"SET", "k", "x"}} {
		raw.send(req(args...))
		if got, err := raw.reply(); err != nil || !strings.Contains(string(got), "state machine failed") {
			t.Errorf("%q after the state machine stopped = %q, %v; want its error", args, got, err)
		}
	}
	raw.roundTrip(req("PING"), "+PONG\r\n")
}

// noSecret is a Backend whose node knows no node secret (it has not applied
// the entry that records it).
type noSecret struct{ Backend }

func (noSecret) NodeSecret() []byte { return nil }

// TestNodeCommandsWithoutSecret: a node that knows no node secret yet (it
// just joined, or its cluster is being upgraded from a release without
// secrets) takes node-to-node commands without one, as before secrets, and
// says so to RIOT.AUTH, so that a dialer goes on without.
func TestNodeCommandsWithoutSecret(t *testing.T) {
	legacy := serve(t, noSecret{startServer(t, nil).backend}, nil)
	raw := dialRaw(t, legacy)
	raw.roundTrip(req("RIOT.AUTH", "anything"), "-NOPERM this node has no node secret yet\r\n")
	raw.send(req("RIOT.READINDEX"))
	if got, err := raw.reply(); err != nil || got[0] != ':' {
		t.Errorf("RIOT.READINDEX on a node without a secret = %q, %v; want an index", got, err)
	}
}
