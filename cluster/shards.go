package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/gossip"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
)

// ShardsConfig configures a node's sharded mode (Shards).
type ShardsConfig struct {
	// Shards is how many data groups this node creates when it leads the
	// metadata group of a cluster that has no shard map yet
	// (riot-server --shards on the bootstrapping node). 1: it creates
	// none, and the cluster stays unsharded. Nodes that join adopt the
	// map their cluster has, whatever they were given.
	Shards int
	// Restored: this node's data groups were seeded from backups
	// (riot-server --restore with --shards), as one-server groups of the
	// slots kv.EvenSlots(Shards) gives them. The map it creates then
	// names it alone in every group, founder of all; nodes that joined
	// meanwhile are added as replicas and catch up from it. Otherwise a
	// joiner named founder would bootstrap an empty group of its own.
	Restored bool
	// Replicas is how many replicas placement gives each data group
	// (fewer while the cluster has fewer nodes). Default 3.
	Replicas int
	// Stabilization is how long a new replica of a group stays a
	// non-voter before its group's leader promotes it, and how long a
	// leader waits between leadership hand-overs. Default 10s.
	Stabilization time.Duration
	// Interval is how often a node reconciles its groups with the shard
	// map without an event. Default 250ms.
	Interval time.Duration
	// OpenGroup opens this node's replica of data group id: its own
	// storage engine and raft directory under the data dir, its raft
	// transport on the node's shared raft address. It returns the node
	// and a function that closes what it opened (after the node).
	OpenGroup func(id uint32) (*raftkv.Node, func() error, error)
	// Router configures each data group's Router.
	Router Config
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultShardsConfig returns the defaults.
func DefaultShardsConfig() ShardsConfig {
	return ShardsConfig{Shards: 1, Replicas: 3, Stabilization: 10 * time.Second, Interval: 250 * time.Millisecond,
		Router: DefaultConfig()}
}

// Validate reports the first problem with c.
func (c *ShardsConfig) Validate() error {
	switch {
	case c.Shards < 1 || c.Shards > kv.MaxShards:
		return fmt.Errorf("cluster: shards %d: want 1..%d", c.Shards, kv.MaxShards)
	case c.Replicas < 1 || c.Replicas > 7:
		return fmt.Errorf("cluster: replicas %d: want 1..7", c.Replicas)
	case c.Stabilization < 0 || c.Interval <= 0:
		return errors.New("cluster: shard timings must be positive")
	case c.OpenGroup == nil:
		return errors.New("cluster: OpenGroup is required")
	}
	return nil
}

// Shards runs a node's sharded mode: the data groups of the shard map
// that this node holds a replica of, the placement controller (on the
// metadata group's leader), and each led group's membership.
//
// The metadata group is the cluster's first raft group (the one every
// node joins by gossip, meta here); its replicated shard map
// (kv.ShardMap) says which groups exist, which slots each serves and
// which nodes should hold it. Its leader places replicas and preferred
// leaders and writes the map; every node opens the groups it is named
// in; each group's leader changes its raft configuration to match the
// map and hands leadership to the preferred member. Leaders announce
// the groups they lead in gossip, so any node can redirect a client to
// any group's leader.
type Shards struct {
	cfg    ShardsConfig
	meta   *Router
	g      *gossip.Gossip
	logger *slog.Logger

	mu     sync.RWMutex
	m      kv.ShardMap
	ok     bool                  // the shard map exists
	slotOf [kv.Slots]uint32      // slot -> group, when ok
	groups map[uint32]*dataGroup // this node's replicas

	announced map[uint32]uint64 // what gossip says this node leads
	// warnedKeys: the cluster holds keys in its metadata group, so this
	// node does not shard it (holdsKeys); guarded by mu.
	warnedKeys bool
	// sharded caches Sharded's answer, read on every command.
	sharded atomic.Bool
	// notOpen says why groups the map places here are not open ("" when
	// none is missing), and since when; guarded by mu. round is when the
	// loop last finished a round (unix ns): an operator sees a stuck loop.
	notOpen      string
	notOpenSince time.Time
	notOpenWarn  time.Time
	round        atomic.Int64

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// dataGroup is this node's replica of one data group.
type dataGroup struct {
	id     uint32
	node   *raftkv.Node
	router *Router
	close  func() error

	// On the group's leader: when each non-voter was added, and when
	// leadership was last handed over.
	added        map[string]time.Time
	lastTransfer time.Time
}

// NewShards returns the sharded mode of the node meta routes for. Start
// runs it.
func NewShards(cfg ShardsConfig, meta *Router) (*Shards, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Shards{cfg: cfg, meta: meta, logger: cfg.Logger,
		groups: make(map[uint32]*dataGroup), announced: map[uint32]uint64{}, stop: make(chan struct{})}
	s.sharded.Store(cfg.Shards > 1)
	return s, nil
}

// Start runs the reconcile loop until Close. g may be nil (tests): then
// every node counts as alive and leaders are known only for the groups
// this node holds.
func (s *Shards) Start(g *gossip.Gossip) {
	s.g = g
	s.wg.Add(1)
	go s.loop()
}

// Close stops the loop and closes every data group this node holds:
// leadership is handed to another voter first, so that clients find a
// leader at once.
func (s *Shards) Close() {
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.mu.Lock()
	groups := slices.Collect(maps.Values(s.groups))
	s.groups = map[uint32]*dataGroup{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, dg := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if dg.node.IsLeader() {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				_ = dg.node.TransferLeadership(ctx, "")
				cancel()
			}
			s.closeGroup(dg)
		}()
	}
	wg.Wait()
}

// closeGroup stops this node's replica of dg (removed from s.groups by
// the caller): its router, its raft and its storage. The data stays on
// disk; a replica opened again later catches up from the group's leader.
func (s *Shards) closeGroup(dg *dataGroup) {
	dg.router.Close()
	if err := dg.node.Close(); err != nil {
		s.logger.Warn("close data group", "group", dg.id, "err", err)
	}
	if err := dg.close(); err != nil {
		s.logger.Warn("close data group storage", "group", dg.id, "err", err)
	}
}

// toOpen returns the groups m places on this node that it does not hold
// yet. Members only: a founder the map dropped (Initial still names it)
// must not open, let alone bootstrap, the group again.
func (s *Shards) toOpen(m kv.ShardMap) []kv.ShardGroup {
	var out []kv.ShardGroup
	for _, g := range m.Groups {
		if slices.Contains(g.Members, s.meta.node.ID()) && s.group(g.ID) == nil {
			out = append(out, g)
		}
	}
	return out
}

// retire closes this node's replicas of groups the map no longer places
// on it (it left the metadata group, and placement gave the group another
// member). Such a replica, no longer in its group's configuration (or
// about to be removed from it), would campaign forever and answer for a
// group it does not serve. A leader is left to hand its group over first
// (reconcileGroup), and closed in a later round.
func (s *Shards) retire(m kv.ShardMap) {
	self := s.meta.node.ID()
	s.mu.Lock()
	var stale []*dataGroup
	for id, dg := range s.groups {
		if g, ok := m.Group(id); ok && slices.Contains(g.Members, self) || dg.node.IsLeader() {
			continue
		}
		stale = append(stale, dg)
		delete(s.groups, id)
	}
	s.mu.Unlock()
	for _, dg := range stale {
		s.logger.Info("closing a replica of a data group the shard map no longer places here", "group", dg.id)
		s.closeGroup(dg)
	}
}

func (s *Shards) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.step()
		s.round.Store(time.Now().UnixNano())
		select {
		case <-t.C:
		case <-s.meta.node.LeaderChanged():
		case <-s.stop:
			return
		}
	}
}

