package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/riotkv/riot/respwire"
)

// errPeerClosed: the connection to the peer broke; requests in flight on it
// have an unknown outcome.
var errPeerClosed = errors.New("cluster: connection to peer closed")

// peerConn is one pipelined RESP connection to another node's client port.
// Any number of goroutines send requests on it at once; a writer goroutine
// writes whatever has queued up in one syscall, a reader goroutine matches
// replies to requests in order.
type peerConn struct {
	c  net.Conn
	br *bufio.Reader

	mu     sync.Mutex
	out    []byte      // requests not yet written
	spare  []byte      // the writer's other buffer
	queue  []*peerCall // requests awaiting replies, in send order
	closed error
	wake   chan struct{} // kicks the writer; never closed
	done   chan struct{} // closed when the connection fails

	// node: the peer took the node secret (RIOT.AUTH answered OK).
	node bool
	// withSecret: dialed when the node secret was known (RIOT.AUTH sent;
	// the peer may not have known it, see dialPeer).
	withSecret bool
}

// peerCall is one request on a peerConn.
type peerCall struct {
	done  chan struct{}
	reply []byte // raw RESP reply
	err   error
}

// CmdAuth presents the cluster's node secret: a connection that did may
// send node-to-node commands (RIOT.*), and needs no AUTH.
const CmdAuth = "RIOT.AUTH"

// errNoSecretYet: a peer refused a node-to-node command on a connection
// that did not authenticate as a node (dialed before this node, or the
// peer, had the node secret): nothing was executed.
var errNoSecretYet = errors.New("cluster: refused without the node secret")

// NoSecretReply is RIOT.AUTH's error reply from a node that knows no node
// secret yet: the dialer goes on without one.
const NoSecretReply = "NOPERM this node has no node secret yet"

// dialPeer connects to a node's client port. With the node secret it
// authenticates as a node (RIOT.AUTH); without it (not applied yet), with
// the password, as a client. A peer that has no secret yet (a node that
// has not applied it, or of an older release, which does not know
// RIOT.AUTH) takes node-to-node commands without one, as before secrets:
// such a peer gets the password instead (see docs/operations.md, upgrades).
func dialPeer(ctx context.Context, addr, password string, secret []byte, timeout time.Duration) (*peerConn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: dial %s: %w", addr, err)
	}
	p := &peerConn{c: c, br: bufio.NewReaderSize(c, 64<<10), wake: make(chan struct{}, 1), done: make(chan struct{}), withSecret: secret != nil}
	_ = c.SetDeadline(time.Now().Add(timeout))
	msg, err := "", error(nil)
	if secret != nil {
		msg, err = p.handshake(CmdAuth, secret)
		p.node = err == nil && msg == ""
		if err == nil && (strings.HasPrefix(msg, "ERR unknown command") || msg == NoSecretReply) {
			msg = ""
			if password != "" {
				msg, err = p.handshake("AUTH", []byte(password))
			}
		}
	} else if password != "" {
		msg, err = p.handshake("AUTH", []byte(password))
	}
	if err == nil && msg != "" {
		err = errors.New(msg)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: auth to %s: %w", addr, err)
	}
	_ = c.SetDeadline(time.Time{})
	go p.writeLoop()
	go p.readLoop()
	return p, nil
}

// send queues a request and returns its call; wait on call.done.
func (p *peerConn) send(req []byte) *peerCall {
	call := &peerCall{done: make(chan struct{})}
	p.mu.Lock()
	if p.closed != nil {
		p.mu.Unlock()
		call.err = p.closed
		close(call.done)
		return call
	}
	p.out = append(p.out, req...)
	p.queue = append(p.queue, call)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return call
}

// handshake sends one command before the connection's loops start and
// returns the error reply's text ("" for any other reply).
func (p *peerConn) handshake(cmd string, arg []byte) (string, error) {
	if _, err := p.c.Write(respwire.AppendRequest(nil, []byte(cmd), arg)); err != nil {
		return "", err
	}
	raw, err := respwire.ReadReply(p.br)
	if err != nil {
		return "", err
	}
	return respwire.ReplyError(raw), nil
}

func (p *peerConn) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed == nil
}

