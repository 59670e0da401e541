package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The fault kinds. Each is usable alone or mixed with others.
const (
	FaultKill     = "kill"     // kill -9 a minority (the leader preferred); restart on the same data dir
	FaultPause    = "pause"    // SIGSTOP one node (the leader preferred); SIGCONT
	FaultIsolate  = "isolate"  // partition the leader from everyone else
	FaultSplit    = "split"    // partition a random minority from the majority
	FaultBridge   = "bridge"   // two halves that only one middle node sees both of
	FaultOneWay   = "oneway"   // asymmetric loss: one node's packets in (or out) are dropped
	FaultSlow     = "slow"     // tc netem delay on every link (tbf bandwidth limit without netem)
	FaultTransfer = "transfer" // RAFT.TRANSFER leadership (to a random voter, or any)
	FaultLeave    = "leave"    // RAFT.LEAVE a node and stop it; back with a fresh data dir and --join
	FaultStop     = "stop"     // SIGTERM a node (it leaves); back on its data dir with --join
	FaultGrow     = "grow"     // add a fresh node with --join; SIGTERM it (it leaves)
	// FaultSnapKill kill -9s a follower in the middle of installing the
	// leader's snapshot; restart on the same data dir. Snapshot mode only
	// (snapshots.go).
	FaultSnapKill = "snapkill"
)

// AllFaults lists every kind.
var AllFaults = []string{FaultKill, FaultPause, FaultIsolate, FaultSplit, FaultBridge, FaultOneWay,
	FaultSlow, FaultTransfer, FaultLeave, FaultStop, FaultGrow}

// SnapshotFaults lists the kinds that need the snapshot mode
// (NemesisConfig.Snapshots); "all" does not include them.
var SnapshotFaults = []string{FaultSnapKill}

// faultGroups are shorthands accepted by ParseFaults.
var faultGroups = map[string][]string{
	"all":        AllFaults,
	"partition":  {FaultIsolate, FaultSplit, FaultBridge, FaultOneWay},
	"process":    {FaultKill, FaultPause},
	"membership": {FaultLeave, FaultStop, FaultGrow, FaultTransfer},
}

// ParseFaults parses a comma-separated list of kinds and groups (all,
// partition, process, membership).
func ParseFaults(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		kinds, ok := faultGroups[f]
		if !ok {
			if !slices.Contains(AllFaults, f) && !slices.Contains(SnapshotFaults, f) {
				return nil, fmt.Errorf("jepsen: unknown fault %q (kinds: %s; groups: all, partition, process, membership)", f, strings.Join(append(slices.Clone(AllFaults), SnapshotFaults...), ", "))
			}
			kinds = []string{f}
		}
		for _, k := range kinds {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("jepsen: no faults given")
	}
	return out, nil
}

// FaultEvent is one fault the nemesis injected. Times are on the
// history's clock.
type FaultEvent struct {
	Kind      string
	Desc      string
	Start     int64
	End       int64         // healed (Start for instantaneous faults)
	Recovered time.Duration // from heal until the cluster was whole again; -1: it was not within recoverTimeout
	Err       string        // the fault could not be injected or healed as planned
}

func (f FaultEvent) String() string {
	rec := "recovered after " + f.Recovered.Round(time.Millisecond).String()
	if f.Recovered < 0 {
		rec = "NOT recovered within " + recoverTimeout.String()
	}
	return fmt.Sprintf("%8.3fs..%8.3fs %-9s %s; %s%s", float64(f.Start)/1e9, float64(f.End)/1e9, f.Kind, f.Desc, rec, errSuffix(f.Err))
}

// NemesisConfig is a fault schedule: rounds in which every kind happens
// once, in a seeded random order, with quiet periods in between.
type NemesisConfig struct {
	Kinds    []string
	Rounds   int           // 0: until Duration
	Duration time.Duration // 0: until Rounds; both set: whichever ends first
	Quiet    time.Duration // between faults (±50%)
	Hold     time.Duration // how long a fault lasts (±33%)
	// Snapshots, when set, is the snapshot mode (snapshots.go): the leader
	// snapshots before a fault that cut off or stopped a node heals, and
	// the snapkill fault may be used. StartRun sets it from RunConfig.
	Snapshots *SnapshotMode
}