// step runs one round: read the map, place (on the metadata leader),
// reconcile the groups this node leads, announce them, open the groups
// placed on it and close those no longer placed on it.
func (s *Shards) step() {
	m, ok, err := s.readMap()
	if err != nil {
		s.logger.Warn("read the shard map", "err", err)
		return
	}
	if s.meta.node.IsLeader() {
		if next, changed := s.place(m, ok); changed {
			if err := s.propose(next); err != nil {
				s.logger.Warn("update the shard map", "epoch", next.Epoch, "err", err)
			} else {
				s.logger.Info("shard map updated", "epoch", next.Epoch)
				m, ok = next, true
			}
		}
	}
	if !ok {
		return
	}
	s.setMap(m)
	for _, g := range m.Groups {
		dg := s.group(g.ID)
		if dg == nil || !dg.node.IsLeader() {
			continue
		}
		if err := s.reconcileGroup(dg, g); err != nil && !errors.Is(err, raftkv.ErrNotLeader) {
			s.logger.Warn("reconcile data group", "group", g.ID, "err", err)
		}
	}
	s.announce()
	m = s.openPlaced(m)
	s.retire(m)
}

// openPlaced opens the groups m places on this node that it does not hold
// yet, and returns the map it went by. A node back from a removal reads
// an old map until its replica of the metadata group catches up: new
// replicas are opened only after a linearizable read of the map. Why a
// placed group is not open is kept for INFO (NotOpen) and logged.
func (s *Shards) openPlaced(m kv.ShardMap) kv.ShardMap {
	if len(s.toOpen(m)) == 0 {
		s.setNotOpen("")
		return m
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.meta.cfg.LeaderWait)
	err := s.meta.Read(ctx, Linearizable, func(v *kv.View) error {
		fresh, ok, err := v.Shards()
		switch {
		case err != nil:
			return err
		case !ok:
			return errors.New("no shard map")
		}
		m = fresh
		return nil
	})
	cancel()
	if err != nil {
		s.setNotOpen(fmt.Sprintf("linearizable read of the shard map: %v", err))
		return m
	}
	s.setMap(m)
	var problems []string
	for _, g := range s.toOpen(m) {
		if err := s.open(g); err != nil {
			problems = append(problems, fmt.Sprintf("open group %d: %v", g.ID, err))
		}
	}
	s.setNotOpen(strings.Join(problems, "; "))
	return m
}

