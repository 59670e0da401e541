// Package gossip finds the other riot nodes with hashicorp/memberlist: each
// node gossips its metadata (raft ID, raft, client and HTTP addresses), and
// the package reports who is alive, suspect, failed or gone. Gossip only
// proposes membership; raft decides it (package cluster).
package gossip

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Meta is what a node tells the others about itself. Encoded it stays well
// under memberlist's 512-byte limit.
type Meta struct {
	ID         string `json:"id"`
	RaftAddr   string `json:"raft"`
	ClientAddr string `json:"client"`
	HTTPAddr   string `json:"http,omitempty"`
	Version    string `json:"ver,omitempty"`
	// HasState: the node has raft state (it is or was part of a cluster).
	// --bootstrap-expect only bootstraps among nodes without it.
	HasState bool `json:"state,omitempty"`
	// Started is when the node's gossip started (Unix nanoseconds): of two
	// nodes with the same ID, the one that started later gives way.
	Started int64 `json:"t,omitempty"`
	// Leaving is set just before a graceful leave, so that the others can
	// tell a node that left from one that failed (memberlist reports both
	// the same way).
	Leaving bool `json:"leaving,omitempty"`
	// Leads maps the data groups this node leads (sharded mode) to the
	// raft term it leads them in, so that every node can redirect a key's
	// client to its group's leader (MOVED), also for groups it holds no
	// replica of. Of two claims, the higher term wins.
	Leads map[uint32]uint64 `json:"leads,omitempty"`
}

// State is a member's gossip state.
type State string

// Gossip states.
const (
	Alive   State = "alive"
	Suspect State = "suspect"
	Failed  State = "failed" // memberlist: dead
	Left    State = "left"   // left gracefully
)

// Member is one node as gossip sees it.
type Member struct {
	Meta
	GossipAddr string
	State      State
	// Since is when this node last saw the member change state.
	Since time.Time
}

// EventKind says what happened to a member.
type EventKind int

// Event kinds.
const (
	EventJoin EventKind = iota
	EventUpdate
	EventLeave // left or failed: see Member.State
)

// Event is a membership change.
type Event struct {
	Kind   EventKind
	Member Member
}

// Config configures gossip. Start from DefaultConfig.
type Config struct {
	// Meta describes this node; Meta.ID is its memberlist name. Required.
	Meta Meta
	// BindAddr is the gossip address (TCP and UDP). Port 0 picks one.
	// Default 127.0.0.1:7946.
	BindAddr string
	// Advertise is the host other nodes reach this one at, when BindAddr is
	// 0.0.0.0.
	Advertise string
	// Seeds are gossip addresses of existing nodes.
	Seeds []string
	// Key, when set, encrypts gossip (16, 24 or 32 bytes; every node must
	// share it).
	Key []byte
	// Fast uses short probe and gossip intervals, for tests on loopback.
	// Default false: memberlist's LAN settings.
	Fast bool
	// RejoinInterval is how often the node joins its seeds again, so that
	// the halves of a healed partition merge. Default 30s.
	RejoinInterval time.Duration
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BindAddr: "127.0.0.1:7946", RejoinInterval: 30 * time.Second}
}

// ParseKey decodes a base64 gossip key and checks its length.
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("gossip: key is not base64: %w", err)
	}
	if l := len(k); l != 16 && l != 24 && l != 32 {
		return nil, fmt.Errorf("gossip: key is %d bytes, want 16, 24 or 32", l)
	}
	return k, nil
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	switch {
	case c.Meta.ID == "":
		return errors.New("gossip: config: Meta.ID is required")
	case c.BindAddr == "":
		return errors.New("gossip: config: BindAddr is required")
	case c.RejoinInterval <= 0:
		return errors.New("gossip: config: RejoinInterval must be positive")
	}
	if len(c.Key) != 0 && len(c.Key) != 16 && len(c.Key) != 24 && len(c.Key) != 32 {
		return fmt.Errorf("gossip: config: key of %d bytes, want 16, 24 or 32", len(c.Key))
	}
	if b, _ := json.Marshal(c.Meta); len(b) > memberlist.MetaMaxSize {
		return fmt.Errorf("gossip: config: metadata of %d bytes exceeds %d", len(b), memberlist.MetaMaxSize)
	}
	return nil
}

// leavingMsg prefixes the message a node sends each member before leaving.
const leavingMsg = "riot-leaving:"

