package proctest

import (
	"errors"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestProc: the ready line is found among the output, pause and kill are
// tracked, and Output holds what the process wrote and nothing else.
func TestProc(t *testing.T) {
	script := `echo starting; echo '{"msg":"riot-server ready","addr":"127.0.0.1:1","node_id":"n1"}' >&2; exec sleep 60`
	log := &Log{}
	p, err := Start(exec.Command("sh", "-c", script), log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.AwaitReady(10 * time.Second)
	if err != nil || r.Addr != "127.0.0.1:1" || r.NodeID != "n1" {
		t.Fatalf("AwaitReady = %+v, %v", r, err)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil || !p.Paused() {
		t.Fatalf("SIGSTOP: %v, paused %v", err, p.Paused())
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitExit(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.Running() || p.Paused() {
		t.Errorf("after SIGKILL: running %v, paused %v", p.Running(), p.Paused())
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrExited) {
		t.Errorf("signal after exit: %v, want ErrExited", err)
	}
	want := []string{"starting", `{"msg":"riot-server ready","addr":"127.0.0.1:1","node_id":"n1"}`}
	if got := log.Output(); !slices.Equal(got, want) {
		t.Errorf("Output = %q, want %q\nwhole log:\n%s", got, want, log)
	}
}

// TestAwaitReadyExited: a process that exits without a ready line is an
// error, at once.
func TestAwaitReadyExited(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "echo no; exit 3"), &Log{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AwaitReady(time.Minute); err == nil {
		t.Fatal("AwaitReady succeeded for a process that exited")
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}
