// Package proctest runs riot-server processes for the harnesses that test
// them (systemtest, jepsen): it builds the binary, keeps every line a
// process writes, finds its ready line, and sends signals and waits.
package proctest

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
	"sync/atomic"
	"syscall"
	"time"
)

// Build compiles cmd/riot-server into dir and returns the binary's path.
// It is built without -race: the race detector runs in the test binary
// (the clients and the harness); the servers run at full speed.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "riot-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/riotkv/riot/cmd/riot-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build riot-server: %w", err)
	}
	return bin, nil
}

// CleanEnv is this process's environment without RIOT_* variables, so that
// the developer's shell does not change the flags under test.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RIOT_") {
			env = append(env, kv)
		}
	}
	return env
}

// Log collects output lines, of one process or of several in turn; safe
// for concurrent use.
type Log struct {
	// Tee, when set, also gets every line as it is added (a long run's
	// logs on disk as they come, kept even if the harness dies).
	Tee io.Writer

	mu    sync.Mutex
	lines []string
}

// Add appends a line.
func (l *Log) Add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	if l.Tee != nil {
		_, _ = io.WriteString(l.Tee, s+"\n")
	}
	l.mu.Unlock()
}

// note adds a line of the harness's own (a command started, a process
// exited), marked so that Output leaves it out.
func (l *Log) note(format string, args ...any) {
	l.Add(notePrefix + time.Now().Format(time.RFC3339Nano) + ": " + fmt.Sprintf(format, args...))
}

const notePrefix = "### "

// Output returns the lines the processes wrote, without the harness's own.
func (l *Log) Output() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if !strings.HasPrefix(s, notePrefix) {
			out = append(out, s)
		}
	}
	return out
}

// String returns every line, each ended by a newline.
func (l *Log) String() string { return l.Tail(-1) }

// Tail returns the last n lines (all of them if n < 0), each ended by a
// newline.
func (l *Log) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if n >= 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, s := range lines {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}

// Ready is what the harnesses read from the "riot-server ready" log line.
type Ready struct {
	Msg        string `json:"msg"`
	Addr       string `json:"addr"`
	RaftAddr   string `json:"raft_addr"`
	NodeID     string `json:"node_id"`
	GossipAddr string `json:"gossip_addr"` // "" for a binary that does not gossip
}

// Proc is one started process: a riot-server run with --log-format json.
type Proc struct {
	Cmd *exec.Cmd
	Log *Log // where its stdout and stderr lines go

	ready  chan Ready    // the ready line, once seen
	done   chan struct{} // closed once the process exited and was waited for
	paused atomic.Bool   // SIGSTOPped and not yet continued
}

// Start starts cmd with its stdout and stderr going, line by line, to log
// (the caller sets everything else: arguments, directory, environment).
// It adds a line with the command and pid first.
func Start(cmd *exec.Cmd, log *Log) (*Proc, error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Proc{Cmd: cmd, Log: log, ready: make(chan Ready, 1), done: make(chan struct{})}
	log.note("$ %s (pid %d)", strings.Join(cmd.Args, " "), p.Pid())
	go p.scan(stderr)
	return p, nil
}

// scan keeps the process's output lines, reports the ready line, then
// waits for the process and closes done.
func (p *Proc) scan(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		p.Log.Add(line)
		if sent {
			continue
		}
		var rl Ready
		if json.Unmarshal([]byte(line), &rl) == nil && rl.Msg == "riot-server ready" {
			p.ready <- rl
			sent = true
		}
	}
	if err := sc.Err(); err != nil {
		p.Log.note("log scanner: %v", err)
		_, _ = io.Copy(io.Discard, r)
	}
	status := "exit status 0"
	if err := p.Cmd.Wait(); err != nil {
		status = err.Error()
	}
	p.Log.note("pid %d exited: %s", p.Pid(), status)
}

// AwaitReady waits up to d for the ready line. A process that is not ready
// by then is left running; one that exited first is an error.
func (p *Proc) AwaitReady(d time.Duration) (Ready, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-p.ready:
		return r, nil
	case <-p.done:
		select { // the ready line, if any, is sent before done is closed
		case r := <-p.ready:
			return r, nil
		default:
			return Ready{}, fmt.Errorf("pid %d exited with %s before it was ready", p.Pid(), p.Cmd.ProcessState)
		}
	case <-t.C:
		return Ready{}, fmt.Errorf("pid %d not ready after %s", p.Pid(), d)
	}
}

// Pid is the process's ID.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Done is closed once the process has exited; Cmd.ProcessState is then set.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited (paused or not).
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Paused reports whether the process runs and is SIGSTOPped.
func (p *Proc) Paused() bool { return p.Running() && p.paused.Load() }

// Signal sends sig to the running process, noting SIGSTOP and SIGCONT.
func (p *Proc) Signal(sig syscall.Signal) error {
	if !p.Running() {
		return fmt.Errorf("%s pid %d: %w (%s)", sig, p.Pid(), ErrExited, p.Cmd.ProcessState)
	}
	if err := syscall.Kill(p.Pid(), sig); err != nil {
		return fmt.Errorf("%s pid %d: %w", sig, p.Pid(), err)
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused.Store(true)
	case syscall.SIGCONT, syscall.SIGKILL:
		p.paused.Store(false)
	}
	return nil
}

// ErrExited: the process has already exited.
var ErrExited = errors.New("process already exited")

// WaitExit waits up to d for the process to exit.
func (p *Proc) WaitExit(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("pid %d did not exit within %s", p.Pid(), d)
	}
}
