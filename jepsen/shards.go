package jepsen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sharded mode (RunConfig.Shards > 1): every node runs with --shards
// N, so the 16384 hash slots are split over N data raft groups, each with
// up to --replicas (3) replicas, next to the metadata group every node is
// a member of. Clients go through a router (router below): an op goes to
// the cached leader of its key's slot (or to a random member), and a
// `MOVED slot addr` reply re-sends it to addr, at most maxRedirects
// times; nothing else is retried, so a write is never sent twice after
// an outcome that may have applied it. The cluster is whole when the
// metadata group is (Healthy) and every data group has one leader every
// member names, replicas that are all members and running it, and every
// slot is served (groupsHealthy). Caught up and converged are per group:
// each replica of a group has applied its leader's commit index, and its
// local copy of each key of that group's slots equals the final read.

// slotCount is Redis Cluster's number of hash slots.
const slotCount = 16384

// defaultReplicas is riot-server's --replicas default.
const defaultReplicas = 3

// maxRedirects bounds the MOVED redirects one op follows.
const maxRedirects = 5

// keySlot is a key's hash slot as Redis Cluster computes it: CRC-16/XMODEM
// of the key, or of its hash tag (the text between the first '{' and the
// next '}', when not empty), modulo 16384.
func keySlot(key string) uint16 {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc & (slotCount - 1)
}

// slotRange is an inclusive range of slots.
type slotRange struct{ From, To uint16 }

// GroupInfo is one RAFT.GROUPS entry: a data group as one node sees it,
// with that node's replica's raft state (State "none" when it holds none).
type GroupInfo struct {
	ID         int
	Slots      []slotRange
	Leader     string // raft ID; "" unknown
	LeaderAddr string // the leader's client address
	Replicas   []string
	State      string
	Applied    uint64
	Commit     uint64
	Voters     int // in the replica's raft configuration (the group's, on its leader)
}

// serves reports whether g serves slot.
func (g GroupInfo) serves(slot uint16) bool {
	for _, r := range g.Slots {
		if slot >= r.From && slot <= r.To {
			return true
		}
	}
	return false
}

// Sharded reports whether the cluster runs the sharded mode.
func (c *Cluster) Sharded() bool { return c.cfg.Shards > 1 }

// replicas is the replicas placement gives each data group.
func (c *Cluster) replicas() int {
	if c.cfg.Replicas > 0 {
		return c.cfg.Replicas
	}
	return defaultReplicas
}

// Groups returns RAFT.GROUPS of s, by group ID.
func (c *Cluster) Groups(s *Server) ([]GroupInfo, error) {
	v, err := c.do(s, adminTimeout, "RAFT.GROUPS").Result()
	if err != nil {
		return nil, fmt.Errorf("RAFT.GROUPS on %s: %w", s.ID, err)
	}
	return parseGroups(v)
}

