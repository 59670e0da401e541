package raftkv_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

// newMux starts a Mux on 127.0.0.1:0 and closes it when the test ends
// (after the nodes on it, which register their cleanups later).
func newMux(t *testing.T) *raftkv.Mux {
	t.Helper()
	m, err := raftkv.NewMux("127.0.0.1:0", "", raftkvtest.Logger(t))
	if err != nil {
		t.Fatalf("NewMux: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close mux: %v", err)
		}
	})
	return m
}

// openMuxNode opens node id of group on m, over a memory engine.
func openMuxNode(t *testing.T, id string, m *raftkv.Mux, group uint32) *raftkv.Node {
	t.Helper()
	eng := storage.NewMemory()
	t.Cleanup(func() { eng.Close() })
	c := raftkvtest.Config(t, id)
	c.Transport = nil
	c.RaftAddr = ""
	c.Mux, c.Group = m, group
	c.HeartbeatTimeout = 200 * time.Millisecond
	c.ElectionTimeout = 200 * time.Millisecond
	c.LeaderLeaseTimeout = 200 * time.Millisecond
	n, err := raftkv.Open(c, eng)
	if err != nil {
		t.Fatalf("open %s of group %d: %v", id, group, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close %s of group %d: %v", id, group, err)
		}
	})
	return n
}

// TestMuxGroups: three servers, each with one Mux carrying raft groups 0
// and 7; each group forms its own cluster over the shared addresses, and a
// write reaches the three replicas of its group only.
func TestMuxGroups(t *testing.T) {
	groups := []uint32{0, 7}
	muxes := []*raftkv.Mux{newMux(t), newMux(t), newMux(t)}
	nodes := make(map[uint32][]*raftkv.Node)
	for _, g := range groups {
		var servers []raftkv.Server
		for i, m := range muxes {
			id := fmt.Sprintf("node%d", i+1)
			n := openMuxNode(t, id, m, g)
			if n.RaftAddr() != m.Addr() {
				t.Fatalf("group %d: node RaftAddr %s, want the mux's %s", g, n.RaftAddr(), m.Addr())
			}
			nodes[g] = append(nodes[g], n)
			servers = append(servers, raftkv.Server{ID: id, RaftAddr: m.Addr(), Voter: true})
		}
		// One node bootstraps; the others, without state, learn the
		// configuration from its leader.
		if err := nodes[g][0].BootstrapWith(servers); err != nil {
			t.Fatalf("bootstrap group %d: %v", g, err)
		}
	}
	for _, g := range groups {
		leaderOf(t, nodes[g])
		raftkvtest.WaitSecret(t, nodes[g]...)
		apply(t, leaderOf(t, nodes[g]), cmdSet(fmt.Sprintf("group%d", g), fmt.Sprint("v", g)))
	}
	for _, g := range groups {
		idx := readIndex(t, nodes[g])
		for _, n := range nodes[g] {
			raftkvtest.WaitApplied(t, n, idx)
			wantGet(t, n, fmt.Sprintf("group%d", g), fmt.Sprint("v", g))
			for _, other := range groups {
				if other == g {
					continue
				}
				if _, ok := nodeGet(t, n, fmt.Sprintf("group%d", other)); ok {
					t.Errorf("group %d node %s holds group %d's key", g, n.ID(), other)
				}
			}
			servers, err := n.Servers()
			if err != nil || len(servers) != 3 {
				t.Errorf("group %d node %s: servers %v (err %v), want 3", g, n.ID(), servers, err)
			}
			// A replica with state is never bootstrapped again; the
			// error says so (sharded mode opens such a replica anyway).
			if err := n.BootstrapWith(servers); !errors.Is(err, raftkv.ErrHasState) {
				t.Errorf("group %d node %s: BootstrapWith = %v, want ErrHasState", g, n.ID(), err)
			}
		}
	}
}

// rpcServer answers the AppendEntries and RequestVote RPCs that reach tr
// until the test ends: AppendEntries with Term = the request's + 1,
// RequestVote granted. It returns a function that stops it.
func rpcServer(t *testing.T, tr raft.Transport) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	stop = sync.OnceFunc(func() { close(done); <-stopped })
	t.Cleanup(stop)
	go func() {
		defer close(stopped)
		for {
			select {
			case rpc := <-tr.Consumer():
				switch req := rpc.Command.(type) {
				case *raft.AppendEntriesRequest:
					rpc.Respond(&raft.AppendEntriesResponse{Term: req.Term + 1, Success: true, LastLog: uint64(len(req.Entries))}, nil)
				case *raft.RequestVoteRequest:
					rpc.Respond(&raft.RequestVoteResponse{Term: req.Term, Granted: true}, nil)
				default:
					rpc.Respond(nil, fmt.Errorf("unexpected %T", req))
				}
			case <-done:
				return
			}
		}
	}()
	return stop
}

func closeTransport(t *testing.T, tr raft.Transport) {
	t.Helper()
	c, ok := tr.(io.Closer)
	if !ok {
		t.Fatalf("transport %T has no Close", tr)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close transport: %v", err)
	}
}