func (p *peerConn) writeLoop() {
	for {
		select {
		case <-p.wake:
		case <-p.done:
			return
		}
		p.mu.Lock()
		if p.closed != nil {
			p.mu.Unlock()
			return
		}
		if len(p.out) == 0 {
			p.mu.Unlock()
			continue
		}
		buf := p.out
		p.out = p.spare[:0]
		p.spare = nil // buf and out must never share an array
		p.mu.Unlock()
		if _, err := p.c.Write(buf); err != nil {
			p.fail(fmt.Errorf("%w: %w", errPeerClosed, err))
			return
		}
		p.mu.Lock()
		p.spare = buf[:0]
		p.mu.Unlock()
	}
}

func (p *peerConn) readLoop() {
	for {
		raw, err := respwire.ReadReply(p.br)
		if err != nil {
			p.fail(fmt.Errorf("%w: %w", errPeerClosed, err))
			return
		}
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.mu.Unlock()
			p.fail(fmt.Errorf("%w: unexpected reply", errPeerClosed))
			return
		}
		call := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		if msg := respwire.ReplyError(raw); !p.node && strings.HasPrefix(msg, "NOPERM ") {
			// Refused, not executed: the peer knows the node secret and
			// this connection did not authenticate with it (dialed before
			// this node had it, or before the peer had it). The call fails
			// (forwarding retries it), and so does the connection: the
			// next one is dialed with the secret once this node has it.
			// The connection is marked closed before the caller wakes, so
			// that its retry never picks this connection again.
			call.err = fmt.Errorf("%w: %s", errNoSecretYet, msg)
			p.fail(fmt.Errorf("%w: %w", errPeerClosed, call.err))
			close(call.done)
			return
		}
		call.reply = raw
		close(call.done)
	}
}

// fail closes the connection and fails every request in flight.
func (p *peerConn) fail(err error) {
	p.mu.Lock()
	if p.closed != nil {
		p.mu.Unlock()
		return
	}
	p.closed = err
	queue := p.queue
	p.queue = nil
	p.mu.Unlock()
	p.c.Close()
	close(p.done)
	for _, call := range queue {
		call.err = err
		close(call.done)
	}
}

func (p *peerConn) close() { p.fail(errPeerClosed) }

// peerPool keeps a few pipelined connections per peer address.
type peerPool struct {
	size     int
	password string
	// secret returns the node secret, nil while not known; a connection
	// dialed without it is replaced once it is known.
	secret  func() []byte
	timeout time.Duration

	mu     sync.Mutex
	conns  map[string][]*peerConn
	next   int
	closed bool
}

func newPeerPool(size int, password string, secret func() []byte, dialTimeout time.Duration) *peerPool {
	if secret == nil {
		secret = func() []byte { return nil }
	}
	return &peerPool{size: size, password: password, secret: secret, timeout: dialTimeout, conns: make(map[string][]*peerConn)}
}

// get returns a live connection to addr, dialing one when needed. The dial
// runs without the pool's lock, so a peer that does not answer (cut off
// by a partition) never holds up requests to the others.
func (pp *peerPool) get(ctx context.Context, addr string) (*peerConn, error) {
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return nil, errPeerClosed
	}
	conns := pp.conns[addr]
	if len(conns) < pp.size {
		conns = append(conns, make([]*peerConn, pp.size-len(conns))...)
		pp.conns[addr] = conns
	}
	pp.next++
	i := pp.next % pp.size
	secret := pp.secret()
	if c := conns[i]; c != nil && c.alive() && (c.withSecret || secret == nil) {
		pp.mu.Unlock()
		return c, nil
	}
	pp.mu.Unlock()

	c, err := dialPeer(ctx, addr, pp.password, secret, pp.timeout)
	if err != nil {
		return nil, err
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.closed {
		c.close()
		return nil, errPeerClosed
	}
	if old := pp.conns[addr][i]; old != nil && old.alive() {
		if old.withSecret || !c.withSecret {
			c.close() // another caller dialed this slot meanwhile
			return old, nil
		}
		old.close() // dialed before the secret was known
	}
	pp.conns[addr][i] = c
	return c, nil
}

// do sends one request to addr and waits for the raw reply. An error means
// no reply came: the request may or may not have been executed.
func (pp *peerPool) do(ctx context.Context, addr string, req []byte) ([]byte, error) {
	c, err := pp.get(ctx, addr)
	if err != nil {
		return nil, err
	}
	call := c.send(req)
	select {
	case <-call.done:
		return call.reply, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (pp *peerPool) close() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.closed = true
	for _, conns := range pp.conns {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}
}
