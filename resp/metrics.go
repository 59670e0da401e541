package resp

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/raftkv"
)

// Command statistics. Every row of the command table carries its own
// counters (cmdStats), so the hot path does no map lookup and allocates
// nothing: a clock read and three atomic adds per command. INFO
// (# Stats, # Commandstats) and /metrics (Collector) read the same
// counters.

// cmdBuckets are the upper bounds of the command latency histogram,
// riot_command_duration_seconds: 50µs to 5s.
var cmdBuckets = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// cmdStats counts one command's calls, as Redis's commandstats do.
//
// Every counter only goes up (prometheus counters must): ok and failed are
// counted apart rather than one derived from the other.
type cmdStats struct {
	ok       atomic.Uint64 // executed, the reply was not an error
	failed   atomic.Uint64 // executed, the reply was an error
	rejected atomic.Uint64 // refused before running (arity, NOAUTH)
	nanos    atomic.Uint64 // total time from parse to reply
	// buckets[i] counts calls that took at most cmdBuckets[i] (and more
	// than the bound before); the last counts the rest.
	buckets [len(cmdBuckets) + 1]atomic.Uint64
}

// done records one call that started at start.
func (c *cmdStats) done(start time.Time, failed bool) {
	d := time.Since(start)
	if failed {
		c.failed.Add(1)
	} else {
		c.ok.Add(1)
	}
	c.nanos.Add(uint64(d))
	i := 0
	for i < len(cmdBuckets) && d > cmdBuckets[i] {
		i++
	}
	c.buckets[i].Add(1)
}

// isErrorReply reports whether the reply appended to out at mark is an
// error (RESP2 simple error or RESP3 blob error).
func isErrorReply(out []byte, mark int) bool {
	return len(out) > mark && (out[mark] == '-' || out[mark] == '!')
}

// reject counts a request refused before it ran: rejected_calls of its
// command, or an unknown command. Only on the error path.
func (s *Server) reject(args [][]byte) {
	name := make([]byte, len(args[0]))
	for i, c := range args[0] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		name[i] = c
	}
	if c, ok := s.commands[string(name)]; ok {
		c.stats.rejected.Add(1)
	} else {
		s.stats.unknown.Add(1)
	}
}

// cmdCounts is a command's counters at one moment.
type cmdCounts struct{ calls, failed, rejected, nanos uint64 }

func (c *cmdStats) counts() cmdCounts {
	failed := c.failed.Load()
	return cmdCounts{calls: c.ok.Load() + failed, failed: failed, rejected: c.rejected.Load(), nanos: c.nanos.Load()}
}

// errorReplies is INFO's total_error_replies: failed, rejected and unknown
// commands.
func (s *Server) errorReplies() uint64 {
	n := s.stats.unknown.Load()
	for _, c := range s.commands {
		st := c.stats.counts()
		n += st.failed + st.rejected
	}
	return n
}

// commandStats returns INFO's # Commandstats lines, one per command that
// was called or rejected, by name.
func (s *Server) commandStats() []raftkv.Field {
	var fields []raftkv.Field
	for _, name := range s.commandNames() {
		st := s.resetBase.sub(name, s.commands[name].stats.counts()) // since CONFIG RESETSTAT
		calls, failed, rejected := st.calls, st.failed, st.rejected
		if calls == 0 && rejected == 0 {
			continue
		}
		usec := st.nanos / 1e3
		perCall := 0.0
		if calls > 0 {
			perCall = float64(usec) / float64(calls)
		}
		fields = append(fields, raftkv.Field{
			Name: "cmdstat_" + name,
			Value: fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				calls, usec, perCall, rejected, failed),
		})
	}
	return fields
}

// opsSampler computes instantaneous_ops_per_sec as Redis does: the
// command count sampled every 100ms, averaged over the last 16 samples.
type opsSampler struct {
	mu       sync.Mutex
	lastN    uint64
	lastTime time.Time
	rates    [16]float64
	idx      int
	filled   int
}

const opsSampleInterval = 100 * time.Millisecond

func (o *opsSampler) sample(now time.Time, total uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.lastTime.IsZero() {
		if d := now.Sub(o.lastTime).Seconds(); d > 0 {
			o.rates[o.idx] = float64(total-o.lastN) / d
			o.idx = (o.idx + 1) % len(o.rates)
			o.filled = min(o.filled+1, len(o.rates))
		}
	}
	o.lastN, o.lastTime = total, now
}

func (o *opsSampler) rate() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.filled == 0 {
		return 0
	}
	var sum float64
	for _, r := range o.rates[:o.filled] {
		sum += r
	}
	return int64(sum/float64(o.filled) + 0.5)
}

// sampleOps runs until stop is closed.
func (s *Server) sampleOps(stop <-chan struct{}) {
	t := time.NewTicker(opsSampleInterval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			s.ops.sample(now, uint64(s.stats.commands.Load()))
			s.notePeak(heapObjectBytes())
		case <-stop:
			return
		}
	}
}

var (
	commandsDesc = prometheus.NewDesc("riot_commands_total",
		"Commands by name and result: err counts error replies, commands refused before running (arity, NOAUTH) included; cmd=\"unknown\" counts unknown commands.",
		[]string{"cmd", "result"}, nil)
	durationDesc = prometheus.NewDesc("riot_command_duration_seconds",
		"Time from parsing a command to its reply being ready (for a write: until it is committed and applied).",
		[]string{"cmd"}, nil)
	connectionsDesc = prometheus.NewDesc("riot_connections",
		"Client connections open now.", nil, nil)
	connectionsTotalDesc = prometheus.NewDesc("riot_connections_total",
		"Client connections accepted since the server started.", nil, nil)
)

// Collector returns the server's metrics, for a prometheus registry:
// commands by name and result, their latency, connections. Commands appear
// once called.
func (s *Server) Collector() prometheus.Collector { return serverCollector{s} }

type serverCollector struct{ s *Server }

func (c serverCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- commandsDesc
	ch <- durationDesc
	ch <- connectionsDesc
	ch <- connectionsTotalDesc
}

func (c serverCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	bounds := make([]float64, len(cmdBuckets))
	for i, b := range cmdBuckets {
		bounds[i] = b.Seconds()
	}
	names := make([]string, 0, len(s.commands))
	for name := range s.commands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		st := &s.commands[name].stats
		ok, failed, rejected := st.ok.Load(), st.failed.Load(), st.rejected.Load()
		if ok == 0 && failed == 0 && rejected == 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(commandsDesc, prometheus.CounterValue, float64(ok), name, "ok")
		ch <- prometheus.MustNewConstMetric(commandsDesc, prometheus.CounterValue, float64(failed+rejected), name, "err")
		buckets := make(map[float64]uint64, len(bounds))
		var count uint64
		for i, b := range bounds {
			count += st.buckets[i].Load()
			buckets[b] = count
		}
		count += st.buckets[len(bounds)].Load()
		ch <- prometheus.MustNewConstHistogram(durationDesc, count, float64(st.nanos.Load())/1e9, buckets, name)
	}
	if n := s.stats.unknown.Load(); n > 0 {
		ch <- prometheus.MustNewConstMetric(commandsDesc, prometheus.CounterValue, float64(n), "unknown", "err")
	}
	s.mu.Lock()
	open := len(s.sessions)
	s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(connectionsTotalDesc, prometheus.CounterValue, float64(s.stats.connections.Load()))
}
