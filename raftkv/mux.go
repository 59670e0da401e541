package raftkv

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Mux shares one TCP listener (a node's raft address) among the raft groups
// of a process: each group gets its own raft.Transport from Transport.
//
// Wire format. A connection for group 0 carries no header: it is byte for
// byte hashicorp/raft's plain TCP transport, so group 0 of a Mux and a node
// on raft.NewTCPTransport talk to each other both ways. A connection for a
// group g > 0 starts with a header, written by the dialer before any RPC:
//
//	0xF5 (muxMagic), then g as a uvarint (encoding/binary, at most 5 bytes)
//
// hashicorp/raft's connections start with the type of their first RPC
// (0..4), never 0xF5, so the accept side tells the two apart from the first
// byte. That byte is kept for group 0's transport to read again. A header
// naming group 0 is accepted too. A connection for a group that has no
// transport (yet, or any more) is closed; raft redials later.
type Mux struct {
	ln        net.Listener
	advertise net.Addr
	logger    *slog.Logger
	// headerTimeout bounds reading a connection's header (nanoseconds), so
	// a client that sends nothing cannot hold a goroutine.
	headerTimeout atomic.Int64
	done          chan struct{} // closed by Close

	mu      sync.Mutex
	closed  bool
	groups  map[uint32]*muxLayer
	pending map[net.Conn]struct{} // connections whose header is being read
	wg      sync.WaitGroup        // the accept loop and the header readers
}

const (
	// muxMagic starts the header of a connection for a group other than 0.
	muxMagic byte = 0xF5
	// DefaultMuxHeaderTimeout is how long a Mux waits for a new
	// connection's header.
	DefaultMuxHeaderTimeout = 10 * time.Second

	// Transport settings, the same as the plain TCP transport's.
	muxMaxPool = 3
	muxTimeout = 10 * time.Second
)

// NewMux listens on bind for the raft connections of every group. Other
// servers reach this one at advertise; "" advertises the bound address,
// which must then not be unspecified (0.0.0.0), as with hashicorp/raft's
// TCP transport. The logger may be nil (discard).
func NewMux(bind, advertise string, logger *slog.Logger) (*Mux, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var adv net.Addr
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			return nil, fmt.Errorf("raftkv: advertise address %q: %w", advertise, err)
		}
		adv = a
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raftkv: raft listener on %s: %w", bind, err)
	}
	if adv == nil {
		adv = ln.Addr()
	}
	if a, ok := adv.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("raftkv: raft listener on %s: address %s is not advertisable (set an advertise address)", bind, adv)
	}
	m := &Mux{
		ln:        ln,
		advertise: adv,
		logger:    logger.With("component", "raft-mux"),
		done:      make(chan struct{}),
		groups:    make(map[uint32]*muxLayer),
		pending:   make(map[net.Conn]struct{}),
	}
	m.headerTimeout.Store(int64(DefaultMuxHeaderTimeout))
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// Addr returns the address other servers reach every group of this Mux at.
func (m *Mux) Addr() string { return m.advertise.String() }

// SetHeaderTimeout sets how long a new connection may take to send its
// header (DefaultMuxHeaderTimeout unless set; d <= 0 restores it).
func (m *Mux) SetHeaderTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultMuxHeaderTimeout
	}
	m.headerTimeout.Store(int64(d))
}

// Transport returns the raft transport of group: a raft.NetworkTransport
// over this Mux with pipelined replication turned off (see noPipeline).
// A group has one transport at a time: asking again for a group whose
// transport is open is an error. Closing the transport closes only that
// group's share of the Mux; the group may then be asked for again.
func (m *Mux) Transport(group uint32) (raft.Transport, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("raftkv: raft group %d: mux: %w", group, net.ErrClosed)
	}
	if _, ok := m.groups[group]; ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("raftkv: raft group %d already has a transport on this mux", group)
	}
	l := &muxLayer{m: m, group: group, conns: make(chan net.Conn), done: make(chan struct{})}
	m.groups[group] = l
	m.mu.Unlock()

	t := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  l,
		MaxPool: muxMaxPool,
		Timeout: muxTimeout,
		Logger:  newHCLog(m.logger.With("raft_group", group), "raft-net"),
	})
	return noPipeline{t}, nil
}

