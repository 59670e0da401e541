package jepsen

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Fixed ports: every server has its own address.
const (
	clientPort = "6379"
	raftPort   = "7000"
	gossipPort = "7946"

	readyTimeout = 20 * time.Second // process start until the ready line
	exitTimeout  = 15 * time.Second // a signal until the process is gone
)

// logBuf keeps a server's output lines over all its incarnations.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + "\n"
}

// Server is one riot node: an ID, a host, a data directory and, while it
// runs, a riot-server process inside the host's namespace.
type Server struct {
	ID   string
	Host *Host
	Addr string // client address
	// RaftAddr and GossipAddr are the other two listeners.
	RaftAddr, GossipAddr string

	bin   string
	base  string // directory holding this server's data dirs
	flags []string
	logf  func(string, ...any)
	log   *logBuf

	mu      sync.Mutex
	dataDir string
	gen     int // data dir generation (Wipe)
	starts  int
	proc    *proc
}

// proc is one riot-server process.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	done   chan struct{} // closed once exited and waited for
	paused bool
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func newServer(id string, h *Host, bin, base string, flags []string, logf func(string, ...any)) *Server {
	s := &Server{
		ID: id, Host: h,
		Addr: h.IP + ":" + clientPort, RaftAddr: h.IP + ":" + raftPort, GossipAddr: h.IP + ":" + gossipPort,
		bin: bin, base: base, flags: flags, logf: logf, log: &logBuf{},
	}
	s.dataDir = filepath.Join(base, fmt.Sprintf("%s-data%d", id, s.gen))
	return s
}

func (s *Server) String() string { return s.ID }

// DataDir is the current data directory.
func (s *Server) DataDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataDir
}

// Logs returns everything every incarnation of the server logged.
func (s *Server) Logs() string { return s.log.String() }

// Start runs riot-server with the server's flags plus extra and returns
// once it logged its ready line.
func (s *Server) Start(extra ...string) error {
	s.mu.Lock()
	if s.proc != nil && s.proc.running() {
		s.mu.Unlock()
		return fmt.Errorf("jepsen: start %s: already running (pid %d)", s.ID, s.proc.pid)
	}
	dir := s.dataDir
	s.starts++
	s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	args := []string{"netns", "exec", s.Host.NS, s.bin,
		"--node-id", s.ID, "--data-dir", dir,
		"--addr", s.Addr, "--raft-addr", s.RaftAddr, "--gossip-addr", s.GossipAddr,
		"--log-format", "json"}
	args = append(append(args, s.flags...), extra...)
	cmd := exec.Command("ip", args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	// The process dies with the test process, even on SIGKILL of the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("jepsen: start %s: %w", s.ID, err)
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	s.log.add(fmt.Sprintf("### %s: $ ip %s (pid %d)", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "), p.pid))
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	ready := make(chan struct{})
	go s.scan(p, stderr, ready)
	t := time.NewTimer(readyTimeout)
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-p.done:
		return fmt.Errorf("jepsen: %s exited before it was ready (%v); log tail:\n%s", s.ID, p.cmd.ProcessState, tail(s.Logs(), 15))
	case <-t.C:
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		return fmt.Errorf("jepsen: %s not ready after %s; log tail:\n%s", s.ID, readyTimeout, tail(s.Logs(), 15))
	}
}

// scan keeps the process's output lines, reports the ready line, then
// waits for the process.
func (s *Server) scan(p *proc, r io.Reader, ready chan<- struct{}) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.log.add(line)
		if sent {
			continue
		}
		var rl struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rl) == nil && rl.Msg == "riot-server ready" {
			close(ready)
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
	err := p.cmd.Wait()
	s.log.add(fmt.Sprintf("### %s: pid %d exited: %v", time.Now().Format(time.RFC3339Nano), p.pid, errOr(err, "exit status 0")))
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// cleanEnv is the environment without RIOT_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RIOT_") {
			env = append(env, kv)
		}
	}
	return env
}

// Running reports whether a process runs (paused or not).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.running()
}

// Up reports whether a process runs and is not paused.
func (s *Server) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.running() && !s.proc.paused
}

// Paused reports whether the process is SIGSTOPped.
func (s *Server) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.running() && s.proc.paused
}

var errNotRunning = errors.New("not running")