// notOpenWarnEvery is how often a persisting reason is logged again.
const notOpenWarnEvery = 30 * time.Second

// setNotOpen records why placed groups are not open ("": all are), and
// logs a new reason at once and a persisting one every notOpenWarnEvery.
func (s *Shards) setNotOpen(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch {
	case why == "":
		if s.notOpen != "" {
			s.logger.Info("every data group placed here is open", "after", now.Sub(s.notOpenSince).Round(time.Millisecond))
		}
		s.notOpen = ""
		return
	case why != s.notOpen:
		if s.notOpen == "" {
			s.notOpenSince = now
		}
	case now.Sub(s.notOpenWarn) < notOpenWarnEvery:
		return
	}
	s.notOpen, s.notOpenWarn = why, now
	s.logger.Warn("data groups placed here are not open", "why", why, "for", now.Sub(s.notOpenSince).Round(time.Millisecond))
}

// NotOpen says why data groups the shard map places on this node are
// not open, and for how long; "" when none is missing.
func (s *Shards) NotOpen() (string, time.Duration) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.notOpen == "" {
		return "", 0
	}
	return s.notOpen, time.Since(s.notOpenSince)
}

// RoundAge is how long ago the reconcile loop finished its last round
// (0 before the first).
func (s *Shards) RoundAge() time.Duration {
	r := s.round.Load()
	if r == 0 {
		return 0
	}
	return time.Since(time.Unix(0, r))
}

// readMap reads the shard map from this node's metadata replica.
func (s *Shards) readMap() (kv.ShardMap, bool, error) {
	v, release := s.meta.node.FSM().View()
	defer release()
	return v.Shards()
}

// propose writes m through the metadata group (this node leads it).
func (s *Shards) propose(m kv.ShardMap) error {
	b, err := kv.EncodeShardMap(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.meta.cfg.LeaderWait)
	defer cancel()
	_, err = s.meta.node.Apply(ctx, &kv.Command{Op: kv.OpSetShards, Args: [][]byte{b}})
	return err
}

func (s *Shards) setMap(m kv.ShardMap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok && s.m.Epoch == m.Epoch {
		return
	}
	s.m, s.ok = m, true
	s.sharded.Store(true)
	for _, g := range m.Groups {
		for _, r := range g.Slots {
			for sl := int(r.From); sl <= int(r.To); sl++ {
				s.slotOf[sl] = g.ID
			}
		}
	}
}

func (s *Shards) group(id uint32) *dataGroup {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.groups[id]
}

