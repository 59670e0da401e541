package jepsen

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/riotkv/riot/internal/proctest"
)

// Fixed ports: every server has its own address.
const (
	clientPort = "6379"
	raftPort   = "7000"
	gossipPort = "7946"

	readyTimeout = 20 * time.Second // process start until the ready line
	exitTimeout  = 15 * time.Second // a signal until the process is gone
)

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
	log   *proctest.Log // every incarnation's lines

	mu      sync.Mutex
	dataDir string
	gen     int // data dir generation (Wipe)
	starts  int
	proc    *proctest.Proc
}

func newServer(id string, h *Host, bin, base string, flags []string, logf func(string, ...any)) *Server {
	s := &Server{
		ID: id, Host: h,
		Addr: h.IP + ":" + clientPort, RaftAddr: h.IP + ":" + raftPort, GossipAddr: h.IP + ":" + gossipPort,
		bin: bin, base: base, flags: flags, logf: logf, log: &proctest.Log{},
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
	if s.proc != nil && s.proc.Running() {
		s.mu.Unlock()
		return fmt.Errorf("jepsen: start %s: already running (pid %d)", s.ID, s.proc.Pid())
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
	cmd.Env = proctest.CleanEnv()
	// The process dies with the test process, even on SIGKILL of the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p, err := proctest.Start(cmd, s.log)
	if err != nil {
		return fmt.Errorf("jepsen: %s: %w", s.ID, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	if _, err := p.AwaitReady(readyTimeout); err != nil {
		_ = p.Signal(syscall.SIGKILL)
		return fmt.Errorf("jepsen: %s: %w; log tail:\n%s", s.ID, err, s.log.Tail(15))
	}
	return nil
}

// Running reports whether a process runs (paused or not).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.Running()
}

// Up reports whether a process runs and is not paused.
func (s *Server) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.Running() && !s.proc.Paused()
}

// Paused reports whether the process is SIGSTOPped.
func (s *Server) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.Paused()
}

var errNotRunning = errors.New("not running")

// signal sends sig to the running process.
func (s *Server) signal(sig syscall.Signal) (*proctest.Proc, error) {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || !p.Running() {
		return nil, fmt.Errorf("jepsen: %s %s: %w", sig, s.ID, errNotRunning)
	}
	if err := p.Signal(sig); err != nil {
		return nil, fmt.Errorf("jepsen: %s: %w", s.ID, err)
	}
	return p, nil
}

// Kill sends SIGKILL and waits until the process is gone.
func (s *Server) Kill() error {
	p, err := s.signal(syscall.SIGKILL)
	if err != nil {
		return err
	}
	return p.WaitExit(exitTimeout)
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
	if err := p.WaitExit(exitTimeout); err != nil {
		_ = p.Signal(syscall.SIGQUIT)
		if p.WaitExit(5*time.Second) != nil {
			_ = p.Signal(syscall.SIGKILL)
			_ = p.WaitExit(exitTimeout)
		}
		return fmt.Errorf("jepsen: %s after SIGTERM: %w (sent SIGQUIT: goroutine dump in its log)", s.ID, err)
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("jepsen: %s exited with %s after SIGTERM, want 0", s.ID, p.Cmd.ProcessState)
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
	if err := p.WaitExit(exitTimeout); err != nil {
		return errors.Join(fmt.Errorf("jepsen: %s still ran %s after its removal (stopped with SIGTERM)", s.ID, exitTimeout), s.Term())
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("jepsen: %s exited with %s after its removal, want 0", s.ID, p.Cmd.ProcessState)
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
	if s.proc != nil && s.proc.Running() {
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
	if p == nil || !p.Running() {
		return
	}
	_ = p.Signal(syscall.SIGKILL)
	if err := p.WaitExit(exitTimeout); err != nil {
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