// parseGroups parses a RAFT.GROUPS reply (RESP2: each group a flat array
// of names and values).
func parseGroups(v any) ([]GroupInfo, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("RAFT.GROUPS: %#v is not an array", v)
	}
	out := make([]GroupInfo, 0, len(arr))
	for _, e := range arr {
		flat, ok := e.([]any)
		if !ok || len(flat)%2 != 0 {
			return nil, fmt.Errorf("RAFT.GROUPS: entry %#v", e)
		}
		var g GroupInfo
		for i := 0; i < len(flat); i += 2 {
			name, _ := flat[i].(string)
			if name == "replicas" {
				rs, _ := flat[i+1].([]any)
				for _, r := range rs {
					id, _ := r.(string)
					g.Replicas = append(g.Replicas, id)
				}
				continue
			}
			val, _ := flat[i+1].(string)
			var err error
			switch name {
			case "id":
				g.ID, err = strconv.Atoi(val)
			case "slots":
				g.Slots, err = parseSlotRanges(val)
			case "leader":
				g.Leader = val
			case "leader_client_addr":
				g.LeaderAddr = val
			case "state":
				g.State = val
			case "applied_index":
				g.Applied, err = strconv.ParseUint(val, 10, 64)
			case "commit_index":
				g.Commit, err = strconv.ParseUint(val, 10, 64)
			case "voters":
				g.Voters, err = strconv.Atoi(val)
			}
			if err != nil {
				return nil, fmt.Errorf("RAFT.GROUPS: %s = %q: %w", name, val, err)
			}
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// parseSlotRanges parses "0-5460,5462".
func parseSlotRanges(s string) ([]slotRange, error) {
	var out []slotRange
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		from, err1 := strconv.ParseUint(lo, 10, 16)
		to, err2 := strconv.ParseUint(hi, 10, 16)
		if err := errors.Join(err1, err2); err != nil || from > to || to >= slotCount {
			return nil, fmt.Errorf("slot range %q: %v", part, err)
		}
		out = append(out, slotRange{uint16(from), uint16(to)})
	}
	return out, nil
}

// checkCoverage reports a slot served by no group or by several.
func checkCoverage(groups []GroupInfo) error {
	var owner [slotCount]int
	for _, g := range groups {
		for _, r := range g.Slots {
			for sl := int(r.From); sl <= int(r.To); sl++ {
				if owner[sl] != 0 {
					return fmt.Errorf("slot %d is in groups %d and %d", sl, owner[sl], g.ID)
				}
				owner[sl] = g.ID
			}
		}
	}
	for sl, o := range owner {
		if o == 0 {
			return fmt.Errorf("slot %d is in no group", sl)
		}
	}
	return nil
}

// groupViews returns RAFT.GROUPS of every member.
func (c *Cluster) groupViews(members []*Server) (map[*Server][]GroupInfo, error) {
	views := make(map[*Server][]GroupInfo, len(members))
	for _, s := range members {
		gs, err := c.Groups(s)
		if err != nil {
			return nil, err
		}
		views[s] = gs
	}
	return views, nil
}

// groupsHealthy reports whether every data group is whole: every member
// sees the cluster's Shards groups covering every slot once and names the
// same leader for each; that leader is a member and leads its replica;
// the group has min(replicas, members) replicas, all members, each
// running the group (a raft state other than none), and as many voters.
func (c *Cluster) groupsHealthy(members []*Server) error {
	views, err := c.groupViews(members)
	if err != nil {
		return err
	}
	var ref []GroupInfo
	for _, s := range members {
		gs := views[s]
		if len(gs) != c.cfg.Shards {
			return fmt.Errorf("%s sees %d data groups, want %d", s.ID, len(gs), c.cfg.Shards)
		}
		if err := checkCoverage(gs); err != nil {
			return fmt.Errorf("%s: %w", s.ID, err)
		}
		if ref == nil {
			ref = gs
			continue
		}
		for i, g := range gs {
			if g.ID != ref[i].ID || g.Leader != ref[i].Leader {
				return fmt.Errorf("group %d: %s names leader %q, %s names %q", g.ID, s.ID, g.Leader, members[0].ID, ref[i].Leader)
			}
		}
	}
	want := min(c.replicas(), len(members))
	for i, g := range ref {
		ld := c.byIDIn(members, g.Leader)
		if ld == nil {
			return fmt.Errorf("group %d: leader %q is not a member", g.ID, g.Leader)
		}
		lg := views[ld][i]
		if lg.State != "leader" {
			return fmt.Errorf("group %d: its leader %s is %s there", g.ID, ld.ID, lg.State)
		}
		if len(lg.Replicas) != want {
			return fmt.Errorf("group %d: replicas %v, want %d", g.ID, lg.Replicas, want)
		}
		if lg.Voters != want {
			// A replica still catching up: one more fault and the group
			// could lose its quorum.
			return fmt.Errorf("group %d: %d voters, want %d", g.ID, lg.Voters, want)
		}
		for _, id := range lg.Replicas {
			r := c.byIDIn(members, id)
			if r == nil {
				return fmt.Errorf("group %d: replica %s is not a member", g.ID, id)
			}
			if st := views[r][i].State; st != "leader" && st != "follower" {
				return fmt.Errorf("group %d: replica %s is %s%s", g.ID, id, st, c.whyNotOpen(r))
			}
		}
	}
	return nil
}

// whyNotOpen returns what s says (INFO shards) about groups placed on it
// that it has not opened, and how long ago its reconcile loop last
// finished a round.
func (c *Cluster) whyNotOpen(s *Server) string {
	txt, err := c.do(s, adminTimeout, "INFO", "shards").Text()
	if err != nil {
		return fmt.Sprintf(" (INFO shards: %v)", err)
	}
	f := parseInfo(txt)
	return fmt.Sprintf(" (not open for %sms: %q; last round %sms ago)", f["shards_not_open_ms"], f["shards_not_open"], f["shards_round_age_ms"])
}

// groupsSettled reports whether every data group is led by its preferred
// leader (INFO shards on the metadata leader): a new cluster's groups
// hand their leadership over to them after the first elections, and
// writes in flight then are indeterminate. The cluster is started only
// once that is done.
func (c *Cluster) groupsSettled() error {
	ld, err := c.Leader()
	if err != nil {
		return err
	}
	txt, err := c.do(ld, adminTimeout, "INFO", "shards").Text()
	if err != nil {
		return fmt.Errorf("INFO shards on %s: %w", ld.ID, err)
	}
	groups := 0
	for name, v := range parseInfo(txt) {
		if !strings.HasPrefix(name, "group") {
			continue
		}
		groups++
		f := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSpace(v), ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				f[k] = v
			}
		}
		if f["preferred"] != "" && f["leader"] != f["preferred"] {
			return fmt.Errorf("%s: led by %q, preferred %q", name, f["leader"], f["preferred"])
		}
	}
	if groups != c.cfg.Shards {
		return fmt.Errorf("INFO shards on %s shows %d groups, want %d", ld.ID, groups, c.cfg.Shards)
	}
	return nil
}

