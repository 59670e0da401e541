// Command fsyncs measures how the disk under a directory serves fsyncs
// from several writers at once: each writer appends 4 KiB to a file of
// its own and fdatasyncs it, in a loop, for a few seconds; the total
// rate is printed per number of writers. Raft groups on one node (and
// nodes on one machine) are such writers: if the rate does not grow
// with them, more groups mean more fsyncs for the same writes
// (docs/performance.md, "Sharded mode").
//
//	go run ./cmd/fsyncs -dir /var/tmp -writers 1,2,3,6,12 -for 3s
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure")
	writers := flag.String("writers", "1,2,3,6,12", "numbers of concurrent writers, comma-separated")
	window := flag.Duration("for", 3*time.Second, "measured time per number of writers")
	flag.Parse()
	for _, f := range strings.Split(*writers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-writers: %q is not a positive number", f)
		}
		rate, err := measure(*dir, n, *window)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%2d writers: %6.0f fsyncs/s (%.0f per writer)\n", n, rate, rate/float64(n))
	}
}

// measure runs n writers for d and returns their total fsyncs per second.
func measure(dir string, n int, d time.Duration) (float64, error) {
	var count atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	buf := make([]byte, 4096)
	deadline := time.Now().Add(d)
	for i := range n {
		f, err := os.CreateTemp(dir, "fsyncs-*")
		if err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer os.Remove(filepath.Clean(f.Name()))
			defer f.Close()
			for time.Now().Before(deadline) {
				if _, err := f.Write(buf); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
				if err := f.Sync(); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(count.Load()) / d.Seconds(), nil
}