// open opens this node's replica of g unless it is open; the group's
// first initial member bootstraps it (with the initial voters) when it
// has no state.
func (s *Shards) open(g kv.ShardGroup) error {
	if s.group(g.ID) != nil {
		return nil
	}
	node, closeFn, err := s.cfg.OpenGroup(g.ID)
	if err != nil {
		return err
	}
	self := s.meta.node.ID()
	if !node.HasState() && g.Initial[0] == self && mayBootstrap(g) {
		voters, err := s.servers(g.Initial)
		if err == nil {
			err = node.BootstrapWith(voters)
		}
		switch {
		case errors.Is(err, raftkv.ErrHasState):
			// Another member's request reached it first: the group runs.
		case err != nil:
			_ = node.Close()
			_ = closeFn()
			return fmt.Errorf("bootstrap group %d: %w", g.ID, err)
		default:
			s.logger.Info("bootstrapped data group", "group", g.ID, "voters", g.Initial)
		}
	}
	rc := s.cfg.Router
	rc.Logger = s.logger.With("group", g.ID)
	router, err := New(rc, node)
	if err != nil {
		_ = node.Close()
		_ = closeFn()
		return err
	}
	router.AttachTo(s.meta, g.ID)
	s.mu.Lock()
	s.groups[g.ID] = &dataGroup{id: g.ID, node: node, router: router, close: closeFn, added: map[string]time.Time{}}
	s.mu.Unlock()
	return nil
}

// mayBootstrap reports whether a group this node founds may be
// bootstrapped: never once placement has seen it led (Founded), and
// before that only while no other node can hold it without its founder:
// a group founded with other voters may be (they out-vote a founder that
// lost its state and starts over: its one entry is theirs too); a founder
// alone only while the map still names it alone (it has added no one).
func mayBootstrap(g kv.ShardGroup) bool {
	return !g.Founded && (len(g.Initial) > 1 || len(g.Members) == 1)
}

// servers returns the raft servers for ids, from the address book.
func (s *Shards) servers(ids []string) ([]raftkv.Server, error) {
	v, release := s.meta.node.FSM().View()
	defer release()
	out := make([]raftkv.Server, 0, len(ids))
	for _, id := range ids {
		m, ok, err := v.Member(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no address for node %q", id)
		}
		out = append(out, raftkv.Server{ID: id, RaftAddr: m.RaftAddr, Voter: true})
	}
	return out, nil
}

// alive reports whether gossip sees node id up (this node always is):
// alive, or suspected but not declared failed, as the membership
// reconciler counts it (live), so that a slow probe under load moves
// neither replicas nor preferred leaders.
func (s *Shards) alive(id string) bool {
	if s.g == nil || id == s.meta.node.ID() {
		return true
	}
	m, ok := s.g.Member(id)
	return ok && live(m)
}

// reconcileGroup makes led group dg's raft configuration follow g's
// members, one change per round: add a missing member as a non-voter,
// promote a non-voter that has been one for Stabilization and has caught
// up (its applied index within CaughtUpLag of the commit index), remove a
// server the map no longer names; then hand leadership to the preferred
// leader once it is a caught-up voter (during a transfer raft refuses
// writes, so a transfer to a node that cannot take over costs the group
// its writes until it times out).
func (s *Shards) reconcileGroup(dg *dataGroup, g kv.ShardGroup) error {
	servers, err := dg.node.Servers()
	if err != nil {
		return err
	}
	self := dg.node.ID()
	inConf := make(map[string]raftkv.Server, len(servers))
	voters := 0
	for _, sv := range servers {
		inConf[sv.ID] = sv
		if sv.Voter {
			voters++
		}
	}
	for _, id := range g.Members {
		if _, ok := inConf[id]; ok || !s.alive(id) {
			continue
		}
		addr, err := s.servers([]string{id})
		if err != nil {
			return err
		}
		s.logger.Info("adding replica to data group", "group", g.ID, "id", id)
		dg.added[id] = time.Now()
		return dg.node.AddServer(id, addr[0].RaftAddr, false)
	}
	for _, sv := range servers {
		if sv.Voter || !slices.Contains(g.Members, sv.ID) || !s.alive(sv.ID) {
			continue
		}
		since, ok := dg.added[sv.ID]
		if !ok {
			dg.added[sv.ID] = time.Now() // a leader since: count from now
			continue
		}
		if time.Since(since) < s.cfg.Stabilization || voters >= s.cfg.Replicas || !dg.router.peerCaughtUp(sv.ID) {
			continue
		}
		s.logger.Info("promoting data group replica to voter", "group", g.ID, "id", sv.ID)
		delete(dg.added, sv.ID)
		return dg.node.AddServer(sv.ID, sv.RaftAddr, true)
	}
	for _, sv := range servers {
		if sv.ID == self || slices.Contains(g.Members, sv.ID) {
			continue
		}
		s.logger.Info("removing replica from data group", "group", g.ID, "id", sv.ID)
		delete(dg.added, sv.ID)
		return dg.node.RemoveServer(sv.ID)
	}
	want := g.Leader
	if !slices.Contains(g.Members, self) && want == "" {
		want = "-" // leave: any other voter
	}
	if want == "" || want == self || time.Since(dg.lastTransfer) < s.cfg.Stabilization {
		return nil
	}
	target := ""
	if want != "-" {
		if sv, ok := inConf[want]; !ok || !sv.Voter || !s.alive(want) || !dg.router.peerCaughtUp(want) {
			return nil // not (yet) a live, caught-up voter: a node shutting down is neither
		}
		target = want
	}
	dg.lastTransfer = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Router.LeaderWait)
	defer cancel()
	s.logger.Info("handing data group leadership to its preferred leader", "group", g.ID, "to", target)
	return dg.node.TransferLeadership(ctx, target)
}

