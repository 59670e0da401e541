package gossip

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// waitTimeout bounds every positive wait: on loopback with Fast settings the
// cluster converges in well under a second, even under -race.
const waitTimeout = 10 * time.Second

// logSink sends log lines to t.Log until the test ends. memberlist's packet
// and stream handlers can still log after Shutdown returns, and t.Log after
// the test has completed panics, so the sink closes itself in a Cleanup that
// runs after every node's Shutdown (Cleanups run last-in, first-out).
type logSink struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func newTestLogger(t *testing.T, node string) *slog.Logger {
	t.Helper()
	s := &logSink{t: t}
	t.Cleanup(func() {
		s.mu.Lock()
		s.done = true
		s.mu.Unlock()
	})
	h := slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h).With("node", node)
}

// testConfig is a Fast loopback config for node id, with distinct raft and
// client addresses so the metadata round trip is checkable.
func testConfig(t *testing.T, id string, seeds ...string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Meta = Meta{
		ID:         id,
		RaftAddr:   "10.0.0.1:7000/" + id,
		ClientAddr: "10.0.0.1:6379/" + id,
		HTTPAddr:   "10.0.0.1:8080/" + id,
		Version:    "test",
	}
	cfg.BindAddr = "127.0.0.1:0"
	cfg.Seeds = seeds
	cfg.Fast = true
	cfg.RejoinInterval = 200 * time.Millisecond
	cfg.Logger = newTestLogger(t, id)
	return cfg
}

// start creates a node from cfg and shuts it down when the test ends.
func start(t *testing.T, cfg Config) *Gossip {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s on %s): %v", cfg.Meta.ID, cfg.BindAddr, err)
	}
	t.Cleanup(g.Shutdown)
	return g
}

// startNode starts a node with testConfig.
func startNode(t *testing.T, id string, seeds ...string) *Gossip {
	t.Helper()
	return start(t, testConfig(t, id, seeds...))
}

// waitFor polls cond until it returns nil or timeout passes, then fails the
// test with the last error cond returned.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// memberState checks that g sees member id in state want.
func memberState(g *Gossip, id string, want State) error {
	m, ok := g.Member(id)
	if !ok {
		return fmt.Errorf("%s not among %s", id, memberList(g))
	}
	if m.State != want {
		return fmt.Errorf("%s is %s, want %s", id, m.State, want)
	}
	return nil
}

// allAlive checks that every node sees every node in ids alive.
func allAlive(nodes map[string]*Gossip) error {
	for self, g := range nodes {
		for id := range nodes {
			if err := memberState(g, id, Alive); err != nil {
				return fmt.Errorf("as seen by %s: %w", self, err)
			}
		}
	}
	return nil
}

func memberList(g *Gossip) string {
	var b strings.Builder
	b.WriteString("[")
	for i, m := range g.Members() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s(%s@%s)", m.ID, m.State, m.GossipAddr)
	}
	b.WriteString("]")
	return b.String()
}

// waitEvent reads g's events until one matches, and returns it.
func waitEvent(t *testing.T, g *Gossip, what string, match func(Event) bool) Event {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case ev := <-g.Events():
			if match(ev) {
				return ev
			}
			seen = append(seen, fmt.Sprintf("%v:%s/%s", ev.Kind, ev.Member.ID, ev.Member.State))
		case <-timer.C:
			t.Fatalf("no event %s within %v; saw %v", what, waitTimeout, seen)
		}
	}
}

