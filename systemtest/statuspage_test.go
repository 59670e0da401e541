package systemtest

// The status page (GET /) rendered by a real browser: Debian's chromium,
// headless.

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromiumTimeout bounds one headless chromium run.
const chromiumTimeout = 90 * time.Second

var chromium struct {
	once sync.Once
	path string
	err  error
	log  string
}

// chromiumBin returns the chromium binary, installing Debian's package with
// scripts/deps.sh when it is missing; the test skips only when it cannot be
// installed.
func chromiumBin(t *testing.T) string {
	t.Helper()
	chromium.once.Do(func() {
		if p, err := exec.LookPath("chromium"); err == nil {
			chromium.path = p
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "../scripts/deps.sh", "chromium").CombinedOutput()
		chromium.log = string(out)
		if err != nil {
			chromium.err = fmt.Errorf("scripts/deps.sh chromium: %w", err)
			return
		}
		chromium.path, chromium.err = exec.LookPath("chromium")
	})
	if chromium.log != "" {
		t.Logf("scripts/deps.sh chromium:\n%s", chromium.log)
	}
	if chromium.err != nil {
		skip(t, fmt.Sprintf("chromium is not installed and could not be installed (%v): the status page test needs Debian's chromium package", chromium.err))
	}
	return chromium.path
}

// artifactDir is where a test leaves files for people to look at:
// $RIOT_TEST_ARTIFACTS/<test name> when set (kept), else a directory
// removed after the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("RIOT_TEST_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact dir: %v", err)
	}
	return dir
}

// runChromium runs headless chromium on url with extra flags and returns
// its stdout.
func runChromium(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
		"--virtual-time-budget=5000", "--user-data-dir=" + t.TempDir()}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %q: %v\nstderr:\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

var (
	rowRE     = regexp.MustCompile(`<tr data-node="([^"]*)" data-role="([^"]*)">`)
	cardRE    = regexp.MustCompile(`<b id="(leader|nodes|keys|rate|term)">([^<]*)</b>`)
	changesRE = regexp.MustCompile(`(?s)<ul id="changes">(.*?)</ul>`)
)

// TestStatusPageChromium: the status page of a 3-node cluster, loaded
// from a follower by headless chromium, shows the 3 nodes with exactly one
// leader, the key count, the commit rate and the leader change; the
// screenshot is kept as an artifact ($RIOT_TEST_ARTIFACTS).
func TestStatusPageChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumBin(t)
	nodes := startGossipCluster(t, 3, 3)
	ld := leader(t, nodes)
	page := followersOf(nodes, ld)[0]
	ctx := testCtx(t, time.Minute)
	setKeys(ctx, t, newClient(t, ld.Addr, 2), "page", 0, 200)
	// The page's node must know every node's admin address (from gossip)
	// and get each one's status.
	waitFor(t, gossipFormTimeout, func() error {
		r, err := httpCall("GET", page.url("/cluster"), "")
		if err != nil {
			return err
		}
		if r.code != 200 || strings.Count(r.body, `"status": {`) != 3 {
			return fmt.Errorf("GET /cluster on %s = %s; want a status for every node", page.NodeID, r)
		}
		return nil
	})

	url := page.url("/")
	shot := filepath.Join(artifactDir(t), "status.png")
	runChromium(t, bin, url, "--screenshot="+shot)
	t.Logf("status page screenshot: %s", shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", b.Dx(), b.Dy())
	}

	dom := runChromium(t, bin, url, "--dump-dom")
	if err := os.WriteFile(filepath.Join(filepath.Dir(shot), "status.html"), []byte(dom), 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Fatalf("the page never rendered the cluster (no data-ready on body):\n%s", dom)
	}
	rows := rowRE.FindAllStringSubmatch(dom, -1)
	var leaders []string
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r[1]] = true
		if r[2] == "leader" {
			leaders = append(leaders, r[1])
		}
	}
	if len(rows) != 3 || len(seen) != 3 || len(leaders) != 1 || leaders[0] != ld.NodeID {
		t.Errorf("rendered rows %q: want the 3 nodes with exactly one leader, %s", rows, ld.NodeID)
	}
	cards := map[string]string{}
	for _, m := range cardRE.FindAllStringSubmatch(dom, -1) {
		cards[m[1]] = m[2]
	}
	if cards["leader"] != ld.NodeID || cards["nodes"] != "3" {
		t.Errorf("cards %v: want leader %s and 3 nodes", cards, ld.NodeID)
	}
	if keys, err := strconv.Atoi(cards["keys"]); err != nil || keys < 200 {
		t.Errorf("keys card %q, want at least the 200 keys written", cards["keys"])
	}
	if _, err := strconv.Atoi(cards["rate"]); err != nil {
		t.Errorf("commits/s card %q, want a number (the page refreshed at least twice)", cards["rate"])
	}
	if m := changesRE.FindStringSubmatch(dom); m == nil || !strings.Contains(m[1], ld.NodeID+" leads") {
		t.Errorf("recent leader changes %q: want %s's election", m, ld.NodeID)
	}
	for _, want := range []string{">up<", ">voter<", ">alive<"} {
		if c := strings.Count(dom, want); c != 3 {
			t.Errorf("%d cells %q, want one per node", c, want)
		}
	}
}
