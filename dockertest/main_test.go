// Package dockertest tests the container image (Dockerfile) and the
// three-node compose cluster (deploy/docker-compose.yml) with the machine's
// docker engine: a static riot-server is built, copied into a FROM scratch
// image (nothing is pulled), and real containers are started, cut off the
// network and reconnected.
//
// Every test skips, saying why, when docker (the daemon, and docker-compose
// or the compose plugin) is not usable, and in -short mode. Containers,
// networks, volumes and images are named after the test process
// (riotdt<pid>x<n>) and removed on every exit path; those of a test process
// that died (a -timeout, a kill) are removed by the next run.
package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riotkv/riot/internal/testsummary"
)

const (
	// namePrefix starts the name of every project, container and image tag
	// this package creates; the owning process's PID follows.
	namePrefix = "riotdt"
	// imageRepo is the repository of the images the tests build.
	imageRepo = "riot-server"
	// cmdTimeout bounds a docker command (docker build and compose up
	// included).
	cmdTimeout = 90 * time.Second
)

var (
	// skipReason is why docker cannot be used here, or "".
	skipReason string
	// composeCmd runs compose: {"docker-compose"} or {"docker", "compose"}.
	composeCmd []string
	// repoRoot is the module's root directory (Dockerfile, deploy/).
	repoRoot string

	nameCounter atomic.Int32

	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	redis.SetLogger(quietLogger{}) // go-redis logs every failed dial; the tests report what matters
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintf(os.Stderr, "dockertest: %v\n", err)
		return 1
	}
	repoRoot = root
	if err := checkDocker(); err != nil {
		skipReason = err.Error()
		if err := testsummary.Add(testsummary.Skipped("dockertest (every test)", skipReason)); err != nil {
			fmt.Fprintf(os.Stderr, "dockertest: %v\n", err)
		}
		return m.Run() // every test skips with the reason
	}
	cleanupLeftovers()
	code := m.Run()
	if imageTag != "" {
		if out, err := docker("rmi", "-f", imageTag); err != nil {
			fmt.Fprintf(os.Stderr, "dockertest: remove image: %v: %s\n", err, out)
		}
	}
	return code
}

// checkDocker reports why docker cannot run the tests here, or nil; it
// sets composeCmd.
func checkDocker() error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("docker is not installed: %v", err)
	}
	if out, err := docker("version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("the docker daemon is not usable: %v: %s", err, strings.TrimSpace(out))
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		if _, err := command("docker-compose", "version"); err == nil {
			composeCmd = []string{"docker-compose"}
			return nil
		}
	}
	if _, err := docker("compose", "version"); err == nil {
		composeCmd = []string{"docker", "compose"}
		return nil
	}
	return errors.New("neither docker-compose nor the docker compose plugin is installed")
}

// needDocker skips the test when docker cannot be used, or in -short mode.
func needDocker(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skipf("skipping: %s", skipReason)
	}
	if testing.Short() {
		t.Skip("skipping in -short mode: builds an image and runs containers")
	}
}

// command runs name args, bounded by cmdTimeout, and returns its combined
// output; an error names the command line.
func command(name string, args ...string) (string, error) {
	return commandEnv(nil, name, args...)
}

func commandEnv(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

func docker(args ...string) (string, error) { return command("docker", args...) }

// newName returns a name no other test (of this or another process) uses:
// riotdt<pid>x<n>.
func newName() string {
	return fmt.Sprintf("%s%dx%d", namePrefix, os.Getpid(), nameCounter.Add(1))
}

var ownerRE = regexp.MustCompile(`^` + namePrefix + `(\d+)x`)

// deadOwner reports whether name was made by a test process that is gone.
func deadOwner(name string) bool {
	m := ownerRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid == os.Getpid() {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err != nil && !errors.Is(err, syscall.EPERM)
}

// cleanupLeftovers removes the compose projects, containers and images of
// test processes that died before their cleanup ran.
func cleanupLeftovers() {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "dockertest: "+format+"\n", args...) }
	projects := map[string]bool{}
	for _, args := range [][]string{
		{"ps", "-a", "--filter", "label=com.docker.compose.project", "--format", `{{.Label "com.docker.compose.project"}}`},
		{"network", "ls", "--filter", "label=com.docker.compose.project", "--format", `{{.Label "com.docker.compose.project"}}`},
		{"volume", "ls", "--filter", "label=com.docker.compose.project", "--format", `{{.Label "com.docker.compose.project"}}`},
	} {
		out, err := docker(args...)
		if err != nil {
			continue
		}
		for _, p := range strings.Fields(out) {
			if deadOwner(p) {
				projects[p] = true
			}
		}
	}
	for p := range projects {
		c := &compose{project: p}
		if out, err := c.run("down", "-v", "--remove-orphans", "-t", "1"); err != nil {
			logf("cleanup of leftover project %s: %v: %s", p, err, out)
		} else {
			logf("cleanup: removed leftover compose project %s", p)
		}
	}
	if out, err := docker("ps", "-a", "--filter", "name="+namePrefix, "--format", "{{.Names}}"); err == nil {
		for _, n := range strings.Fields(out) {
			if deadOwner(n) {
				_, _ = docker("rm", "-f", "-v", n)
				logf("cleanup: removed leftover container %s", n)
			}
		}
	}
	if out, err := docker("images", "--format", "{{.Tag}}", imageRepo); err == nil {
		for _, tag := range strings.Fields(out) {
			if deadOwner(tag) {
				_, _ = docker("rmi", "-f", imageRepo+":"+tag)
				logf("cleanup: removed leftover image %s:%s", imageRepo, tag)
			}
		}
	}
}

// image builds the image once per test process, as `make docker` does: a
// static bin/riot-server (CGO_ENABLED=0) in a build context of its own (the
// repository's bin/ is left alone), and the repository's Dockerfile.
func image(t *testing.T) string {
	t.Helper()
	imageOnce.Do(func() {
		start := time.Now()
		ctxDir, err := os.MkdirTemp("", "riot-dockertest-")
		if err != nil {
			imageErr = err
			return
		}
		defer os.RemoveAll(ctxDir)
		build := exec.Command("go", "build", "-ldflags", "-X main.version=dockertest", "-o", filepath.Join(ctxDir, "bin", "riot-server"), "./cmd/riot-server")
		build.Dir = repoRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("go build riot-server: %v: %s", err, out)
			return
		}
		tag := imageRepo + ":" + newName()
		if out, err := docker("build", "-q", "-f", filepath.Join(repoRoot, "Dockerfile"), "-t", tag, ctxDir); err != nil {
			imageErr = fmt.Errorf("%v: %s", err, out)
			return
		}
		imageTag = tag
		t.Logf("built image %s in %s", tag, time.Since(start).Round(100*time.Millisecond))
	})
	if imageErr != nil {
		t.Fatalf("build the image: %v", imageErr)
	}
	return imageTag
}

// waitFor calls cond until it returns nil or d has passed; the error then
// is cond's last.
func waitFor(d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", d, err)
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not synchronization
	}
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