// groupsCaughtUp waits up to d until every replica of every data group
// has applied its leader's commit index as of now.
func (c *Cluster) groupsCaughtUp(d time.Duration) error {
	members := c.Members()
	views, err := c.groupViews(members)
	if err != nil {
		return err
	}
	type target struct {
		group    int
		leader   string
		commit   uint64
		replicas []string
	}
	var targets []target
	for _, g := range views[members[0]] {
		ld := c.byIDIn(members, g.Leader)
		if ld == nil {
			return fmt.Errorf("group %d: leader %q is not a member", g.ID, g.Leader)
		}
		for _, lg := range views[ld] {
			if lg.ID == g.ID {
				targets = append(targets, target{g.ID, ld.ID, lg.Commit, lg.Replicas})
			}
		}
	}
	return waitFor(d, func() error {
		for _, t := range targets {
			for _, id := range t.replicas {
				r := c.byIDIn(members, id)
				if r == nil {
					return fmt.Errorf("group %d: replica %s is not a member", t.group, id)
				}
				gs, err := c.Groups(r)
				if err != nil {
					return err
				}
				for _, g := range gs {
					if g.ID == t.group && g.Applied < t.commit {
						return fmt.Errorf("group %d: %s applied %d < leader %s commit index %d", t.group, id, g.Applied, t.leader, t.commit)
					}
				}
			}
		}
		return nil
	})
}

