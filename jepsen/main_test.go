package jepsen

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

// serverBin is the riot-server binary the tests run: built once by
// TestMain, or $JEPSEN_SERVER_BIN when set (to test a given build).
var serverBin string

// skipReason is why the tests cannot run here (not root, no namespaces),
// or "".
var skipReason string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// go-redis logs every failed dial; the histories record them instead.
	redis.SetLogger(quietLogger{})
	if err := Check(); err != nil {
		skipReason = err.Error()
		return m.Run() // every test skips with the reason
	}
	CleanupLeftovers(func(format string, args ...any) { fmt.Fprintf(os.Stderr, "jepsen: "+format+"\n", args...) })
	if bin := os.Getenv("JEPSEN_SERVER_BIN"); bin != "" {
		serverBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "riot-jepsen-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "jepsen: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	serverBin = filepath.Join(dir, "riot-server")
	// Built without -race: the race detector runs in the test binary (the
	// clients and the harness); the servers run at full speed.
	build := exec.Command("go", "build", "-o", serverBin, "github.com/riotkv/riot/cmd/riot-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "jepsen: go build riot-server: %v\n", err)
		return 1
	}
	return m.Run()
}

// needRoot skips the test when the harness cannot run here.
func needRoot(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skipf("skipping: %s", skipReason)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