// sendAppend sends an AppendEntries of one entry from tr to target and
// checks rpcServer's answer.
func sendAppend(t *testing.T, tr raft.Transport, target string) {
	t.Helper()
	req := &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("x"), Addr: []byte(tr.LocalAddr())},
		Term:      5,
		Entries:   []*raft.Log{{Index: 1, Term: 5, Type: raft.LogCommand, Data: []byte("hello")}},
	}
	var resp raft.AppendEntriesResponse
	if err := tr.AppendEntries("peer", raft.ServerAddress(target), req, &resp); err != nil {
		t.Fatalf("AppendEntries from %s to %s: %v", tr.LocalAddr(), target, err)
	}
	if resp.Term != 6 || !resp.Success || resp.LastLog != 1 {
		t.Fatalf("AppendEntries from %s to %s: response %+v", tr.LocalAddr(), target, resp)
	}
}

// TestMuxPlainTCPCompat: group 0 of a Mux and hashicorp/raft's plain TCP
// transport (what servers without a Mux run) exchange RPCs both ways, so
// old and new servers form one cluster.
func TestMuxPlainTCPCompat(t *testing.T) {
	m := newMux(t)
	g0, err := m.Transport(0)
	if err != nil {
		t.Fatalf("Transport(0): %v", err)
	}
	t.Cleanup(func() { closeTransport(t, g0) })
	rpcServer(t, g0)
	plain, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 10*time.Second, io.Discard)
	if err != nil {
		t.Fatalf("NewTCPTransport: %v", err)
	}
	t.Cleanup(func() { plain.Close() })
	rpcServer(t, plain)

	sendAppend(t, plain, m.Addr())               // old server to new
	sendAppend(t, g0, string(plain.LocalAddr())) // new server to old
	var vote raft.RequestVoteResponse
	req := &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax}, Term: 9}
	if err := g0.RequestVote("old", plain.LocalAddr(), req, &vote); err != nil || !vote.Granted || vote.Term != 9 {
		t.Fatalf("RequestVote to the plain transport: %+v, %v", vote, err)
	}

	// A data group's connection to a plain transport never reaches it as
	// an RPC: the header is not one (the plain side drops the connection).
	g7, err := m.Transport(7)
	if err != nil {
		t.Fatalf("Transport(7): %v", err)
	}
	t.Cleanup(func() { closeTransport(t, g7) })
	var resp raft.AppendEntriesResponse
	err = g7.AppendEntries("old", plain.LocalAddr(), &raft.AppendEntriesRequest{Term: 1}, &resp)
	if err == nil {
		t.Fatalf("group 7 AppendEntries to a plain transport succeeded: %+v", resp)
	}
}

