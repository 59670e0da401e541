package gossip

import "github.com/prometheus/client_golang/prometheus"

// metricStates are the state label values of riot_gossip_members, in
// memberlist's words (dead is Failed).
var metricStates = []struct {
	state State
	label string
}{{Alive, "alive"}, {Suspect, "suspect"}, {Failed, "dead"}, {Left, "left"}}

var membersDesc = prometheus.NewDesc("riot_gossip_members",
	"Nodes this node's gossip knows, by state (dead: failed; left and dead nodes stay listed until memberlist forgets them).",
	[]string{"state"}, nil)

// Collector returns a collector of riot_gossip_members{state}, read from
// Members on every scrape.
func (g *Gossip) Collector() prometheus.Collector { return membersCollector{g} }

type membersCollector struct{ g *Gossip }

func (c membersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- membersDesc }

func (c membersCollector) Collect(ch chan<- prometheus.Metric) {
	count := make(map[State]int, len(metricStates))
	for _, m := range c.g.Members() {
		count[m.State]++
	}
	for _, s := range metricStates {
		ch <- prometheus.MustNewConstMetric(membersDesc, prometheus.GaugeValue, float64(count[s.state]), s.label)
	}
}
