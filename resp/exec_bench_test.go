package resp

import (
	"context"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/riotkv/riot/cluster"
)

// BenchmarkExec measures one command through session.exec (table lookup,
// arity, handler, reply; command statistics included) without the network:
// PING and a stale GET of a 16-byte value from a memory engine. Compare
// with and without command statistics to see their cost. Besides ns/op it
// reports cpu-ns/op, the benchmark thread's CPU time per command (Linux),
// which a busy machine inflates much less than wall time.
func BenchmarkExec(b *testing.B) {
	ts := startServer(b, nil)
	c1, c2 := net.Pipe()
	b.Cleanup(func() { c1.Close(); c2.Close() })
	sess := newSession(ts.Server, c1)
	sess.ctx = context.Background()
	sess.readLevel = cluster.Stale
	sess.exec([][]byte{[]byte("SET"), []byte("key"), []byte("0123456789abcdef")})
	sess.drain()
	for _, bc := range []struct {
		name string
		args [][]byte
	}{
		{"ping", [][]byte{[]byte("PING")}},
		{"get", [][]byte{[]byte("GET"), []byte("key")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			n := 0
			for b.Loop() {
				sess.exec(bc.args)
				sess.out = sess.out[:0]
				n++
			}
			if cpu1 := threadCPU(); cpu0 >= 0 && cpu1 >= 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
			}
		})
	}
}

// threadCPU returns the calling thread's CPU time (user and system), or -1
// where RUSAGE_THREAD is not supported.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD on Linux
	var ru syscall.Rusage
	if runtime.GOOS != "linux" || syscall.Getrusage(rusageThread, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