// drainEvents returns the events already queued on g.
func drainEvents(g *Gossip) []Event {
	var evs []Event
	for {
		select {
		case ev := <-g.Events():
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// stripStarted returns m without Started, which New fills in.
func stripStarted(m Meta) Meta {
	m.Started = 0
	return m
}

// reservePort finds a port free for both TCP and UDP on 127.0.0.1 and keeps
// it bound; the caller closes both just before a node binds it. The port is
// below the kernel's ephemeral range, so that while the test leaves it
// unbound no other socket (in this or a concurrent test process) is handed
// it by bind(0) or connect.
func reservePort(t *testing.T) (net.Listener, net.PacketConn) {
	t.Helper()
	const low = 10000
	high := 32768 // Linux's default ip_local_port_range starts here
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if p, err := strconv.Atoi(f[0]); err == nil {
				high = p
			}
		}
	}
	for range 100 {
		port := 0 // the kernel's choice, when there is no range below its own
		if high-low >= 1000 {
			port = low + rand.IntN(high-low)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		port = ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return ln, pc
		}
		ln.Close()
	}
	t.Fatal("no port free for both TCP and UDP")
	return nil, nil
}

func TestThreeNodesFormACluster(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	n3 := startNode(t, "n3", n1.Addr())
	nodes := map[string]*Gossip{"n1": n1, "n2": n2, "n3": n3}
	cfgMeta := map[string]Meta{}
	for id := range nodes {
		cfgMeta[id] = testConfig(t, id).Meta
	}

	waitFor(t, waitTimeout, "every node sees every node alive", func() error { return allAlive(nodes) })

	for self, g := range nodes {
		if got := len(g.Members()); got != 3 {
			t.Errorf("%s: %d members %s, want 3", self, got, memberList(g))
		}
		for id, peer := range nodes {
			m, _ := g.Member(id)
			if got, want := stripStarted(m.Meta), cfgMeta[id]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s sees %s with meta %+v, want %+v", self, id, got, want)
			}
			if m.Started == 0 {
				t.Errorf("%s sees %s with Started 0, want the start time New set", self, id)
			}
			if _, port, _ := net.SplitHostPort(peer.Addr()); port == "0" {
				t.Errorf("%s.Addr() = %s, want the port memberlist bound", id, peer.Addr())
			}
			if got, want := m.GossipAddr, peer.Addr(); got != want {
				t.Errorf("%s sees %s at %s, want %s", self, id, got, want)
			}
			if m.Since.IsZero() {
				t.Errorf("%s sees %s with a zero Since", self, id)
			}
		}
		// A member shows up in Members only after its event was queued, so
		// the join events are all there now.
		joins := map[string]Meta{}
		for _, ev := range drainEvents(g) {
			if ev.Kind == EventJoin {
				joins[ev.Member.ID] = stripStarted(ev.Member.Meta)
			}
		}
		for id := range nodes {
			if id == self {
				continue
			}
			got, ok := joins[id]
			if !ok {
				t.Errorf("%s: no EventJoin for %s; joins: %v", self, id, joins)
				continue
			}
			if want := cfgMeta[id]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: EventJoin for %s has meta %+v, want %+v", self, id, got, want)
			}
		}
	}
}

func TestSeedStartsLater(t *testing.T) {
	// Hold the seed's port and count n2's join attempts on it: each is a TCP
	// push/pull that we cut off.
	ln, pc := reservePort(t)
	seed := ln.Addr().String()
	var attempts atomic.Int32
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); pc.Close(); <-accepted })

	n2 := startNode(t, "n2", seed)
	waitFor(t, waitTimeout, "n2 retries its seed", func() error {
		if got := attempts.Load(); got < 3 {
			return fmt.Errorf("%d join attempts, want at least 3", got)
		}
		return nil
	})
	if got := len(n2.Members()); got != 1 {
		t.Fatalf("n2 alone sees %d members %s, want 1 (itself)", got, memberList(n2))
	}

	ln.Close()
	pc.Close()
	<-accepted
	cfg := testConfig(t, "n1")
	cfg.BindAddr = seed
	n1 := start(t, cfg)
	if got := n1.Addr(); got != seed {
		t.Fatalf("n1.Addr() = %s, want %s", got, seed)
	}

	waitFor(t, waitTimeout, "n1 and n2 see each other", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
}

func TestLeaveIsLeft(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	n3 := startNode(t, "n3", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2, "n3": n3})
	})
	drainEvents(n1)

	if err := n3.Leave(2 * time.Second); err != nil {
		t.Fatalf("n3.Leave: %v", err)
	}
	// A node that missed the leave would see n3 fail, and stay at Failed.
	waitEvent(t, n1, "EventLeave for n3 with state left", func(ev Event) bool {
		return ev.Kind == EventLeave && ev.Member.ID == "n3" && ev.Member.State == Left
	})
	if err := memberState(n1, "n3", Left); err != nil {
		t.Errorf("n1.Member: %v", err)
	}
	waitFor(t, waitTimeout, "n1 and n2 still see each other", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
	// Leave also shut n3 down; a second Shutdown is a no-op.
	n3.Shutdown()
}

func TestShutdownIsFailed(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
	drainEvents(n1)

	n2.Shutdown()
	ev := waitEvent(t, n1, "EventLeave for n2", func(ev Event) bool {
		return ev.Kind == EventLeave && ev.Member.ID == "n2"
	})
	if got, want := ev.Member.State, Failed; got != want {
		t.Errorf("EventLeave for n2: state %s, want %s", got, want)
	}
	if err := memberState(n1, "n2", Failed); err != nil {
		t.Errorf("n1.Member: %v", err)
	}
}