// ErrNameConflict: another node gossips with this node's ID at another
// address. The second node with an ID must not take part.
var ErrNameConflict = errors.New("gossip: another node uses this node ID")

// Gossip is this node's membership agent.
type Gossip struct {
	cfg    Config
	logger *slog.Logger
	ml     *memberlist.Memberlist

	mu      sync.Mutex
	meta    Meta
	leaving map[string]bool // IDs that announced they are leaving
	// suspected: IDs this node's probes got no ack from, since the last
	// ack or event (see suspect).
	suspected map[string]bool
	members   map[string]*Member // by ID, every node ever seen (left/failed kept)

	events   chan Event
	conflict chan error
	stop     chan struct{}
	wg       sync.WaitGroup

	// life serializes Leave and Shutdown: memberlist panics on a Leave
	// after Shutdown.
	life sync.Mutex
	down bool
}

// New starts gossip on cfg.BindAddr and starts joining the seeds in the
// background (retrying with backoff until one answers).
func New(cfg Config) (*Gossip, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Meta.Started == 0 {
		cfg.Meta.Started = time.Now().UnixNano()
	}
	g := &Gossip{
		cfg: cfg, logger: cfg.Logger, meta: cfg.Meta,
		members:   make(map[string]*Member),
		leaving:   make(map[string]bool),
		suspected: make(map[string]bool),
		events:    make(chan Event, 256),
		conflict:  make(chan error, 1),
		stop:      make(chan struct{}),
	}
	mc, err := g.memberlistConfig()
	if err != nil {
		return nil, err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("gossip: start on %s: %w", cfg.BindAddr, err)
	}
	g.ml = ml
	g.wg.Add(1)
	go g.joinLoop()
	return g, nil
}

func (g *Gossip) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	if g.cfg.Fast {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 200 * time.Millisecond
		mc.ProbeTimeout = 100 * time.Millisecond
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
		mc.SuspicionMult = 2
		mc.DeadNodeReclaimTime = time.Second
	}
	host, port, err := net.SplitHostPort(g.cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("gossip: bind address %q: %w", g.cfg.BindAddr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("gossip: bind port %q: %w", port, err)
	}
	// Port 0: memberlist binds TCP on a free port, then UDP on the same
	// port, retrying when that one is taken, and advertises it.
	mc.Name = g.cfg.Meta.ID
	mc.BindAddr, mc.BindPort = host, p
	mc.AdvertisePort = p
	if g.cfg.Advertise != "" {
		mc.AdvertiseAddr = g.cfg.Advertise
	}
	if len(g.cfg.Key) > 0 {
		mc.SecretKey = g.cfg.Key
	}
	mc.Delegate = delegate{g}
	mc.Events = eventDelegate{g}
	mc.Conflict = conflictDelegate{g}
	mc.Ping = pingDelegate{g}
	mc.Logger = newStdLogger(g.logger, g.suspect)
	return mc, nil
}

