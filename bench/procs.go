package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs starts server processes and stops every one of them, whatever path
// the runner leaves by: stopAll runs deferred in run, and each child gets
// SIGKILL from the kernel should the runner itself die (Pdeathsig).
type procs struct {
	mu    sync.Mutex
	live  map[int]*proc
	ports map[int]bool // handed out already, so no two servers get the same one
	dir   string       // temp root: data dirs and logs
}

// proc is one started server.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	args []string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

func newProcs(dir string) *procs {
	return &procs{live: map[int]*proc{}, ports: map[int]bool{}, dir: dir}
}

// port returns a loopback port nothing listens on now and that this runner has
// not handed out before.
func (ps *procs) port() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ps.mu.Lock()
		used := ps.ports[p]
		ps.ports[p] = true
		ps.mu.Unlock()
		if !used {
			return p, nil
		}
	}
	return 0, errors.New("bench: no free loopback port")
}

// dataDir returns a new empty directory for name's data: every start of a
// system (one per round) begins from nothing, never from an earlier
// round's state (a raft or etcd member would find its old peers there).
func (ps *procs) dataDir(name string) (string, error) {
	return os.MkdirTemp(ps.dir, name+"-data-")
}

// start runs bin with args; its stdout and stderr go to DIR/name.log.
func (ps *procs) start(name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(ps.dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, args: args, done: make(chan struct{})}
	ps.mu.Lock()
	ps.live[cmd.Process.Pid] = p
	ps.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		f.Close()
		ps.mu.Lock()
		delete(ps.live, cmd.Process.Pid)
		ps.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, waits up to grace for the exit, then SIGKILL.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill9 kills the process at once, as a crash would.
func (p *proc) kill9() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exited reports whether the process is gone, with the tail of its log.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); log %s:\n%s", p.name, p.err, p.log, tail(p.log, 15))
	default:
		return nil
	}
}

// peakRSS is the process's high-water resident set (VmHWM) in bytes, or 0.
func (p *proc) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// stopAll stops every process still running, in parallel.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	var all []*proc
	for _, p := range ps.live {
		all = append(all, p)
	}
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(func() { p.stop(10 * time.Second) })
	}
	wg.Wait()
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// poll calls f every 20ms until it returns nil or timeout passes; the error
// is f's last one.
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