// TestSuspectBeforeFailed: a member that stops answering is first shown as
// suspect by the node whose probe got no ack, then as failed; a member that
// answers again is alive.
func TestSuspectBeforeFailed(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
	// A suspicion that an ack ends: alive again.
	n1.suspect("n2")
	if err := memberState(n1, "n2", Suspect); err != nil {
		t.Fatalf("after suspect: %v", err)
	}
	waitFor(t, waitTimeout, "n2 alive after n1's next probe", func() error { return memberState(n1, "n2", Alive) })

	n2.Shutdown()
	// memberlist suspects n2 for at least SuspicionMult probe intervals
	// (400ms in the fast settings), far longer than waitFor's polling.
	waitFor(t, waitTimeout, "n1 suspects n2", func() error {
		m, _ := n1.Member("n2")
		if m.State == Failed {
			t.Fatalf("n1 saw n2 go from alive to failed without suspecting it")
		}
		if m.State != Suspect {
			return fmt.Errorf("n2 is %s", m.State)
		}
		return nil
	})
	waitFor(t, waitTimeout, "n1 sees n2 failed", func() error { return memberState(n1, "n2", Failed) })
}

func TestUpdateMeta(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
	before, _ := n1.Member("n2")
	if before.HasState {
		t.Fatalf("n1 sees n2 with HasState before the update")
	}
	drainEvents(n1)

	if err := n2.UpdateMeta(func(m *Meta) { m.HasState = true }); err != nil {
		t.Fatalf("n2.UpdateMeta: %v", err)
	}
	ev := waitEvent(t, n1, "EventUpdate for n2 with HasState", func(ev Event) bool {
		return ev.Kind == EventUpdate && ev.Member.ID == "n2" && ev.Member.HasState
	})
	want := before.Meta
	want.HasState = true
	if got := ev.Member.Meta; !reflect.DeepEqual(got, want) {
		t.Errorf("EventUpdate meta %+v, want %+v", got, want)
	}
	if got, _ := n1.Member("n2"); !reflect.DeepEqual(got.Meta, want) {
		t.Errorf("n1.Member(n2) = %+v, want %+v", got.Meta, want)
	}
	if got, _ := n2.Member("n2"); !reflect.DeepEqual(got.Meta, want) {
		t.Errorf("n2.Member(n2) = %+v, want %+v", got.Meta, want)
	}
}

