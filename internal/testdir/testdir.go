// Package testdir helps tests that work on directories of files.
package testdir

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Copy copies the files of directory src (not its subdirectories) into a
// new temporary directory and returns it: a data dir as a process killed
// with kill -9 left it, or a checked-in fixture a test may modify.
func Copy(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			tb.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}