// Addr returns the gossip address other nodes join.
func (g *Gossip) Addr() string {
	n := g.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Events returns membership changes. Events are dropped when nobody reads
// them fast enough; Members is always current.
func (g *Gossip) Events() <-chan Event { return g.events }

// Conflict receives ErrNameConflict when another node uses this node's ID.
func (g *Gossip) Conflict() <-chan error { return g.conflict }

// Members returns every node this one has seen, by ID, including nodes
// that left or failed (until memberlist forgets them). An alive node that
// this node's failure detector suspects shows as Suspect.
func (g *Gossip) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, g.withSuspicion(*m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns the member with id.
func (g *Gossip) Member(id string) (Member, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, ok := g.members[id]
	if !ok {
		return Member{}, false
	}
	return g.withSuspicion(*m), true
}

// Suspicion. memberlist reports joins, updates and failures as events, but
// not suspicion, and the State of the nodes it returns is never updated
// (v0.6.0). So suspicion is taken from where memberlist says it: its log
// line when this node's probe of a member gets no ack ("Suspect X has
// failed, no acks received"). It ends when this node's next probe of the
// member succeeds (a ping delegate), or with any event for the member
// (failed, left, back). Suspicions raised by other nodes and gossiped here
// are not visible.

// suspect marks the member named id as suspected by this node.
func (g *Gossip) suspect(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m, ok := g.members[id]; ok && m.State == Alive && !g.suspected[id] {
		g.suspected[id] = true
		g.logger.Info("gossip: member suspected (no ack to this node's probe)", "id", id)
	}
}

// unsuspect ends this node's suspicion of id.
func (g *Gossip) unsuspect(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.suspected, id)
}

// withSuspicion shows an alive member this node suspects as Suspect. g.mu
// is held.
func (g *Gossip) withSuspicion(m Member) Member {
	if m.State == Alive && g.suspected[m.ID] {
		m.State = Suspect
	}
	return m
}

type pingDelegate struct{ g *Gossip }

func (pingDelegate) AckPayload() []byte { return nil }

// NotifyPingComplete: a probe of other was acknowledged.
func (p pingDelegate) NotifyPingComplete(other *memberlist.Node, _ time.Duration, _ []byte) {
	p.g.unsuspect(other.Name)
}

// UpdateMeta changes this node's metadata and gossips it. It refuses to
// change the ID or to exceed memberlist's 512 bytes, and then changes
// nothing.
func (g *Gossip) UpdateMeta(fn func(m *Meta)) error {
	g.mu.Lock()
	m := g.meta
	fn(&m)
	if m.ID != g.meta.ID {
		g.mu.Unlock()
		return fmt.Errorf("gossip: update metadata: ID %q cannot change to %q", g.meta.ID, m.ID)
	}
	if b, _ := json.Marshal(m); len(b) > memberlist.MetaMaxSize {
		g.mu.Unlock()
		return fmt.Errorf("gossip: update metadata: %d bytes exceeds %d", len(b), memberlist.MetaMaxSize)
	}
	g.meta = m
	g.mu.Unlock()
	if err := g.ml.UpdateNode(5 * time.Second); err != nil {
		return fmt.Errorf("gossip: update metadata: %w", err)
	}
	return nil
}

// Leave tells the others this node is leaving (they see State Left), then
// stops gossip. After Shutdown or a first Leave it does nothing.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.life.Lock()
	if g.down {
		g.life.Unlock()
		return nil
	}
	if err := g.UpdateMeta(func(m *Meta) { m.Leaving = true }); err != nil {
		g.logger.Warn("gossip: announce leaving", "err", err)
	}
	// Tell every live member directly, over TCP, before the leave itself:
	// memberlist reports a leave and a failure the same way, and the
	// metadata update can arrive after the leave.
	msg := fmt.Appendf(nil, "%s%d:%s", leavingMsg, g.cfg.Meta.Started, g.cfg.Meta.ID)
	for _, n := range g.ml.Members() {
		if n.Name != g.cfg.Meta.ID {
			if err := g.ml.SendReliable(n, msg); err != nil {
				g.logger.Debug("gossip: tell member we are leaving", "member", n.Name, "err", err)
			}
		}
	}
	err := g.ml.Leave(timeout)
	if err == nil {
		// Stay up a little, as serf does (LeavePropagateDelay): memberlist
		// counts the leave message sent when it takes it off its queue,
		// before writing it, and the others keep probing this node until
		// the news reaches them. Shutting down at once can lose the leave
		// (they see Failed) or get this node suspected.
		delay := time.Second
		if g.cfg.Fast {
			delay = 300 * time.Millisecond
		}
		t := time.NewTimer(min(delay, timeout))
		<-t.C
	}
	g.life.Unlock()
	g.Shutdown()
	if err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// Shutdown stops gossip without telling the others (they will see this
// node fail).
func (g *Gossip) Shutdown() {
	g.life.Lock()
	defer g.life.Unlock()
	if g.down {
		return
	}
	g.down = true
	close(g.stop)
	g.wg.Wait()
	_ = g.ml.Shutdown()
}

// joinLoop joins the seeds, retrying with backoff until one answers, then
// joins again every RejoinInterval (a no-op while the halves are merged).
func (g *Gossip) joinLoop() {
	defer g.wg.Done()
	if len(g.cfg.Seeds) == 0 {
		return
	}
	backoff := 100 * time.Millisecond
	joined := false
	for {
		n, err := g.ml.Join(g.cfg.Seeds)
		wait := g.cfg.RejoinInterval
		switch {
		case err != nil && n == 0:
			g.logger.Warn("gossip: cannot join any seed yet; retrying (is a seed up, and is --gossip-key the same on every node?)",
				"seeds", g.cfg.Seeds, "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, 10*time.Second)
		case !joined:
			joined = true
			g.logger.Info("gossip: joined", "seeds", g.cfg.Seeds, "contacted", n, "members", g.ml.NumMembers())
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-g.stop:
			t.Stop()
			return
		}
	}
}

// record updates the member table and emits an event.
func (g *Gossip) record(kind EventKind, n *memberlist.Node) {
	var meta Meta
	if len(n.Meta) > 0 {
		if err := json.Unmarshal(n.Meta, &meta); err != nil {
			g.logger.Warn("gossip: bad metadata", "node", n.Name, "err", err)
			return
		}
	}
	if meta.ID == "" {
		meta.ID = n.Name
	}
	m := Member{
		Meta:       meta,
		GossipAddr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))),
		State:      Alive,
		Since:      time.Now(),
	}
	g.mu.Lock()
	switch kind {
	case EventLeave:
		// memberlist's Node.State is not kept current in notifications (it
		// reads Alive); the node's "leaving" message or metadata says
		// whether it meant to go.
		m.State = Failed
		if meta.Leaving || g.leaving[m.ID] {
			m.State = Left
		}
	case EventJoin:
		delete(g.leaving, m.ID) // back again
	}
	if old, ok := g.members[m.ID]; ok && old.State == m.State {
		m.Since = old.Since
	}
	delete(g.suspected, m.ID) // failed, left or back: no longer a suspicion
	g.members[m.ID] = &m
	g.mu.Unlock()
	select {
	case g.events <- Event{Kind: kind, Member: m}:
	default: // never block memberlist; Members() stays current
	}
}

