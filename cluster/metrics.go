package cluster

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/raftkv"
)

// Kinds of requests a follower forwards to the leader.
const (
	fwdWrite     = iota // RIOT.APPLY
	fwdReadIndex        // RIOT.READINDEX
	fwdKinds
)

var fwdKindNames = [fwdKinds]string{fwdWrite: "write", fwdReadIndex: "read_index"}

// routerMetrics counts forwarded requests. Plain atomics: INFO shows them
// too.
type routerMetrics struct {
	forwarded [fwdKinds]atomic.Uint64 // requests sent on to the leader
	failed    [fwdKinds]atomic.Uint64 // requests that finally failed
	retries   [fwdKinds]atomic.Uint64 // re-sends (same request ID)
}

// Collectors returns the router's metrics, for a prometheus registry:
// requests forwarded to the leader, their retries and failures.
func (r *Router) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	for kind, name := range fwdKindNames {
		for _, c := range []struct {
			name, help string
			v          *atomic.Uint64
		}{
			{"riot_forwarded_total", "Requests this node forwarded to the leader: writes (RIOT.APPLY, one per client write) and read index requests (RIOT.READINDEX, shared by concurrent reads).", &r.metrics.forwarded[kind]},
			{"riot_forward_errors_total", "Forwarded requests that failed in the end (the client got an error).", &r.metrics.failed[kind]},
			{"riot_forward_retries_total", "Forwarded writes sent again with the same request ID (broken connection, leader change).", &r.metrics.retries[kind]},
		} {
			cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: c.name, Help: c.help, ConstLabels: prometheus.Labels{"kind": name},
			}, func() float64 { return float64(c.v.Load()) }))
		}
	}
	return cs
}

// ForwardInfo returns the forwarding counts as riot_* fields for INFO's
// cluster section.
func (r *Router) ForwardInfo() []raftkv.Field {
	m := &r.metrics
	u := func(v *atomic.Uint64) string { return strconv.FormatUint(v.Load(), 10) }
	return []raftkv.Field{
		{Name: "riot_forwarded_writes", Value: u(&m.forwarded[fwdWrite])},
		{Name: "riot_forwarded_read_index", Value: u(&m.forwarded[fwdReadIndex])},
		{Name: "riot_forward_errors", Value: strconv.FormatUint(m.failed[fwdWrite].Load()+m.failed[fwdReadIndex].Load(), 10)},
		{Name: "riot_forward_retries", Value: u(&m.retries[fwdWrite])},
	}
}
