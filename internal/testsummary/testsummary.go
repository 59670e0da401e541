// Package testsummary collects the lines `make test` prints after the
// tests. `go test ./...` shows nothing of a package that passes, and a
// package whose tests all skip passes: a fault run's result, or a suite
// that could not run here (no root, no docker, a missing tool), would go
// unseen. Each such line is appended to the file $RIOT_TEST_SUMMARY names;
// without it (a plain go test) the lines go nowhere but the test's own
// output.
package testsummary

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// Env names the variable that holds the summary file's path.
const Env = "RIOT_TEST_SUMMARY"

// Add appends line and a newline to the summary file, if one is named.
func Add(line string) error {
	path := os.Getenv(Env)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("testsummary: %w", err)
	}
	_, err = f.WriteString(line + "\n")
	return errors.Join(err, f.Close())
}

// Skipped is the summary line of suite (a package, or a package and a
// test) that skipped for reason.
func Skipped(suite, reason string) string {
	return suite + ": SKIPPED: " + reason
}

// Skip records in the summary that test t of package suite skips, and
// why, then skips it.
func Skip(t testing.TB, suite, reason string) {
	t.Helper()
	if err := Add(Skipped(suite+" "+t.Name(), reason)); err != nil {
		t.Errorf("%v", err)
	}
	t.Skip(reason)
}
