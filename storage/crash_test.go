package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashDirEnv tells a re-executed test binary to act as the crash child and
// where its database lives.
const crashDirEnv = "RIOT_STORAGE_CRASH_CHILD_DIR"

// crashBootEnv, when set, makes the child write unsynced under this boot ID.
const crashBootEnv = "RIOT_STORAGE_CRASH_CHILD_BOOT"

const (
	crashKeysPerBatch = 50
	crashAcks         = 200 // acknowledged batches before the kill
	crashDeadline     = 60 * time.Second
)

func crashKey(batch, j int) []byte { return fmt.Appendf(nil, "b%07d/k%02d", batch, j) }

// TestCrashHelper is the child process of TestLevelDBCrash. It writes
// batches until it is killed, printing "ack N" after batch N is written.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("crash child only; run by TestLevelDBCrash")
	}
	o := Options{SyncWrites: true}
	if boot := os.Getenv(crashBootEnv); boot != "" {
		o = Options{BootID: boot}
	}
	e, err := OpenLevelDBWith(dir, o)
	if err != nil {
		t.Fatalf("child OpenLevelDB(%s): %v", dir, err)
	}
	// Bounded so an orphaned child cannot run forever; the parent kills it
	// long before. A dead parent also kills it through SIGPIPE on stdout.
	for n := range 1_000_000 {
		var b Batch
		v := []byte(strconv.Itoa(n))
		for j := range crashKeysPerBatch {
			b.Put(crashKey(n, j), v)
		}
		if err := e.Write(&b); err != nil {
			t.Fatalf("child Write(batch %d): %v", n, err)
		}
		fmt.Printf("ack %d\n", n)
	}
}

// TestLevelDBCrash kills a writing process with SIGKILL and checks that,
// after reopening, every acknowledged batch is present and every batch is
// all-or-nothing: with synced writes, and with unsynced writes reopened in
// the same boot (the page cache holds them).
func TestLevelDBCrash(t *testing.T) {
	t.Run("synced", func(t *testing.T) { testLevelDBCrash(t, "") })
	t.Run("unsynced", func(t *testing.T) { testLevelDBCrash(t, "boot-a") })
}

func testLevelDBCrash(t *testing.T, boot string) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashBootEnv+"="+boot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}

	acks := make(chan int)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				if i, err := strconv.Atoi(n); err == nil {
					acks <- i
				}
			}
		}
	}()

	acked := -1 // highest acknowledged batch
	deadline := time.After(crashDeadline)
	var failure string
wait:
	for acked+1 < crashAcks {
		select {
		case n, ok := <-acks:
			if !ok {
				failure = fmt.Sprintf("child exited after %d acks, want %d", acked+1, crashAcks)
				break wait
			}
			if n != acked+1 {
				failure = fmt.Sprintf("child acked batch %d after %d, want %d", n, acked, acked+1)
				break wait
			}
			acked = n
		case <-deadline:
			failure = fmt.Sprintf("only %d of %d acks within %v", acked+1, crashAcks, crashDeadline)
			break wait
		}
	}
	if err := cmd.Process.Kill(); err != nil && failure == "" {
		t.Errorf("kill child: %v", err)
	}
	for n := range acks { // acks printed before the kill also count
		acked = max(acked, n)
	}
	waitErr := cmd.Wait()
	if failure != "" {
		t.Fatalf("%s (wait: %v)\nchild stderr:\n%s", failure, waitErr, stderr.String())
	}

	e, err := OpenLevelDBWith(dir, Options{BootID: boot, SyncWrites: boot == ""})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	t.Cleanup(func() { closeEngine(t, e) })
	checkCrashBatches(t, e, acked)
}

// checkCrashBatches checks the recovered batches: each is complete, batches
// 0..acked are present, and at most the one in flight at the kill follows.
func checkCrashBatches(t *testing.T, e Engine, acked int) {
	t.Helper()
	counts := map[int]int{}
	it := e.NewIterator(PrefixRange([]byte("b")))
	for it.Next() {
		k, v := string(it.Key()), string(it.Value())
		n, err := strconv.Atoi(v)
		if err != nil || !strings.HasPrefix(k, fmt.Sprintf("b%07d/", n)) {
			t.Fatalf("key %q has value %q, want its batch number", k, v)
		}
		counts[n]++
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate recovered db: %v", err)
	}
	for n, c := range counts {
		if c != crashKeysPerBatch {
			t.Errorf("batch %d has %d of %d keys after crash, want all or none", n, c, crashKeysPerBatch)
		}
	}
	for n := 0; n <= acked; n++ {
		if counts[n] == 0 {
			t.Errorf("acknowledged batch %d (of 0..%d) missing after crash", n, acked)
		}
	}
	if extra := len(counts) - (acked + 1); extra > 1 || (extra == 1 && counts[acked+1] == 0) {
		t.Errorf("recovered %d batches after %d acks, want batches 0..%d plus at most batch %d", len(counts), acked+1, acked, acked+1)
	}
	t.Logf("killed after %d acknowledged batches; recovered %d", acked+1, len(counts))
}