// An update that would not fit in memberlist's metadata, or that renames
// the node, is refused and changes nothing.
func TestUpdateMetaRejected(t *testing.T) {
	n1 := startNode(t, "n1")
	n2 := startNode(t, "n2", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
	before, _ := n1.Member("n2")

	for _, tc := range []struct {
		name string
		fn   func(m *Meta)
		want string
	}{
		{"oversize", func(m *Meta) { m.HTTPAddr = strings.Repeat("x", memberlist.MetaMaxSize) }, "exceeds"},
		{"rename", func(m *Meta) { m.ID = "other" }, "ID"},
	} {
		err := n2.UpdateMeta(tc.fn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("UpdateMeta(%s) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}

	// A valid update afterwards carries the old metadata plus its change:
	// once n1 sees it, n1 has seen everything n2 gossiped before it.
	if err := n2.UpdateMeta(func(m *Meta) { m.HasState = true }); err != nil {
		t.Fatalf("n2.UpdateMeta: %v", err)
	}
	want := before.Meta
	want.HasState = true
	waitFor(t, waitTimeout, "n1 sees n2's valid update", func() error {
		if got, _ := n1.Member("n2"); !reflect.DeepEqual(got.Meta, want) {
			return fmt.Errorf("n1 sees n2 with %+v, want %+v", got.Meta, want)
		}
		return nil
	})
	if _, ok := n1.Member("other"); ok {
		t.Errorf("n1 sees a member named other: %s", memberList(n1))
	}
}

func TestEncryption(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	other := bytes.Repeat([]byte{0xa5}, 32)
	withKey := func(id string, k []byte, seeds ...string) *Gossip {
		t.Helper()
		cfg := testConfig(t, id, seeds...)
		cfg.Key = k
		return start(t, cfg)
	}

	n1 := withKey("n1", key)
	n2 := withKey("n2", key, n1.Addr())
	waitFor(t, waitTimeout, "nodes with the same key form a cluster", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})

	// Same seed as n2, different key: it keeps trying (every 100ms at
	// first) and must never get in. Asserting an absence needs a window.
	n3 := withKey("n3", other, n1.Addr())
	plain := start(t, testConfig(t, "plain", n1.Addr()))
	const window = 2 * time.Second
	deadline := time.Now().Add(window)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		for _, g := range []*Gossip{n3, plain} {
			if got := len(g.Members()); got != 1 {
				t.Fatalf("node with the wrong key sees %s, want only itself", memberList(g))
			}
		}
		for _, g := range []*Gossip{n1, n2} {
			for _, id := range []string{"n3", "plain"} {
				if m, ok := g.Member(id); ok {
					t.Fatalf("a node of the cluster sees %s (%s) which has the wrong key", id, m.State)
				}
			}
		}
		<-tick.C
	}
	waitFor(t, waitTimeout, "n1 and n2 still see each other", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})
}

func TestParseKey(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(i * 7)
		}
		got, err := ParseKey(base64.StdEncoding.EncodeToString(want))
		if err != nil {
			t.Errorf("ParseKey(%d bytes): %v", n, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("ParseKey(%d bytes) = %x, want %x", n, got, want)
		}
	}
	for _, n := range []int{0, 1, 8, 15, 17, 23, 31, 33, 64} {
		s := base64.StdEncoding.EncodeToString(make([]byte, n))
		if got, err := ParseKey(s); err == nil || !strings.Contains(err.Error(), strconv.Itoa(n)+" bytes") {
			t.Errorf("ParseKey(%d bytes) = %x, %v; want an error naming %d bytes", n, got, err, n)
		}
	}
	for _, s := range []string{
		"not base64!",
		base64.RawStdEncoding.EncodeToString(make([]byte, 32)), // no padding
		base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)),
		" " + base64.StdEncoding.EncodeToString(make([]byte, 32)),
	} {
		if got, err := ParseKey(s); err == nil || !strings.Contains(err.Error(), "not base64") {
			t.Errorf("ParseKey(%q) = %x, %v; want a not-base64 error", s, got, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.Meta = Meta{ID: "n1", RaftAddr: "127.0.0.1:7000", ClientAddr: "127.0.0.1:6379"}
		return c
	}
	if c := valid(); c.Validate() != nil {
		t.Fatalf("valid config: %v", c.Validate())
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string // in the error; "" means valid
	}{
		{"no ID", func(c *Config) { c.Meta.ID = "" }, "Meta.ID is required"},
		{"no bind address", func(c *Config) { c.BindAddr = "" }, "BindAddr is required"},
		{"zero rejoin", func(c *Config) { c.RejoinInterval = 0 }, "RejoinInterval"},
		{"negative rejoin", func(c *Config) { c.RejoinInterval = -time.Second }, "RejoinInterval"},
		{"key 8 bytes", func(c *Config) { c.Key = make([]byte, 8) }, "key of 8 bytes"},
		{"key 33 bytes", func(c *Config) { c.Key = make([]byte, 33) }, "key of 33 bytes"},
		{"key 16 bytes", func(c *Config) { c.Key = make([]byte, 16) }, ""},
		{"key 24 bytes", func(c *Config) { c.Key = make([]byte, 24) }, ""},
		{"key 32 bytes", func(c *Config) { c.Key = make([]byte, 32) }, ""},
		{"oversize meta", func(c *Config) { c.Meta.HTTPAddr = strings.Repeat("h", memberlist.MetaMaxSize) }, "exceeds 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if tc.want == "" {
				return
			}
			// New refuses the same config before binding anything.
			c.Logger = newTestLogger(t, "invalid")
			if g, err := New(c); err == nil {
				g.Shutdown()
				t.Errorf("New accepted a config Validate rejects")
			}
		})
	}
}

func TestNewBadBindAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:http", "127.0.0.1:99999"} {
		cfg := testConfig(t, "n1")
		cfg.BindAddr = addr
		if g, err := New(cfg); err == nil {
			g.Shutdown()
			t.Errorf("New with BindAddr %q: no error", addr)
		}
	}
}