// groupLeaders returns each data group's leader, as the first running
// member that answers sees them (members that are down are skipped).
func (c *Cluster) groupLeaders() (map[int]*Server, error) {
	var errs []error
	for _, s := range c.Members() {
		if !s.Up() {
			continue
		}
		gs, err := c.Groups(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out := map[int]*Server{}
		for _, g := range gs {
			if ld := c.byIDIn(c.Members(), g.Leader); ld != nil {
				out[g.ID] = ld
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("no member told the data groups' leaders: %w", errors.Join(errs...))
}

// ledGroups returns the data groups s leads, by its own RAFT.GROUPS.
func (c *Cluster) ledGroups(s *Server) []int {
	gs, err := c.Groups(s)
	if err != nil {
		return nil
	}
	var out []int
	for _, g := range gs {
		if g.State == "leader" {
			out = append(out, g.ID)
		}
	}
	return out
}

// byAddr returns the server (any ever started) with that client address.
func (c *Cluster) byAddr(addr string) *Server {
	for _, s := range c.All() {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// replicaKeys returns, for each member, the keys of the data groups it
// holds a replica of (the groups' leaders' view of their replicas): the
// keys its local state must hold as the final reads say.
func (c *Cluster) replicaKeys(keys []string) (map[string][]string, error) {
	members := c.Members()
	views, err := c.groupViews(members)
	if err != nil {
		return nil, err
	}
	holders := map[int][]string{} // group -> replicas
	var groups []GroupInfo
	for _, g := range views[members[0]] {
		ld := c.byIDIn(members, g.Leader)
		if ld == nil {
			return nil, fmt.Errorf("group %d: leader %q is not a member", g.ID, g.Leader)
		}
		for _, lg := range views[ld] {
			if lg.ID == g.ID {
				holders[g.ID] = lg.Replicas
				groups = append(groups, lg)
			}
		}
	}
	out := map[string][]string{}
	for _, k := range keys {
		ck, _ := splitCollKey(k) // a hash field or sorted set member: its collection's slot
		slot := keySlot(ck)
		i := slices.IndexFunc(groups, func(g GroupInfo) bool { return g.serves(slot) })
		if i < 0 {
			return nil, fmt.Errorf("key %s (slot %d) is in no group", k, slot)
		}
		for _, id := range holders[groups[i].ID] {
			out[id] = append(out[id], k)
		}
	}
	return out, nil
}

// router sends ops to the leaders of their keys' slots in the sharded
// mode: the slot's cached owner if known, else the member given; a MOVED
// reply teaches the owner and the op is re-sent there. A slot whose owner
// failed an op any other way is forgotten, so the next op asks a random
// member again (whose MOVED tells the new owner).
type router struct {
	c         *Cluster
	mu        sync.Mutex
	owner     map[uint16]*Server
	redirects atomic.Int64 // MOVED replies followed
}

func newRouter(c *Cluster) *router { return &router{c: c, owner: map[uint16]*Server{}} }

// target returns where an op on key goes: the slot's cached owner, else s.
func (r *router) target(key string, s *Server) *Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.owner[keySlot(key)]; ok {
		return o
	}
	return s
}

// forget drops the cached owner of key's slot.
func (r *router) forget(key string) {
	r.mu.Lock()
	delete(r.owner, keySlot(key))
	r.mu.Unlock()
}

// moved parses msg as a MOVED reply and, when it names a known server,
// caches it as the owner of the slot and returns it.
func (r *router) moved(msg string) (*Server, bool) {
	f := strings.Fields(msg)
	if len(f) != 3 || f[0] != "MOVED" {
		return nil, false
	}
	slot, err := strconv.ParseUint(f[1], 10, 16)
	s := r.c.byAddr(f[2])
	if err != nil || slot >= slotCount || s == nil {
		return nil, false
	}
	r.mu.Lock()
	r.owner[uint16(slot)] = s
	r.mu.Unlock()
	r.redirects.Add(1)
	return s, true
}

// redirected runs one op through send (which records its outcome in op,
// with its own call and return times) to key's owner or s, following
// MOVED replies; the op keeps the first attempt's call time. r nil (the
// unsharded mode): send once to s.
func (r *router) redirected(key string, s *Server, op *Op, send func(*Server)) {
	if r == nil {
		send(s)
		return
	}
	s = r.target(key, s)
	send(s)
	call := op.Call
	for range maxRedirects {
		if op.Status != StatusFail {
			break
		}
		next, ok := r.moved(op.Err)
		if !ok {
			break
		}
		op.Status, op.Err = StatusOK, ""
		send(next)
	}
	op.Call = call
	if op.Status != StatusOK && !strings.HasPrefix(op.Err, "MOVED ") {
		r.forget(key)
	}
}

// pipeline sends ops (each on its own key) in pipelines, one per target
// (each key's owner, else s), and re-sends those answered MOVED, grouped
// by their new owner, up to maxRedirects rounds. Every op keeps the first
// pipeline's call time. r nil: one pipeline to s.
func (r *router) pipeline(s *Server, ops []*Op, send func(*Server, []*Op)) {
	if r == nil {
		send(s, ops)
		return
	}
	call := int64(-1)
	pending := map[*Server][]*Op{}
	for _, op := range ops {
		t := r.target(op.Key, s)
		pending[t] = append(pending[t], op)
	}
	for round := 0; len(pending) > 0; round++ {
		targets := make([]*Server, 0, len(pending))
		for t := range pending {
			targets = append(targets, t)
		}
		sort.Slice(targets, func(i, j int) bool { return targets[i].ID < targets[j].ID })
		next := map[*Server][]*Op{}
		for _, t := range targets {
			batch := pending[t]
			send(t, batch)
			if call < 0 {
				call = batch[0].Call
			}
			for _, op := range batch {
				if op.Status == StatusFail && round < maxRedirects {
					if to, ok := r.moved(op.Err); ok {
						op.Status, op.Err = StatusOK, ""
						next[to] = append(next[to], op)
						continue
					}
				}
				if op.Status != StatusOK && !strings.HasPrefix(op.Err, "MOVED ") {
					r.forget(op.Key)
				}
			}
		}
		pending = next
	}
	for _, op := range ops {
		op.Call = call
	}
}

// movedErr returns the first MOVED reply among err and the replies of
// cmds, else err: a transaction refused for its slot answers EXECABORT,
// the MOVED is the queued command's reply.
func movedErr(err error, cmds []redis.Cmder) error {
	if err == nil || strings.HasPrefix(err.Error(), "MOVED ") {
		return err
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && strings.HasPrefix(e.Error(), "MOVED ") {
			return e
		}
	}
	return err
}

// getEachInto reads keys with one GET each, in a pipeline, into out
// (missing keys left out).
func getEachInto(ctx context.Context, cl *redis.Client, keys []string, out map[string]*string) error {
	cmds, err := cl.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("GETs: %w", err)
	}
	for i, k := range keys {
		v, err := cmds[i].(*redis.StringCmd).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return fmt.Errorf("GET %s: %w", k, err)
		default:
			out[k] = &v
		}
	}
	return nil
}