type delegate struct{ g *Gossip }

func (d delegate) NodeMeta(limit int) []byte {
	d.g.mu.Lock()
	b, _ := json.Marshal(d.g.meta) // plain struct of strings: cannot fail
	d.g.mu.Unlock()
	if len(b) > limit {
		d.g.logger.Error("gossip: metadata too large", "bytes", len(b), "limit", limit)
		return nil
	}
	return b
}

// NotifyMsg records "leaving" messages ("riot-leaving:<started>:<id>") from
// members about to leave. A message from another incarnation than the
// member known under that ID (a refused duplicate) is ignored.
func (d delegate) NotifyMsg(b []byte) {
	rest, ok := bytes.CutPrefix(b, []byte(leavingMsg))
	if !ok {
		return
	}
	started, id, ok := bytes.Cut(rest, []byte(":"))
	if !ok || len(id) == 0 {
		return
	}
	d.g.mu.Lock()
	m, known := d.g.members[string(id)]
	if known && strconv.FormatInt(m.Started, 10) != string(started) {
		d.g.mu.Unlock()
		d.g.logger.Warn("gossip: ignoring a leave from another node using this ID", "id", string(id))
		return
	}
	d.g.leaving[string(id)] = true
	var ev *Event
	if known && m.State == Failed {
		// The leave itself got here first and was taken for a failure.
		m.State, m.Since = Left, time.Now()
		ev = &Event{Kind: EventLeave, Member: *m}
	}
	d.g.mu.Unlock()
	if ev != nil {
		select {
		case d.g.events <- *ev:
		default:
		}
	}
}
func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

type eventDelegate struct{ g *Gossip }

func (e eventDelegate) NotifyJoin(n *memberlist.Node)   { e.g.record(EventJoin, n) }
func (e eventDelegate) NotifyUpdate(n *memberlist.Node) { e.g.record(EventUpdate, n) }
func (e eventDelegate) NotifyLeave(n *memberlist.Node)  { e.g.record(EventLeave, n) }

type conflictDelegate struct{ g *Gossip }

// NotifyConflict runs when a node with a known name shows up at another
// address. When the name is this node's own, the node that started later
// (the newcomer) reports ErrNameConflict and must stop; the other keeps
// running.
func (c conflictDelegate) NotifyConflict(existing, other *memberlist.Node) {
	c.g.logger.Error("gossip: node ID conflict", "id", existing.Name,
		"existing", net.JoinHostPort(existing.Addr.String(), strconv.Itoa(int(existing.Port))),
		"other", net.JoinHostPort(other.Addr.String(), strconv.Itoa(int(other.Port))))
	if existing.Name != c.g.cfg.Meta.ID {
		return
	}
	var theirs Meta
	if err := json.Unmarshal(other.Meta, &theirs); err == nil && theirs.Started > c.g.cfg.Meta.Started {
		return // they are the newcomer
	}
	select {
	case c.g.conflict <- fmt.Errorf("%w: %s is already used by the node at %s", ErrNameConflict, existing.Name,
		net.JoinHostPort(other.Addr.String(), strconv.Itoa(int(other.Port)))):
	default:
	}
}