// Realistic metadata, with the longest IPv6 addresses and a 64-character ID,
// stays under memberlist's limit and survives gossip.
func TestRealisticMetaFits(t *testing.T) {
	const longV6 = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%enp0s31f6]:65535"
	meta := Meta{
		ID:         strings.Repeat("a", 64),
		RaftAddr:   longV6,
		ClientAddr: longV6,
		HTTPAddr:   longV6,
		Version:    "v10.20.30-rc.1+g0123456789ab",
		HasState:   true,
		Started:    math.MaxInt64,
		Leaving:    true,
	}
	cfg := testConfig(t, meta.ID)
	cfg.Meta = meta
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	b := delegate{&Gossip{meta: meta, logger: cfg.Logger}}.NodeMeta(memberlist.MetaMaxSize)
	if len(b) == 0 || len(b) > memberlist.MetaMaxSize {
		t.Fatalf("encoded meta is %d bytes, want 1..%d", len(b), memberlist.MetaMaxSize)
	}
	t.Logf("realistic metadata: %d of %d bytes", len(b), memberlist.MetaMaxSize)

	big := start(t, cfg)
	peer := startNode(t, "peer", big.Addr())
	waitFor(t, waitTimeout, "peer sees the node with large metadata", func() error {
		return memberState(peer, meta.ID, Alive)
	})
	if got, _ := peer.Member(meta.ID); !reflect.DeepEqual(got.Meta, meta) {
		t.Errorf("peer sees %+v, want %+v", got.Meta, meta)
	}
}

func TestDuplicateID(t *testing.T) {
	n1 := startNode(t, "dup")
	n2 := startNode(t, "n2", n1.Addr())
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"dup": n1, "n2": n2})
	})

	newcomer := startNode(t, "dup", n2.Addr())
	if newcomer.Addr() == n1.Addr() {
		t.Fatalf("newcomer bound n1's address %s", n1.Addr())
	}
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case err := <-newcomer.Conflict():
		if !errors.Is(err, ErrNameConflict) {
			t.Fatalf("newcomer.Conflict() = %v, want ErrNameConflict", err)
		}
		if !strings.Contains(err.Error(), n1.Addr()) {
			t.Errorf("conflict error %q does not name the original's address %s", err, n1.Addr())
		}
	case <-timer.C:
		t.Fatalf("newcomer got no ErrNameConflict within %v", waitTimeout)
	}

	for name, g := range map[string]*Gossip{"original": n1, "n2": n2} {
		select {
		case err := <-g.Conflict():
			t.Errorf("%s.Conflict() = %v, want nothing", name, err)
		default:
		}
	}
	waitFor(t, waitTimeout, "n1 and n2 still see each other", func() error {
		return allAlive(map[string]*Gossip{"dup": n1, "n2": n2})
	})
	if m, _ := n2.Member("dup"); m.GossipAddr != n1.Addr() {
		t.Errorf("n2 sees dup at %s, want the original at %s", m.GossipAddr, n1.Addr())
	}
}

// A healed partition merges through the rejoin loop: n2's seed goes away and
// a node that knows nobody comes up on the seed's address; only n2's
// periodic join can bring them together.
func TestRejoinMergesWithNewSeed(t *testing.T) {
	ln, pc := reservePort(t)
	seed := ln.Addr().String()
	ln.Close()
	pc.Close()
	cfg := testConfig(t, "n1")
	cfg.BindAddr = seed
	n1 := start(t, cfg)
	n2 := startNode(t, "n2", seed)
	waitFor(t, waitTimeout, "cluster forms", func() error {
		return allAlive(map[string]*Gossip{"n1": n1, "n2": n2})
	})

	n1.Shutdown()
	waitFor(t, waitTimeout, "n2 sees n1 fail", func() error { return memberState(n2, "n1", Failed) })

	cfg = testConfig(t, "n1b")
	cfg.BindAddr = seed
	n1b := start(t, cfg)
	waitFor(t, waitTimeout, "n1b and n2 merge", func() error {
		return allAlive(map[string]*Gossip{"n1b": n1b, "n2": n2})
	})
}

// Leave and Shutdown in any order, any number of times: memberlist itself
// panics on a Leave after Shutdown.
func TestLeaveAndShutdownTwice(t *testing.T) {
	n1 := startNode(t, "n1")
	if err := n1.Leave(time.Second); err != nil {
		t.Errorf("first Leave: %v", err)
	}
	if err := n1.Leave(time.Second); err != nil {
		t.Errorf("Leave after Leave: %v", err)
	}
	n1.Shutdown()

	n2 := startNode(t, "n2")
	n2.Shutdown()
	n2.Shutdown()
	if err := n2.Leave(time.Second); err != nil {
		t.Errorf("Leave after Shutdown: %v", err)
	}
}
