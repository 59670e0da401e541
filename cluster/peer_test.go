package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riotkv/riot/respwire"
)

// echoServer answers every multibulk request with its arguments joined by
// spaces as a bulk reply; "AUTH pw" answers +OK only for password "pw";
// "CLOSE" closes the connection without replying.
func echoServer(t *testing.T) string {
	t.Helper()
	var known atomic.Bool
	known.Store(true)
	return echoServerKnowing(t, &known)
}

// echoServerKnowing is echoServer whose node secret ("secret") counts only
// while known is set: before, RIOT.AUTH answers that it has none.
func echoServerKnowing(t *testing.T, known *atomic.Bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				node := false // presented the node secret
				for {
					args, err := readTestRequest(br)
					if err != nil {
						return
					}
					var reply []byte
					switch {
					case string(args[0]) == "CLOSE":
						return
					case string(args[0]) == CmdAuth && string(args[1]) == "secret" && known.Load():
						node, reply = true, []byte("+OK\r\n")
					case string(args[0]) == CmdAuth:
						reply = []byte("-" + NoSecretReply + "\r\n")
					case string(args[0]) == "NODEONLY" && !node:
						reply = []byte("-NOPERM node-to-node\r\n")
					case string(args[0]) == "AUTH" && string(args[1]) == "pw":
						reply = []byte("+OK\r\n")
					case string(args[0]) == "AUTH":
						reply = []byte("-WRONGPASS bad\r\n")
					default:
						j := bytes.Join(args, []byte(" "))
						reply = append(append([]byte("$"+strconv.Itoa(len(j))+"\r\n"), j...), '\r', '\n')
					}
					if _, err := c.Write(reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func readTestRequest(br *bufio.Reader) ([][]byte, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	args := make([][]byte, n)
	for i := range args {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
		buf := make([]byte, size+2)
		if _, err := readFull(br, buf); err != nil {
			return nil, err
		}
		args[i] = buf[:size]
	}
	return args, nil
}

func readFull(br *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestPeerPoolPipelinesInOrder(t *testing.T) {
	addr := echoServer(t)
	pool := newPeerPool(2, "pw", nil, time.Second)
	defer pool.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const workers, each = 8, 200
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				want := "ECHO w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				raw, err := pool.do(ctx, addr, respwire.AppendRequest(nil, []byte("ECHO"), []byte(want[5:])))
				if err != nil {
					errs <- err
					return
				}
				got, err := respwire.ReplyBulk(raw)
				if err != nil || string(got) != want {
					errs <- errors.New("got " + string(raw) + ", want " + want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestPeerPoolWrongPassword(t *testing.T) {
	addr := echoServer(t)
	pool := newPeerPool(1, "nope", nil, time.Second)
	defer pool.close()
	_, err := pool.do(context.Background(), addr, respwire.AppendRequest(nil, []byte("PING")))
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("do with a wrong password: err = %v, want WRONGPASS", err)
	}
}

func TestPeerPoolBrokenConnectionFailsCallsAndRedials(t *testing.T) {
	addr := echoServer(t)
	pool := newPeerPool(1, "", nil, time.Second)
	defer pool.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pool.do(ctx, addr, respwire.AppendRequest(nil, []byte("CLOSE")))
	if !errors.Is(err, errPeerClosed) {
		t.Fatalf("request on a connection the peer closed: err = %v, want errPeerClosed", err)
	}
	raw, err := pool.do(ctx, addr, respwire.AppendRequest(nil, []byte("PING")))
	if err != nil || string(raw) != "$4\r\nPING\r\n" {
		t.Fatalf("after redial: %q, %v; want the echo", raw, err)
	}
}

// TestPeerPoolSilentPeerDoesNotBlockOthers: while a dial to a peer that
// never answers is in progress (here: it accepts and never answers AUTH),
// requests to another peer go through.
func TestPeerPoolSilentPeerDoesNotBlockOthers(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := silent.Accept(); err == nil {
			accepted <- c
		}
	}()
	good := echoServer(t)
	pool := newPeerPool(1, "pw", nil, time.Minute) // the silent dial waits up to a minute
	defer pool.close()

	stuck := make(chan error, 1)
	go func() {
		_, err := pool.do(context.Background(), silent.Addr().String(), respwire.AppendRequest(nil, []byte("PING")))
		stuck <- err
	}()
	var held net.Conn
	select {
	case held = <-accepted: // the silent dial is now waiting for AUTH
	case <-time.After(10 * time.Second):
		t.Fatal("the dial to the silent peer never connected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := pool.do(ctx, good, respwire.AppendRequest(nil, []byte("ECHO"), []byte("hi")))
	if got, _ := respwire.ReplyBulk(raw); err != nil || string(got) != "ECHO hi" {
		t.Fatalf("request to a live peer during a stuck dial = %q, %v; want ECHO hi", raw, err)
	}
	held.Close() // ends the stuck dial
	if err := <-stuck; err == nil {
		t.Error("request to the silent peer succeeded")
	}
}

// TestPeerPoolNodeSecret: a connection presents the node secret when this
// node knows it; a peer that knows none yet gets the password instead; a
// node-to-node request refused because this node dialed before it knew the
// secret fails as not executed (forwarding retries it), and the next one
// dials again with the secret.
func TestPeerPoolNodeSecret(t *testing.T) {
	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodeOnly := respwire.AppendRequest(nil, []byte("NODEONLY"), []byte("x"))

	withSecret := newPeerPool(1, "", func() []byte { return []byte("secret") }, time.Second)
	defer withSecret.close()
	if raw, err := withSecret.do(ctx, addr, nodeOnly); err != nil || string(raw) != "$10\r\nNODEONLY x\r\n" {
		t.Errorf("node-to-node request with the secret = %q, %v", raw, err)
	}

	// The peer has no secret yet: the password is sent instead.
	unknown := newPeerPool(1, "pw", func() []byte { return []byte("not-the-peers") }, time.Second)
	defer unknown.close()
	if raw, err := unknown.do(ctx, addr, respwire.AppendRequest(nil, []byte("PING"))); err != nil || string(raw) != "$4\r\nPING\r\n" {
		t.Errorf("PING to a peer with no secret = %q, %v", raw, err)
	}

	var secret atomic.Pointer[[]byte]
	later := newPeerPool(1, "", func() []byte {
		if p := secret.Load(); p != nil {
			return *p
		}
		return nil
	}, time.Second)
	defer later.close()
	if _, err := later.do(ctx, addr, nodeOnly); !errors.Is(err, errNoSecretYet) {
		t.Errorf("node-to-node request before this node has the secret: %v, want errNoSecretYet", err)
	}
	b := []byte("secret")
	secret.Store(&b)
	if raw, err := later.do(ctx, addr, nodeOnly); err != nil || string(raw) != "$10\r\nNODEONLY x\r\n" {
		t.Errorf("node-to-node request once the secret is known = %q, %v", raw, err)
	}
}

// TestPeerPoolPeerLearnsSecret: a connection dialed with the secret to a
// peer that had none yet (so it went on without) is refused once the peer
// has it; the refused call fails as not executed, and the next dial
// authenticates.
func TestPeerPoolPeerLearnsSecret(t *testing.T) {
	var known atomic.Bool
	addr := echoServerKnowing(t, &known)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool := newPeerPool(1, "", func() []byte { return []byte("secret") }, time.Second)
	defer pool.close()
	if raw, err := pool.do(ctx, addr, respwire.AppendRequest(nil, []byte("PING"))); err != nil || string(raw) != "$4\r\nPING\r\n" {
		t.Fatalf("PING to a peer without a secret = %q, %v", raw, err)
	}
	known.Store(true)
	nodeOnly := respwire.AppendRequest(nil, []byte("NODEONLY"), []byte("x"))
	if _, err := pool.do(ctx, addr, nodeOnly); !errors.Is(err, errNoSecretYet) {
		t.Errorf("node-to-node request on the connection dialed before the peer had the secret: %v, want errNoSecretYet", err)
	}
	if raw, err := pool.do(ctx, addr, nodeOnly); err != nil || string(raw) != "$10\r\nNODEONLY x\r\n" {
		t.Errorf("node-to-node request after a new dial = %q, %v", raw, err)
	}
}