// signal sends sig to the running process.
func (s *Server) signal(sig syscall.Signal) (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	if p == nil || !p.running() {
		return nil, fmt.Errorf("jepsen: %s %s: %w", sig, s.ID, errNotRunning)
	}
	if err := syscall.Kill(p.pid, sig); err != nil {
		return nil, fmt.Errorf("jepsen: %s %s: %w", sig, s.ID, err)
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused = true
	case syscall.SIGCONT, syscall.SIGKILL:
		p.paused = false
	}
	return p, nil
}

func waitExit(p *proc, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("pid %d did not exit within %s", p.pid, d)
	}
}

// Kill sends SIGKILL and waits until the process is gone.
func (s *Server) Kill() error {
	p, err := s.signal(syscall.SIGKILL)
	if err != nil {
		return err
	}
	return waitExit(p, exitTimeout)
}

// Term sends SIGTERM (a graceful shutdown: the node leaves) and waits for
// the process to exit. One that does not exit within exitTimeout gets
// SIGQUIT, so that its log ends with every goroutine's stack (where it
// hangs), and then SIGKILL.
func (s *Server) Term() error {
	p, err := s.signal(syscall.SIGTERM)
	if err != nil {
		return err
	}
	if err := waitExit(p, exitTimeout); err != nil {
		_ = syscall.Kill(p.pid, syscall.SIGQUIT)
		if waitExit(p, 5*time.Second) != nil {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			_ = waitExit(p, exitTimeout)
		}
		return fmt.Errorf("jepsen: %s after SIGTERM: %w (sent SIGQUIT: goroutine dump in its log)", s.ID, err)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("jepsen: %s exited with %s after SIGTERM, want 0", s.ID, p.cmd.ProcessState)
	}
	return nil
}

// AwaitRemovedExit waits for a node removed with RAFT.LEAVE to shut itself
// down (riot-server exits with code 0 when the cluster drops it: a leader
// sees its raft shut down, a follower is told by the leader). If it has not
// within exitTimeout, it gets SIGTERM and that is an error.
func (s *Server) AwaitRemovedExit() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("jepsen: %s: %w", s.ID, errNotRunning)
	}
	if err := waitExit(p, exitTimeout); err != nil {
		return errors.Join(fmt.Errorf("jepsen: %s still ran %s after its removal (stopped with SIGTERM)", s.ID, exitTimeout), s.Term())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("jepsen: %s exited with %s after its removal, want 0", s.ID, p.cmd.ProcessState)
	}
	return nil
}

// Pause sends SIGSTOP.
func (s *Server) Pause() error {
	_, err := s.signal(syscall.SIGSTOP)
	return err
}

// Resume sends SIGCONT.
func (s *Server) Resume() error {
	_, err := s.signal(syscall.SIGCONT)
	return err
}

// Wipe gives the (stopped) server a new, empty data directory; the old one
// is kept for the logs.
func (s *Server) Wipe() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.running() {
		return fmt.Errorf("jepsen: wipe %s: still running", s.ID)
	}
	s.gen++
	s.dataDir = filepath.Join(s.base, fmt.Sprintf("%s-data%d", s.ID, s.gen))
	return nil
}

// Stop kills the process, paused or not, and waits for it: for cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || !p.running() {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	if err := waitExit(p, exitTimeout); err != nil {
		s.logf("%s: %v", s.ID, err)
	}
}

// Stacks returns, from the last SIGQUIT dump in the server's log, the main
// goroutine, those serving a client command and raft's pipelined
// replication, without file names: where a process that would not exit was
// stuck.
func (s *Server) Stacks() string {
	logs := s.Logs()
	i := strings.LastIndex(logs, "SIGQUIT: quit")
	if i < 0 {
		return ""
	}
	var out []string
	for _, g := range strings.Split(logs[i:], "\n\n") {
		g = strings.TrimSpace(g)
		if !strings.HasPrefix(g, "goroutine 1 ") && !strings.Contains(g, "resp.(*session).serve") && !strings.Contains(g, "netPipeline") {
			continue
		}
		var lines []string
		for _, l := range strings.Split(g, "\n") {
			if strings.HasPrefix(l, "\t") {
				continue // file:line of the frame above
			}
			lines = append(lines, l)
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n\n")
}
