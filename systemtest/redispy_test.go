package systemtest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// systemPython is Debian's interpreter, which has python3-redis
// (scripts/deps.sh installs it); a python3 earlier in PATH (pyenv, a
// virtualenv) may not.
const systemPython = "/usr/bin/python3"

// TestRedisPy runs testdata/redispy_smoke.py, which drives a real
// riot-server with redis-py (SET/GET/INCR/EXPIRE/TTL/MGET, a pipeline,
// scan_iter, ...) and asserts every reply; a non-zero exit fails the test.
func TestRedisPy(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		skip(t, fmt.Sprintf("%s cannot import redis (install python3-redis: make deps): %v %s", systemPython, err, out))
	}
	n := start(t, t.TempDir())
	out, errOut, code := runTool(t, 2*time.Minute, systemPython, "testdata/redispy_smoke.py", "127.0.0.1", port(t, n.Addr))
	if code != 0 {
		t.Fatalf("redispy_smoke.py exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "smoke: ok") {
		t.Fatalf("redispy_smoke.py exited 0 without its ok line\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	t.Log(strings.TrimSpace(out))
}