// announce gossips the groups this node leads, when that changed.
func (s *Shards) announce() {
	if s.g == nil {
		return
	}
	leads := map[uint32]uint64{}
	s.mu.RLock()
	for id, dg := range s.groups {
		if dg.node.IsLeader() {
			term, _ := dg.node.Following()
			leads[id] = term
		}
	}
	s.mu.RUnlock()
	if maps.Equal(leads, s.announced) {
		return
	}
	if err := s.g.UpdateMeta(func(m *gossip.Meta) { m.Leads = leads }); err != nil {
		s.logger.Warn("announce led groups", "err", err)
		return
	}
	s.announced = leads
}

// MayPromote reports whether the metadata group may promote a non-voter
// (ReconcileConfig.MayPromote): not while this node is to create the
// shard map and has not yet. Leadership then stays with a node that will
// create it: a joiner elected first would leave the cluster unsharded (it
// adopts the map it finds, and there is none), or, after a sharded
// restore, found empty groups of its own.
func (s *Shards) MayPromote() bool { return !s.sharded.Load() || s.meta.MetaSharded() }

// Sharded reports whether the cluster's shard map exists, or this node
// was told to create one (Shards > 1) and has not had to give up: keys
// are then never written to the metadata group, also in the moments
// before the map exists (they get CLUSTERDOWN instead).
func (s *Shards) Sharded() bool { return s.sharded.Load() || s.meta.MetaSharded() }

// Route returns the group that serves slot: this node's Router for it
// (nil when this node holds no replica) and whether this node leads it.
func (s *Shards) Route(slot uint16) (*Router, bool) {
	s.mu.RLock()
	dg := s.groups[s.slotOf[slot&(kv.Slots-1)]]
	s.mu.RUnlock()
	if dg == nil {
		return nil, false
	}
	return dg.router, dg.node.IsLeader()
}

// Led returns the Routers of the groups this node leads, by group ID.
func (s *Shards) Led() []*Router {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []uint32
	for id, dg := range s.groups {
		if dg.node.IsLeader() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]*Router, len(ids))
	for i, id := range ids {
		out[i] = s.groups[id].router
	}
	return out
}

// Replica returns the Router of this node's replica of data group id;
// ok is false when the node holds none.
func (s *Shards) Replica(id uint32) (r *Router, ok bool) {
	if dg := s.group(id); dg != nil {
		return dg.router, true
	}
	return nil, false
}

// Groups returns this node's replicas' Routers by group ID (status pages,
// metrics).
func (s *Shards) Groups() map[uint32]*Router {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[uint32]*Router, len(s.groups))
	for id, dg := range s.groups {
		out[id] = dg.router
	}
	return out
}

// Map returns the shard map; ok is false when the cluster is not sharded.
func (s *Shards) Map() (kv.ShardMap, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m.Clone(), s.ok
}

