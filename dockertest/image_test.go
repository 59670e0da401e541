package dockertest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestImageSingleNode runs the image with no arguments, as `docker run
// riot-server` does: the image's defaults (every address on 0.0.0.0, data
// in the /data volume) and the advertise address taken from the
// container's host name make a working one-node cluster. docker stop is a
// graceful shutdown (exit code 0), and the data survives a restart.
func TestImageSingleNode(t *testing.T) {
	needDocker(t)
	img := image(t)
	if out, err := docker("image", "inspect", "--format", "{{len .RootFS.Layers}} {{.Config.User}}", img); err != nil {
		t.Fatalf("inspect %s: %v: %s", img, err, out)
	} else if f := strings.Fields(out); len(f) == 0 || f[0] != "1" {
		t.Errorf("image %s has layers/user %q; want one layer (FROM scratch, the binary alone)", img, strings.TrimSpace(out))
	}
	name := newName() + "-solo"
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := docker("logs", "--tail", "100", name); err == nil {
				t.Logf("container log:\n%s", out)
			}
		}
		if out, err := docker("rm", "-f", "-v", name); err != nil && !strings.Contains(out, "No such container") {
			t.Errorf("remove container: %v: %s", err, out)
		}
	})
	if out, err := docker("run", "-d", "--name", name, img); err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	ipOf := func() string {
		out, err := docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name)
		if err != nil {
			t.Fatalf("inspect %s: %v: %s", name, err, out)
		}
		f := strings.Fields(out)
		if len(f) != 1 {
			t.Fatalf("container %s has addresses %q, want one", name, out)
		}
		return f[0]
	}
	serve := func() *cnode {
		n := &cnode{service: name, ip: ipOf()}
		n.c = newClient(n.ip+":6379", false)
		t.Cleanup(func() { n.c.Close() })
		return n
	}
	n := serve()
	err := waitFor(30*time.Second, func() error { return n.do("SET", "docker:solo", "kept").Err() })
	if err != nil {
		t.Fatalf("SET on the lone container at %s: %v", n.ip, err)
	}
	ps, err := n.peers()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].RaftAddr != n.ip+":16379" || ps[0].ClientAddr != n.ip+":6379" || ps[0].Suffrage != "voter" {
		t.Errorf("RAFT.PEERS = %+v; want one voter advertising %s (the container's address)", ps, n.ip)
	}

	// docker stop: SIGTERM, a graceful shutdown.
	start := time.Now()
	if out, err := docker("stop", "-t", "20", name); err != nil {
		t.Fatalf("docker stop: %v: %s", err, out)
	}
	out, err := docker("inspect", "--format", "{{.State.ExitCode}}", name)
	if err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("exit code after docker stop = %q, %v; want 0 (graceful shutdown)", strings.TrimSpace(out), err)
	}
	t.Logf("docker stop took %s", time.Since(start).Round(100*time.Millisecond))

	// The /data volume keeps the data across a restart.
	if out, err := docker("start", name); err != nil {
		t.Fatalf("docker start: %v: %s", err, out)
	}
	n = serve()
	var got string
	err = waitFor(30*time.Second, func() error {
		var err error
		got, err = n.do("GET", "docker:solo").Text()
		if err == nil && got != "kept" {
			return fmt.Errorf("GET docker:solo = %q", got)
		}
		return err
	})
	if err != nil {
		t.Fatalf("after a restart, GET docker:solo: %v; want %q (the /data volume)", err, "kept")
	}
}
