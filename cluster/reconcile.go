package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/riotkv/riot/gossip"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
)

// ReconcileConfig configures the Reconciler.
type ReconcileConfig struct {
	// Voters is the target number of voters (odd: 3 or 5). Members beyond it
	// stay non-voters that replicate and serve reads. Default 3.
	Voters int
	// MinQuorum: a failed voter is never removed if fewer voters than this
	// would remain. Default 3.
	MinQuorum int
	// DeadNodeTimeout is how long a member gossip reports failed stays in
	// the raft configuration before it is removed. Default 5m.
	DeadNodeTimeout time.Duration
	// Stabilization is how long a non-voter must be alive and caught up
	// before it is promoted. Default 10s.
	Stabilization time.Duration
	// Interval is how often the leader reconciles without an event.
	// Default 1s.
	Interval time.Duration
	// BootstrapExpect: with no raft state, wait until this many nodes
	// without state are visible, then bootstrap together. 0: off.
	BootstrapExpect int
	// MayPromote, when set, holds promotions while it answers false
	// (Shards.MayPromote: until this node has created the shard map it
	// was told to create).
	MayPromote func() bool
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultReconcileConfig returns the defaults.
func DefaultReconcileConfig() ReconcileConfig {
	return ReconcileConfig{
		Voters: 3, MinQuorum: 3, DeadNodeTimeout: 5 * time.Minute,
		Stabilization: 10 * time.Second, Interval: time.Second,
	}
}

// Validate reports the first problem with c.
func (c *ReconcileConfig) Validate() error {
	switch {
	case c.Voters < 1 || c.Voters%2 == 0:
		return fmt.Errorf("cluster: voters %d: want an odd number >= 1", c.Voters)
	case c.MinQuorum < 1:
		return fmt.Errorf("cluster: min quorum %d: want >= 1", c.MinQuorum)
	case c.DeadNodeTimeout <= 0 || c.Stabilization < 0 || c.Interval <= 0:
		return errors.New("cluster: reconcile timings must be positive")
	case c.BootstrapExpect < 0:
		return errors.New("cluster: bootstrap-expect must not be negative")
	}
	return nil
}

// Reconciler turns gossip membership into raft membership on the leader:
// new live members join as non-voters and are promoted once caught up and
// stable, up to the voter target; members that leave are removed at once;
// members that fail are removed after DeadNodeTimeout, never below
// MinQuorum voters; a member back at a new address keeps its identity.
// Gossip only proposes; raft decides, and every node learns the result from
// the log.
type Reconciler struct {
	cfg    ReconcileConfig
	r      *Router
	g      *gossip.Gossip
	logger *slog.Logger

	mu        sync.Mutex
	caughtUp  map[string]time.Time // non-voter ID -> since when it is caught up
	stateSent bool                 // gossip metadata says HasState

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewReconciler returns a Reconciler for router's node and g.
func NewReconciler(cfg ReconcileConfig, r *Router, g *gossip.Gossip) (*Reconciler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Reconciler{cfg: cfg, r: r, g: g, logger: cfg.Logger, caughtUp: make(map[string]time.Time), stop: make(chan struct{})}, nil
}

// Start runs the reconcile loop until Stop.
func (rc *Reconciler) Start() {
	rc.wg.Add(1)
	go rc.loop()
}

// Stop ends the loop.
func (rc *Reconciler) Stop() {
	rc.once.Do(func() { close(rc.stop) })
	rc.wg.Wait()
}

func (rc *Reconciler) loop() {
	defer rc.wg.Done()
	t := time.NewTicker(rc.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-rc.g.Events():
		case <-t.C:
		case <-rc.r.node.LeaderChanged():
		case <-rc.stop:
			return
		}
		rc.step()
	}
}

// step runs one round: bootstrap if asked and possible, keep the gossip
// metadata current, and reconcile raft membership when leading.
func (rc *Reconciler) step() {
	node := rc.r.node
	if !node.HasState() {
		rc.maybeBootstrap()
		return
	}
	if !rc.stateSent {
		if err := rc.g.UpdateMeta(func(m *gossip.Meta) { m.HasState = true }); err == nil {
			rc.stateSent = true
		}
	}
	if !node.IsLeader() {
		return
	}
	if err := rc.reconcile(); err != nil && !errors.Is(err, raftkv.ErrNotLeader) {
		rc.logger.Warn("reconcile membership", "err", err)
	}
}

// maybeBootstrap bootstraps together with the other nodes once exactly
// BootstrapExpect alive nodes, none with raft state, are visible.
func (rc *Reconciler) maybeBootstrap() {
	n := rc.cfg.BootstrapExpect
	if n == 0 {
		return
	}
	var voters []raftkv.Server
	for _, m := range rc.g.Members() {
		if !live(m) {
			continue
		}
		if m.HasState {
			return // a cluster exists: wait for its leader to add us
		}
		voters = append(voters, raftkv.Server{ID: m.ID, RaftAddr: m.RaftAddr, Voter: true})
	}
	switch {
	case len(voters) < n:
		return
	case len(voters) > n:
		rc.logger.Warn("more nodes than --bootstrap-expect are visible; not bootstrapping", "expect", n, "visible", len(voters))
		return
	}
	sort.Slice(voters, func(i, j int) bool { return voters[i].ID < voters[j].ID })
	if err := rc.r.node.BootstrapWith(voters); err != nil {
		rc.logger.Warn("bootstrap", "err", err)
	}
}

// reconcile runs one round of membership changes on the leader.
func (rc *Reconciler) reconcile() error {
	node := rc.r.node
	servers, err := node.Servers()
	if err != nil {
		return err
	}
	members := make(map[string]gossip.Member)
	for _, m := range rc.g.Members() {
		members[m.ID] = m
	}
	inConf := make(map[string]raftkv.Server, len(servers))
	for _, s := range servers {
		inConf[s.ID] = s
	}
	self := node.ID()

	// 1. Live members not in the configuration join as non-voters; a member
	// back at a new raft address keeps its ID and suffrage.
	for _, m := range members {
		if !live(m) || m.RaftAddr == "" || m.ID == self {
			continue
		}
		s, ok := inConf[m.ID]
		switch {
		case !ok:
			held, err := rc.heldOut(m)
			if err != nil {
				return err
			}
			if held {
				// Removed by RAFT.LEAVE (removal.go): the same process,
				// still gossiping on its way out, is not added back, and
				// is told (again, if this node did not lead then).
				rc.r.notifyRemoved(m.ID, m.ClientAddr)
				continue
			}
			rc.logger.Info("adding member as non-voter", "id", m.ID, "raft_addr", m.RaftAddr)
			if err := node.AddServer(m.ID, m.RaftAddr, false); err != nil {
				rc.logger.Warn("add member", "id", m.ID, "err", err)
			}
			return nil // one change per round; the next round sees it
		case s.RaftAddr != m.RaftAddr:
			rc.logger.Info("member moved to a new raft address", "id", m.ID, "from", s.RaftAddr, "to", m.RaftAddr)
			if err := node.UpdateServerAddr(m.ID, m.RaftAddr, s.Voter); err != nil {
				rc.logger.Warn("update member address", "id", m.ID, "err", err)
			}
			return nil
		}
	}

	// 2. Members that left are removed now; failed ones after the timeout,
	// if enough voters remain.
	voters, healthy := 0, 0
	for _, s := range servers {
		if !s.Voter {
			continue
		}
		voters++
		if m, ok := members[s.ID]; s.ID == self || (ok && live(m)) {
			healthy++
		}
	}
	now := time.Now()
	for _, s := range servers {
		if s.ID == self {
			continue
		}
		m, ok := members[s.ID]
		if !ok {
			continue // never seen by gossip (added by RAFT.JOIN): leave it to the operator
		}
		switch {
		case m.State == gossip.Left:
			rc.logger.Info("removing member that left", "id", s.ID)
			return rc.remove(s.ID)
		case m.State == gossip.Failed && now.Sub(m.Since) >= rc.cfg.DeadNodeTimeout:
			if s.Voter && voters-1 < rc.cfg.MinQuorum {
				continue
			}
			rc.logger.Info("removing failed member", "id", s.ID, "failed_for", now.Sub(m.Since).Round(time.Second))
			return rc.remove(s.ID)
		}
	}

	// 3. Promote caught-up, stable non-voters while healthy voters are
	// below the target, keeping the number of healthy voters odd. A
	// suspected member is not promoted (yet).
	if rc.cfg.MayPromote != nil && !rc.cfg.MayPromote() {
		return nil
	}
	var cands []string
	for _, s := range servers {
		if s.Voter || s.ID == self {
			continue
		}
		if m, ok := members[s.ID]; ok && m.State == gossip.Alive && rc.stable(s.ID, m) {
			cands = append(cands, s.ID)
		}
	}
	sort.Strings(cands)
	n := min(len(cands), rc.cfg.Voters-healthy)
	if n > 0 && (healthy+n)%2 == 0 {
		n--
	}
	for _, id := range cands[:max(n, 0)] {
		rc.logger.Info("promoting member to voter", "id", id)
		if err := node.AddServer(id, inConf[id].RaftAddr, true); err != nil {
			return fmt.Errorf("promote %s: %w", id, err)
		}
	}
	return nil
}

// heldOut reports whether member m, not in the configuration, was removed
// by RAFT.LEAVE moments ago (Router.heldOut).
func (rc *Reconciler) heldOut(m gossip.Member) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rc.r.cfg.LeaderWait)
	defer cancel()
	held, err := rc.r.heldOut(ctx, m.ID, m.HasState, m.Started)
	if err != nil {
		return false, fmt.Errorf("check whether %s was removed: %w", m.ID, err)
	}
	return held, nil
}