// Close closes the listener and every group's share of it. The transports
// stay open until their owners close them, but accept nothing more.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	for c := range m.pending {
		c.Close()
	}
	layers := make([]*muxLayer, 0, len(m.groups))
	for _, l := range m.groups {
		layers = append(layers, l)
	}
	m.mu.Unlock()

	err := m.ln.Close()
	for _, l := range layers {
		l.Close()
	}
	m.wg.Wait()
	if err != nil {
		return fmt.Errorf("raftkv: close raft listener: %w", err)
	}
	return nil
}

// acceptLoop hands each connection to a goroutine that reads its header.
func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			// A passing failure (out of file descriptors): back off as
			// hashicorp/raft's transport does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			m.logger.Error("accept raft connection", "err", err)
			select {
			case <-m.done:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			c.Close()
			return
		}
		m.pending[c] = struct{}{}
		m.wg.Add(1)
		m.mu.Unlock()
		go m.route(c)
	}
}

// route reads c's header and hands c to its group's transport.
func (m *Mux) route(c net.Conn) {
	defer m.wg.Done()
	group, conn, err := m.readHeader(c)
	m.mu.Lock()
	delete(m.pending, c)
	closed := m.closed
	l := m.groups[group]
	m.mu.Unlock()
	switch {
	case closed:
		c.Close()
		return
	case err != nil:
		m.logger.Debug("dropped raft connection: bad header", "remote", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	case l == nil:
		m.logger.Debug("dropped raft connection: no such raft group here", "remote", c.RemoteAddr().String(), "raft_group", group)
		c.Close()
		return
	}
	select {
	case l.conns <- conn:
	case <-l.done:
		c.Close()
	}
}

// readHeader returns the group c is for and the connection to hand on
// (for group 0 without a header, one that reads the peeked byte again).
func (m *Mux) readHeader(c net.Conn) (uint32, net.Conn, error) {
	if err := c.SetReadDeadline(time.Now().Add(time.Duration(m.headerTimeout.Load()))); err != nil {
		return 0, nil, err
	}
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return 0, nil, err
	}
	group := uint32(0)
	conn := net.Conn(&peekedConn{Conn: c, first: first[:]})
	if first[0] == muxMagic {
		g, err := binary.ReadUvarint(byteReader{c})
		if err != nil {
			return 0, nil, fmt.Errorf("read raft group: %w", err)
		}
		if g > math.MaxUint32 {
			return 0, nil, fmt.Errorf("raft group %d out of range", g)
		}
		group, conn = uint32(g), c
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return 0, nil, err
	}
	return group, conn, nil
}

// muxHeader returns the header a connection for group starts with (none
// for group 0).
func muxHeader(group uint32) []byte {
	if group == 0 {
		return nil
	}
	return binary.AppendUvarint([]byte{muxMagic}, uint64(group))
}

// muxLayer is one group's raft.StreamLayer on a Mux.
type muxLayer struct {
	m     *Mux
	group uint32
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Dial connects to address and announces the group.
func (l *muxLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, err
	}
	h := muxHeader(l.group)
	if len(h) == 0 {
		return c, nil
	}
	if timeout > 0 {
		if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			c.Close()
			return nil, err
		}
	}
	if _, err := c.Write(h); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft group %d: write header to %s: %w", l.group, address, err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Accept returns the next connection for this group.
func (l *muxLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops this group's share of the Mux; the listener stays open.
func (l *muxLayer) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.m.mu.Lock()
		if l.m.groups[l.group] == l {
			delete(l.m.groups, l.group)
		}
		l.m.mu.Unlock()
	})
	return nil
}

// Addr returns the Mux's advertised address.
func (l *muxLayer) Addr() net.Addr { return l.m.advertise }

// peekedConn is a connection whose first bytes were read already: Read
// returns them before reading on.
type peekedConn struct {
	net.Conn
	first []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// byteReader reads a connection one byte at a time, so that nothing after
// the header is consumed.
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var p [1]byte
	_, err := io.ReadFull(b.r, p[:])
	return p[0], err
}