// Topology returns the cluster as this node knows it: the nodes from the
// metadata group's address book, the groups from the shard map, each
// group's leader from this node's replica of it when it holds one, else
// from the leaders' gossip announcements (the highest term wins).
func (s *Shards) Topology() Topology {
	self := s.meta.node.ID()
	t := Topology{Self: self}
	m, ok := s.Map()
	if !ok {
		return t
	}
	t.Epoch = m.Epoch
	v, release := s.meta.node.FSM().View()
	book, err := v.Members()
	release()
	if err != nil {
		s.logger.Warn("read address book", "err", err)
	}
	for _, b := range book {
		t.Nodes = append(t.Nodes, TopologyNode{ID: b.ID, ClientAddr: b.ClientAddr, Connected: s.alive(b.ID)})
	}
	leaders := s.groupLeaders(m)
	for _, g := range m.Groups {
		tg := TopologyGroup{ID: int(g.ID), Replicas: slices.Sorted(slices.Values(g.Members)), Leader: leaders[g.ID]}
		for _, r := range g.Slots {
			tg.Slots = append(tg.Slots, SlotRange{From: r.From, To: r.To})
		}
		t.Groups = append(t.Groups, tg)
	}
	return t
}

// groupLeaders returns the leader of each of m's groups that has a known
// one: from this node's replica of it when it holds one, else from the
// leaders' gossip announcements (the highest term wins).
func (s *Shards) groupLeaders(m kv.ShardMap) map[uint32]string {
	self := s.meta.node.ID()
	claims := map[uint32]struct {
		id   string
		term uint64
	}{}
	if s.g != nil {
		for _, gm := range s.g.Members() {
			if gm.State != gossip.Alive && gm.State != gossip.Suspect {
				continue
			}
			for gid, term := range gm.Leads {
				if c, ok := claims[gid]; !ok || term > c.term || (term == c.term && gm.ID < c.id) {
					claims[gid] = struct {
						id   string
						term uint64
					}{gm.ID, term}
				}
			}
		}
	}
	out := make(map[uint32]string, len(m.Groups))
	for _, g := range m.Groups {
		if dg := s.group(g.ID); dg != nil {
			if dg.node.IsLeader() {
				out[g.ID] = self
			} else if _, id := dg.node.Following(); id != "" {
				out[g.ID] = id
			}
		}
		if c, ok := claims[g.ID]; out[g.ID] == "" && ok {
			out[g.ID] = c.id
		}
	}
	return out
}

// GroupStatus is one data group as this node sees it.
type GroupStatus struct {
	ID    uint32
	Slots []SlotRange
	// Leader is the leader's raft ID ("" unknown) and LeaderClientAddr
	// its RESP address ("" unknown).
	Leader           string
	LeaderClientAddr string
	// Replicas are the members the shard map places it on, and
	// Preferred the one placement would like to lead it.
	Replicas  []string
	Preferred string
	// Local is this node's replica's raft state; nil when it holds none.
	Local *raftkv.Status
}

// NoReplica is the error text for a request about data group group (as
// the client spelled it) on a node that holds no replica of it: "no
// replica of group N here", with the nodes the shard map places it on
// when groups (Status) names it.
func NoReplica(groups []GroupStatus, group string) string {
	msg := "no replica of group " + group + " here"
	for _, g := range groups {
		if strconv.FormatUint(uint64(g.ID), 10) == group && len(g.Replicas) > 0 {
			return msg + " (replicas: " + strings.Join(g.Replicas, ", ") + ")"
		}
	}
	return msg
}

// Status returns every data group (by ID) as this node sees it: the
// topology, and the state of this node's replicas. Empty when the
// cluster is not sharded.
func (s *Shards) Status() []GroupStatus {
	_, out := s.status()
	return out
}

// status returns the shard map's epoch (0 when unsharded) and Status.
func (s *Shards) status() (uint64, []GroupStatus) {
	t := s.Topology()
	m, _ := s.Map()
	out := make([]GroupStatus, 0, len(t.Groups))
	for _, g := range t.Groups {
		gs := GroupStatus{ID: uint32(g.ID), Slots: g.Slots, Leader: g.Leader, Replicas: g.Replicas}
		if mg, ok := m.Group(uint32(g.ID)); ok {
			gs.Preferred = mg.Leader
		}
		if n, ok := t.Node(g.Leader); ok {
			gs.LeaderClientAddr = n.ClientAddr
		}
		if dg := s.group(uint32(g.ID)); dg != nil {
			st := dg.node.Status()
			gs.Local = &st
		}
		out = append(out, gs)
	}
	return t.Epoch, out
}