// live reports whether gossip sees m up: alive, or suspected but not yet
// declared failed (suspicion alone must not change membership).
func live(m gossip.Member) bool { return m.State == gossip.Alive || m.State == gossip.Suspect }

func (rc *Reconciler) remove(id string) error {
	if err := rc.r.node.RemoveServer(id); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rc.r.cfg.LeaderWait)
	defer cancel()
	if _, err := rc.r.node.Apply(ctx, &kv.Command{Op: kv.OpDelMember, Args: [][]byte{[]byte(id)}}); err != nil {
		rc.logger.Warn("remove address book entry", "id", id, "err", err)
	}
	rc.mu.Lock()
	delete(rc.caughtUp, id)
	rc.mu.Unlock()
	return nil
}

// stable reports whether non-voter id has been alive and caught up for the
// stabilization period.
func (rc *Reconciler) stable(id string, m gossip.Member) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.isCaughtUp(m) {
		delete(rc.caughtUp, id)
		return false
	}
	since, ok := rc.caughtUp[id]
	if !ok {
		rc.caughtUp[id] = time.Now()
		return rc.cfg.Stabilization == 0
	}
	return time.Since(since) >= rc.cfg.Stabilization && time.Since(m.Since) >= rc.cfg.Stabilization
}

// isCaughtUp reports whether the member answered the health poll
// recently, as a live follower, with an applied index within CaughtUpLag
// of the leader's commit index. A node whose raft shut down (it was
// removed) keeps a frozen applied index that can look caught up: only a
// live follower counts.
func (rc *Reconciler) isCaughtUp(m gossip.Member) bool {
	h, ok := rc.r.health(m.ID)
	if !ok || !rc.r.recent(time.Since(h.seen)) || h.state != "Follower" {
		return false
	}
	return rc.r.caughtUp(h.applied)
}