// rawDial connects to m and writes b.
func rawDial(t *testing.T, m *raftkv.Mux, b []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatalf("dial %s: %v", m.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	if len(b) > 0 {
		if _, err := c.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	return c
}

// wantDropped waits up to 10s for the mux to close c (a read ends without
// data and without the client's own deadline passing).
func wantDropped(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if n > 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: read %d bytes, err %v; want the connection closed", what, n, err)
	}
}

// TestMuxDropsStrayConnections: a connection for a group without a
// transport, with a malformed header, or that sends no header within the
// timeout is closed, and the listener keeps serving.
func TestMuxDropsStrayConnections(t *testing.T) {
	m := newMux(t)
	m.SetHeaderTimeout(200 * time.Millisecond)
	g7, err := m.Transport(7)
	if err != nil {
		t.Fatalf("Transport(7): %v", err)
	}
	stop7 := rpcServer(t, g7)
	peer := newMux(t)
	p7, err := peer.Transport(7)
	if err != nil {
		t.Fatalf("peer Transport(7): %v", err)
	}
	t.Cleanup(func() { closeTransport(t, p7) })

	silent := rawDial(t, m, nil)
	halfHeader := rawDial(t, m, []byte{0xF5})
	wantDropped(t, rawDial(t, m, []byte{0xF5, 99}), "unknown group 99")
	wantDropped(t, rawDial(t, m, []byte{0, 1, 2}), "group 0 without a transport")
	wantDropped(t, rawDial(t, m, []byte{0xF5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), "group out of range")
	start := time.Now()
	wantDropped(t, silent, "silent client")
	wantDropped(t, halfHeader, "half a header")
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("silent clients dropped after %v; want about the 200ms header timeout", waited)
	}
	sendAppend(t, p7, m.Addr())

	// Closing a group's transport leaves the listener to the others, drops
	// later connections for it, and frees the group for a new transport.
	if _, err := m.Transport(7); err == nil {
		t.Fatal("a second Transport(7) while the first is open succeeded")
	}
	g0, err := m.Transport(0)
	if err != nil {
		t.Fatalf("Transport(0): %v", err)
	}
	t.Cleanup(func() { closeTransport(t, g0) })
	rpcServer(t, g0)
	// Nothing consumes group 7's RPCs any more: one that arrives on a
	// connection accepted before the close finds the transport shut down.
	stop7()
	closeTransport(t, g7)
	wantDropped(t, rawDial(t, m, []byte{0xF5, 7}), "group 7 after its transport closed")
	var resp raft.AppendEntriesResponse
	if err := p7.AppendEntries("x", raft.ServerAddress(m.Addr()), &raft.AppendEntriesRequest{Term: 1}, &resp); err == nil {
		t.Fatal("AppendEntries to a closed group succeeded")
	}
	p0, err := peer.Transport(0)
	if err != nil {
		t.Fatalf("peer Transport(0): %v", err)
	}
	t.Cleanup(func() { closeTransport(t, p0) })
	sendAppend(t, p0, m.Addr())

	again, err := m.Transport(7)
	if err != nil {
		t.Fatalf("Transport(7) after the first closed: %v", err)
	}
	t.Cleanup(func() { closeTransport(t, again) })
	rpcServer(t, again)
	sendAppend(t, p7, m.Addr())
}

// TestMuxClose: closing the Mux stops its listener and refuses new groups.
func TestMuxClose(t *testing.T) {
	m, err := raftkv.NewMux("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatalf("NewMux: %v", err)
	}
	g3, err := m.Transport(3)
	if err != nil {
		t.Fatalf("Transport(3): %v", err)
	}
	pending := rawDial(t, m, nil)
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantDropped(t, pending, "connection waiting for its header")
	if c, err := net.DialTimeout("tcp", m.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after Close succeeded", m.Addr())
	}
	if _, err := m.Transport(4); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Transport after Close: %v, want net.ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	closeTransport(t, g3)
}

func TestNewMuxAddresses(t *testing.T) {
	if m, err := raftkv.NewMux("0.0.0.0:0", "", nil); err == nil {
		m.Close()
		t.Fatal("NewMux on 0.0.0.0 without an advertise address succeeded")
	}
	m, err := raftkv.NewMux("0.0.0.0:0", "10.1.2.3:7000", nil)
	if err != nil {
		t.Fatalf("NewMux with an advertise address: %v", err)
	}
	defer m.Close()
	if m.Addr() != "10.1.2.3:7000" {
		t.Errorf("Addr() = %s, want the advertised 10.1.2.3:7000", m.Addr())
	}
	if _, err := raftkv.NewMux("127.0.0.1:0", "0.0.0.0:7000", nil); err == nil {
		t.Error("NewMux advertising 0.0.0.0 succeeded")
	}
	c := raftkvtest.Config(t, "node1")
	c.Transport, c.RaftAddr, c.Mux = nil, "", m
	if err := c.Validate(); err != nil {
		t.Errorf("Validate with a Mux and no RaftAddr: %v", err)
	}
	c.Transport = raftkvtest.Config(t, "node2").Transport
	if err := c.Validate(); err == nil {
		t.Error("Validate with both a Transport and a Mux succeeded")
	}
}

// TestMuxNodeJoinsPlainCluster: a rolling upgrade. A server on group 0 of
// a Mux joins a server on the plain TCP transport, replicates from it, then
// leads it.
func TestMuxNodeJoinsPlainCluster(t *testing.T) {
	eng := storage.NewMemory()
	t.Cleanup(func() { eng.Close() })
	c := raftkvtest.Config(t, "old")
	c.Transport = nil
	c.RaftAddr = "127.0.0.1:0"
	c.Bootstrap = true
	c.HeartbeatTimeout = 200 * time.Millisecond
	c.ElectionTimeout = 200 * time.Millisecond
	c.LeaderLeaseTimeout = 200 * time.Millisecond
	old, err := raftkv.Open(c, eng)
	if err != nil {
		t.Fatalf("open old: %v", err)
	}
	t.Cleanup(func() {
		if err := old.Close(); err != nil {
			t.Errorf("close old: %v", err)
		}
	})
	raftkvtest.WaitLeader(t, old)
	raftkvtest.WaitSecret(t, old)

	m := newMux(t)
	upgraded := openMuxNode(t, "new", m, 0)
	if err := old.AddServer("new", m.Addr(), true); err != nil {
		t.Fatalf("AddServer: %v", err)
	}
	nodes := []*raftkv.Node{old, upgraded}
	apply(t, old, cmdSet("k1", "from-old"))
	idx := readIndex(t, nodes)
	raftkvtest.WaitApplied(t, upgraded, idx)
	wantGet(t, upgraded, "k1", "from-old")

	if err := old.TransferLeadership(testCtx(t), "new"); err != nil {
		t.Fatalf("TransferLeadership to the mux node: %v", err)
	}
	raftkvtest.WaitLeader(t, upgraded)
	apply(t, upgraded, cmdSet("k2", "from-new"))
	idx = readIndex(t, nodes)
	raftkvtest.WaitApplied(t, old, idx)
	wantGet(t, old, "k2", "from-new")
}