// Nemesis injects faults into a cluster.
type Nemesis struct {
	cfg  NemesisConfig
	c    *Cluster
	h    *History
	rng  *rand.Rand
	logf func(string, ...any)

	mu     sync.Mutex
	events []FaultEvent
	heal   func() error // of the fault in progress
}

// NewNemesis returns a nemesis driven by seed.
func NewNemesis(c *Cluster, h *History, cfg NemesisConfig, seed uint64, logf func(string, ...any)) *Nemesis {
	return &Nemesis{cfg: cfg, c: c, h: h, rng: rand.New(rand.NewPCG(seed, 0x6e656d)), logf: logf}
}

// Events returns the faults injected so far.
func (n *Nemesis) Events() []FaultEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]FaultEvent(nil), n.events...)
}

// jitter returns d ± frac*d.
func (n *Nemesis) jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*n.rng.Float64()))
}

// sleep waits d (the schedule's timer) or until ctx ends.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Run runs the schedule until its rounds or duration are done or ctx
// ends; a fault in progress is healed before it returns.
func (n *Nemesis) Run(ctx context.Context) {
	if n.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.Duration)
		defer cancel()
	}
	for round := 0; n.cfg.Rounds == 0 || round < n.cfg.Rounds; round++ {
		for _, i := range n.rng.Perm(len(n.cfg.Kinds)) {
			if !sleep(ctx, n.jitter(n.cfg.Quiet, 0.5)) {
				return
			}
			n.one(ctx, n.cfg.Kinds[i])
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// one injects a fault, holds it, heals it and waits for recovery.
func (n *Nemesis) one(ctx context.Context, kind string) {
	ev := FaultEvent{Kind: kind, Start: n.h.Now()}
	// In the snapshot mode: where the log ended when the fault began,
	// before it (a killed leader may hold entries no one else has) and
	// after it (injecting takes a while).
	compact := n.cfg.Snapshots != nil && compactDuring[kind]
	var base uint64
	if compact {
		base = n.lastIndex()
	}
	desc, heal, err := n.inject(ctx, kind)
	if compact {
		base = max(base, n.lastIndex())
	}
	ev.Desc = desc
	if err != nil {
		ev.Err = err.Error()
	}
	n.logf("nemesis: %s: %s%s", kind, desc, errSuffix(ev.Err))
	if heal != nil {
		n.mu.Lock()
		n.heal = heal
		n.mu.Unlock()
		sleep(ctx, n.jitter(n.cfg.Hold, 0.33))
		if compact && err == nil {
			note := n.compactLeader(base)
			ev.Desc += note
			n.logf("nemesis: %s: %s", kind, strings.TrimPrefix(note, "; "))
		}
		if err := n.Heal(); err != nil {
			ev.Err = strings.TrimPrefix(ev.Err+"; heal: "+err.Error(), "; ")
		}
	}
	ev.End = n.h.Now()
	healed := time.Now()
	if err := n.c.WaitHealthy(recoverTimeout); err != nil {
		ev.Recovered = -1
		n.logf("nemesis: cluster not whole %s after healing %s: %v", recoverTimeout, kind, err)
	} else {
		ev.Recovered = time.Since(healed)
	}
	n.record(ev)
}

// record adds a fault injected by hand (tests with their own scenario) to
// the events.
func (n *Nemesis) record(ev FaultEvent) {
	n.mu.Lock()
	n.events = append(n.events, ev)
	n.mu.Unlock()
}

// Heal heals the fault in progress, if any.
func (n *Nemesis) Heal() error {
	n.mu.Lock()
	heal := n.heal
	n.heal = nil
	n.mu.Unlock()
	if heal == nil {
		return nil
	}
	return heal()
}

// HealAll undoes everything any fault may have left: partitions, slow
// links, paused and stopped members.
func (n *Nemesis) HealAll() error {
	errs := []error{n.Heal(), n.c.Net.HealPartitions(), n.c.Net.Unslow()}
	for _, s := range n.c.Members() {
		switch {
		case s.Paused():
			errs = append(errs, s.Resume())
		case !s.Running():
			errs = append(errs, s.Start("--join", n.c.Seeds(s)))
		}
	}
	return errors.Join(errs...)
}

// pick chooses a running member: the leader (n.leader) with probability
// pLeader, else any other.
func (n *Nemesis) pick(pLeader float64) *Server {
	up := n.upMembers()
	if len(up) == 0 {
		return nil
	}
	ld, err := n.leader()
	if err == nil && n.rng.Float64() < pLeader {
		return ld
	}
	if err == nil && len(up) > 1 {
		up = slices.DeleteFunc(up, func(s *Server) bool { return s == ld })
	}
	return up[n.rng.IntN(len(up))]
}

// leader is the leader a fault aims at: the cluster's leader; in the
// sharded mode the leader of a data group drawn at random (where the
// workload's writes are ordered), or, one time in Shards+1, the metadata
// group's (the placement controller and the membership).
func (n *Nemesis) leader() (*Server, error) {
	if !n.c.Sharded() {
		return n.c.Leader()
	}
	shards := n.c.cfg.Shards
	g := n.rng.IntN(shards + 1)
	if g == shards {
		return n.c.Leader()
	}
	lds, err := n.c.groupLeaders()
	if err != nil {
		return nil, err
	}
	ld, ok := lds[g+1]
	if !ok {
		return nil, fmt.Errorf("data group %d has no leader that is a member", g+1)
	}
	return ld, nil
}

func (n *Nemesis) upMembers() []*Server {
	var up []*Server
	for _, s := range n.c.Members() {
		if s.Up() {
			up = append(up, s)
		}
	}
	return up
}

func (n *Nemesis) shuffled() []*Server {
	m := n.c.Members()
	n.rng.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
	return m
}

func hostsOf(ss []*Server) []*Host {
	out := make([]*Host, len(ss))
	for i, s := range ss {
		out[i] = s.Host
	}
	return out
}

func ids(ss []*Server) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	sort.Strings(out)
	return "{" + strings.Join(out, ",") + "}"
}

// inject starts a fault; it returns what it did and how to heal it (nil
// for an instantaneous fault).
func (n *Nemesis) inject(ctx context.Context, kind string) (desc string, heal func() error, err error) {
	c := n.c
	switch kind {
	case FaultSnapKill:
		return n.snapKill(ctx)

	case FaultKill:
		members := n.upMembers()
		k := 1 + n.rng.IntN(max(1, (len(c.Members())-1)/2))
		first := n.pick(0.5)
		if first == nil {
			return "no running member", nil, nil
		}
		victims := []*Server{first}
		for _, s := range members {
			if len(victims) < k && s != first && n.rng.IntN(2) == 0 {
				victims = append(victims, s)
			}
		}
		var errs []error
		for _, s := range victims {
			errs = append(errs, s.Kill())
		}
		return "kill -9 " + ids(victims), func() error {
			var errs []error
			for _, s := range victims {
				errs = append(errs, s.Start("--join", c.Seeds(s)))
			}
			return errors.Join(errs...)
		}, errors.Join(errs...)

	case FaultPause:
		s := n.pick(0.7)
		if s == nil {
			return "no running member", nil, nil
		}
		mark := n.leaderMark(s)
		return "SIGSTOP " + s.ID + mark, s.Resume, s.Pause()

	case FaultIsolate:
		ld, err := n.leader()
		if err != nil {
			return "no leader to isolate", nil, err
		}
		rest := slices.DeleteFunc(c.Members(), func(s *Server) bool { return s == ld })
		mark := ""
		if c.Sharded() {
			mark = n.leaderMark(ld)
		}
		return fmt.Sprintf("isolate leader %s%s from %s", ld.ID, mark, ids(rest)), c.Net.HealPartitions,
			c.Net.Partition([]*Host{ld.Host}, hostsOf(rest))

	case FaultSplit:
		m := n.shuffled()
		k := 1 + n.rng.IntN(max(1, (len(m)-1)/2))
		minority, majority := m[:k], m[k:]
		return fmt.Sprintf("split %s | %s", ids(minority), ids(majority)), c.Net.HealPartitions,
			c.Net.Partition(hostsOf(minority), hostsOf(majority))

	case FaultBridge:
		m := n.shuffled()
		half := (len(m) - 1) / 2
		left, mid, right := m[:half], m[half], m[half+1:]
		return fmt.Sprintf("bridge %s <- %s -> %s", ids(left), mid.ID, ids(right)), c.Net.HealPartitions,
			c.Net.Partition(hostsOf(left), hostsOf(right))

	case FaultOneWay:
		s := n.pick(0.7)
		if s == nil {
			return "no running member", nil, nil
		}
		mark := n.leaderMark(s)
		var pairs [][2]*Host
		out := n.rng.IntN(2) == 0
		for _, o := range c.Members() {
			switch {
			case o == s:
			case out:
				pairs = append(pairs, [2]*Host{s.Host, o.Host})
			default:
				pairs = append(pairs, [2]*Host{o.Host, s.Host})
			}
		}
		desc := fmt.Sprintf("drop every packet the others send to %s%s", s.ID, mark)
		if out {
			desc = fmt.Sprintf("drop every packet %s%s sends to the others", s.ID, mark)
		}
		return desc, c.Net.HealPartitions, c.Net.Cut(pairs)

	case FaultSlow:
		mode, err := c.Net.Slow()
		if err != nil {
			return "slow network unavailable (no netem, no tbf)", nil, err
		}
		desc := "tc netem delay 40ms ±20ms on every host"
		if mode == "tbf" {
			desc = "tc tbf 512kbit/300ms on every host (sch_netem unavailable: bandwidth limit instead of delay)"
		}
		return desc, c.Net.Unslow, nil

	case FaultTransfer:
		// RAFT.TRANSFER moves the metadata group's leadership (in the
		// sharded mode too: no command moves a data group's; their leaders
		// move with the other faults and back to their preferred nodes).
		ld, err := c.Leader()
		if err != nil {
			return "no leader to transfer from", nil, err
		}
		via := n.pick(0)
		args := []any{"RAFT.TRANSFER"}
		to := "the most up-to-date voter"
		if ps, err := c.Peers(ld); err == nil && n.rng.IntN(2) == 0 {
			var voters []string
			for _, p := range ps {
				if p.Suffrage == "voter" && p.ID != ld.ID {
					voters = append(voters, p.ID)
				}
			}
			if len(voters) > 0 {
				to = voters[n.rng.IntN(len(voters))]
				args = append(args, to)
			}
		}
		err = c.do(via, changeTimeout, args...).Err()
		return fmt.Sprintf("RAFT.TRANSFER from %s to %s (sent to %s)", ld.ID, to, via.ID), nil, err

	case FaultLeave:
		s := n.pick(0.3)
		if s == nil {
			return "no running member", nil, nil
		}
		via := n.other(s)
		if via == nil {
			return "no other member to send RAFT.LEAVE to", nil, nil
		}
		mark := n.leaderMark(s)
		errLeave := c.do(via, changeTimeout, "RAFT.LEAVE", s.ID).Err()
		var errTerm error
		if errLeave == nil {
			errTerm = s.AwaitRemovedExit() // a removed node shuts itself down
		} else {
			errTerm = s.Term()
		}
		return fmt.Sprintf("RAFT.LEAVE %s%s (sent to %s); it shuts itself down", s.ID, mark, via.ID), func() error {
			if err := s.Wipe(); err != nil {
				return err
			}
			return s.Start("--join", c.Seeds(s))
		}, errors.Join(errLeave, errTerm)

	case FaultStop:
		s := n.pick(0.3)
		if s == nil {
			return "no running member", nil, nil
		}
		mark := n.leaderMark(s)
		return "SIGTERM " + s.ID + mark, func() error { return s.Start("--join", c.Seeds(s)) }, s.Term()

	case FaultGrow:
		s, err := c.AddFresh()
		if err != nil {
			return "add a fresh node", nil, err
		}
		if s == nil {
			return "no spare host to add a node on", nil, nil
		}
		return "add fresh node " + s.ID + " (--join), later SIGTERM it", func() error {
			err := s.Term()
			c.Retire(s)
			return err
		}, nil
	}
	return "", nil, fmt.Errorf("jepsen: unknown fault %q", kind)
}

// other returns a running member other than s.
func (n *Nemesis) other(s *Server) *Server {
	for _, o := range n.shuffled() {
		if o != s && o.Up() {
			return o
		}
	}
	return nil
}

// leaderMark says what s leads: " (leader)"; in the sharded mode the
// data groups and the metadata group, e.g. " (leads groups [1 3], metadata)".
func (n *Nemesis) leaderMark(s *Server) string {
	meta := false
	if id, err := n.c.LeaderOf(s); err == nil && id == s.ID {
		meta = true
	}
	if !n.c.Sharded() {
		if meta {
			return " (leader)"
		}
		return ""
	}
	var parts []string
	if gs := n.c.ledGroups(s); len(gs) > 0 {
		parts = append(parts, fmt.Sprintf("leads groups %v", gs))
	}
	if meta {
		parts = append(parts, "metadata leader")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
