package main

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

type opKind int

const (
	opSet opKind = iota
	opGet
)

// workload is what every client does: the same for every system.
type workload struct {
	key      string // set, set-p16, get, get-readonly
	label    string
	op       opKind
	pipeline int  // requests in flight per client (1: none)
	readonly bool // RESP connections send READONLY first (stale local reads)
}

var (
	wSet      = workload{key: "set", label: "SET", op: opSet, pipeline: 1}
	wSetP16   = workload{key: "set-p16", label: "SET, pipeline 16", op: opSet, pipeline: 16}
	wGet      = workload{key: "get", label: "GET", op: opGet, pipeline: 1}
	wGetStale = workload{key: "get-readonly", label: "GET, READONLY (stale)", op: opGet, pipeline: 1, readonly: true}
)

// labelFor names w as the system's own API does.
func (w workload) labelFor(s *system) string {
	if s.proto != etcd {
		if w.key == wGet.key && strings.HasPrefix(s.key, "riot") {
			return "GET (linearizable)"
		}
		return w.label
	}
	if w.op == opGet {
		return "Get (linearizable)"
	}
	return "Put"
}

// loadSpec is one measured pass.
type loadSpec struct {
	clients  int
	duration time.Duration // measured window
	warmup   time.Duration // before it: connections open, nothing counted
	rate     float64       // total operations per second; 0: as fast as possible
	keys     int           // key space
	value    []byte
}

// sample is the outcome of one pass.
type sample struct {
	target    float64 // the rate asked for (0: as fast as possible)
	opsPerSec float64
	p50, p99  time.Duration
	errors    int64
	firstErr  error
}

// runLoad drives c with spec.clients connections spread over its nodes
// (client i on node i mod n). Latency is per request (a whole pipeline when
// pipelining) and, in a rate-limited pass, counted from when the request was
// due, not from when it was sent, so a server that falls behind shows it.
func runLoad(ctx context.Context, c *cluster, w workload, spec loadSpec) (sample, error) {
	conns := make([]conn, spec.clients)
	defer func() {
		for _, cn := range conns {
			if cn != nil {
				cn.close()
			}
		}
	}()
	for i := range conns {
		cn, err := dial(c, i, w)
		if err != nil {
			return sample{}, err
		}
		conns[i] = cn
	}
	start := time.Now().Add(100 * time.Millisecond)
	from, to := start.Add(spec.warmup), start.Add(spec.warmup+spec.duration)
	hists := make([]*histogram, spec.clients)
	ops := make([]int64, spec.clients)
	errs := make([]int64, spec.clients)
	var errMu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for i := range conns {
		hists[i] = new(histogram)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			keys := make([]string, w.pipeline)
			var interval time.Duration
			if spec.rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(spec.clients*w.pipeline) / spec.rate)
			}
			// Clients start spread over one interval, not all at once.
			due := start
			if interval > 0 {
				due = start.Add(time.Duration(rng.Int64N(int64(interval))))
			}
			time.Sleep(time.Until(start))
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(to) {
					return
				}
				sent := now
				if interval > 0 {
					if wait := due.Sub(now); wait > 0 {
						time.Sleep(wait)
					}
					sent = due
					due = due.Add(interval)
				}
				for k := range keys {
					keys[k] = key(rng.IntN(spec.keys))
				}
				err := conns[i].do(ctx, keys, spec.value)
				done := time.Now()
				if sent.Before(from) || done.After(to) {
					continue
				}
				if err != nil {
					errs[i]++
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				ops[i] += int64(len(keys))
				hists[i].add(done.Sub(sent))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}
	var total histogram
	var s sample
	var n int64
	for i := range hists {
		total.merge(hists[i])
		n += ops[i]
		s.errors += errs[i]
	}
	s.firstErr = firstErr
	s.target = spec.rate
	s.opsPerSec = float64(n) / spec.duration.Seconds()
	s.p50, s.p99 = total.quantile(0.50), total.quantile(0.99)
	if n == 0 {
		return s, fmt.Errorf("bench: %s %s: no request succeeded: %v", c.sys.key, w.key, firstErr)
	}
	return s, nil
}

// histogram counts durations in buckets about 1.6% wide (64 per power of
// two of nanoseconds): constant memory whatever the request rate.
type histogram struct {
	counts [(64 - subBits + 1) << subBits]int64
	n      int64
}

const subBits = 6

func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	exp := bits.Len64(uint64(v)) - 1
	mant := v >> (exp - subBits) // in [64, 128)
	return (exp-subBits+1)<<subBits + int(mant-1<<subBits)
}

// bucketValue is the middle of bucket i.
func bucketValue(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	exp := i>>subBits - 1 + subBits
	mant := int64(i&(1<<subBits-1)) + 1<<subBits
	width := int64(1) << (exp - subBits)
	return mant*width + width/2
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n)+0.5) + 0
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(bucketValue(i))
		}
	}
	return 0
}
