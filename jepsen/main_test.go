package jepsen

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/riotkv/riot/internal/proctest"
	"github.com/riotkv/riot/internal/testsummary"
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
	flag.Parse()
	if testing.Short() {
		skipReason = "-short: the fault runs take minutes"
		return m.Run() // the checkers' unit tests run; every fault run skips
	}
	if err := Check(); err != nil {
		skipReason = err.Error()
		if err := testsummary.Add(testsummary.Skipped("jepsen (every fault-injection test)", skipReason)); err != nil {
			fmt.Fprintf(os.Stderr, "jepsen: %v\n", err)
		}
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
	if serverBin, err = proctest.Build(dir); err != nil {
		fmt.Fprintf(os.Stderr, "jepsen: %v\n", err)
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
