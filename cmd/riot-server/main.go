// Command riot-server runs one riot node: a Redis-protocol server over a
// Raft-replicated, durable key/value store.
//
// With no flags it bootstraps a single-node cluster on 127.0.0.1:6379.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/gossip"
	"github.com/riotkv/riot/httpapi"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/resp"
	"github.com/riotkv/riot/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "riot-server: %v (see riot-server --help)\n", err)
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "riot-server %s\n", version)
		return 0
	}
	logger := newLogger(o, stderr)
	if err := serve(ctx, o, logger); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "riot-server: %v\n", err)
			return 2
		}
		logger.Error("riot-server failed", "err", err)
		return 1
	}
	return 0
}

// serve wires storage, raft, gossip, the router and the RESP server
// together, runs until ctx ends, then shuts down in reverse order.
func serve(ctx context.Context, o options, logger *slog.Logger) error {
	// Check the client address before touching raft state, so a typo does
	// not leave a bootstrapped cluster behind.
	if err := checkListen(o.addr); err != nil {
		return usageError{fmt.Errorf("--addr %s: %w", o.addr, err)}
	}
	adv, err := advertiseHost(o.advertise, o.raftAddr, systemResolver)
	if err != nil {
		return usageError{err}
	}
	o.advertise = adv // an IP address, or "" to advertise the bound ones
	id, err := nodeID(o.nodeID, o.dataDir)
	if err != nil {
		return err
	}
	eng, err := storage.Open(o.engine, filepath.Join(o.dataDir, "engine"), engineOptions(o, logger))
	if err != nil {
		return err
	}
	defer closeLogged(logger, "storage", eng.Close)

	// Every raft group of this node shares the one raft address; the
	// metadata group (0) speaks the plain raft TCP protocol on it.
	raftAdv := ""
	if o.advertise != "" {
		raftAdv = advertiseAddr(o.advertise, o.raftAddr)
	}
	mux, err := raftkv.NewMux(o.raftAddr, raftAdv, logger)
	if err != nil {
		return err
	}
	defer closeLogged(logger, "raft listener", mux.Close) // after every group's node

	rc := raftkv.DefaultConfig()
	rc.ID = id
	rc.Dir = filepath.Join(o.dataDir, "raft")
	rc.LogStore = o.logStore
	rc.Mux, rc.Group = mux, 0
	// With no raft state: no --join and no --bootstrap-expect starts a
	// cluster of this node alone; otherwise the node waits to be added (or
	// to bootstrap with the expected others).
	rc.Bootstrap = o.join == "" && o.bootExpect == 0
	rc.SnapshotThreshold = o.snapThresh
	rc.TrailingLogs = o.trailing
	rc.SweepInterval, rc.SweepBudget = o.sweepEvery, o.sweepBudget
	rc.SweepBatch = min(rc.SweepBatch, o.sweepBudget)
	rc.Logger = logger
	node, err := openNode(o, rc, eng, logger)
	if err != nil {
		return err
	}
	defer closeLogged(logger, "raft", node.Close)

	cc := cluster.DefaultConfig()
	cc.LeaderWait = o.leaderWait
	cc.DefaultReadLevel, _ = cluster.ParseReadLevel(o.readLevel) // validated
	cc.Password = o.requirePass
	cc.UnsafeLocalReads = o.unsafeReads
	if o.unsafeReads {
		logger.Warn("--test-unsafe-local-reads: reads are NOT linearizable")
	}
	cc.Logger = logger
	router, err := cluster.New(cc, node)
	if err != nil {
		return err
	}
	defer router.Close()

	sc := resp.DefaultConfig()
	sc.Addr = o.addr
	sc.MaxBulkLen = o.maxBulkLen
	sc.Databases = o.databases
	sc.RequirePass = o.requirePass
	sc.Version = version
	sc.Logger = logger
	sc.Info = []raftkv.Field{
		{Name: "riot_node_id", Value: id},
		{Name: "riot_data_dir", Value: o.dataDir},
		{Name: "riot_engine", Value: o.engine},
	}
	// SHUTDOWN stops the node as SIGTERM does: it closes requested, which
	// the select below waits on with the signal context.
	requested := make(chan struct{})
	var requestOnce sync.Once
	sc.Shutdown = func() { requestOnce.Do(func() { close(requested) }) }
	shards, err := cluster.NewShards(o.shardsConfig(cc, rc, logger), router)
	if err != nil {
		return err
	}
	defer shards.Close()
	sc.Shards = resp.ClusterShards(shards)
	srv, err := resp.NewServer(sc, router)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	client := clientAddr(o, srv.Addr().String())

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		srv.Collector(), dataDirCollector(o.dataDir), shards.Collector())
	reg.MustRegister(router.Collectors()...)
	reg.MustRegister(node.Collectors()...)
	if err := httpapi.RegisterClusterMetrics(reg, router); err != nil {
		return err
	}
	hc := httpapi.DefaultConfig()
	hc.Addr = o.httpAddr
	hc.Password = o.requirePass
	hc.MaxValueBytes = int64(o.maxBulkLen)
	hc.Version = version
	hc.NodeID = id
	hc.Registry = reg
	hc.Logger = logger
	hc.Pprof = o.pprof
	hc.Groups = shards.Status
	hc.Sharded = shards.Sharded
	hc.Replica = shards.Replica
	admin, err := httpapi.New(hc, router)
	if err != nil {
		return err
	}
	if err := admin.Listen(); err != nil {
		return err
	}
	go func() {
		if err := admin.Serve(); err != nil {
			logger.Error("admin API stopped", "err", err)
		}
	}()
	defer admin.Close(context.Background())

	gc := gossip.DefaultConfig()
	gc.Meta = gossip.Meta{ID: id, RaftAddr: node.RaftAddr(), ClientAddr: client,
		HTTPAddr: clientAddr(o, admin.Addr().String()), Version: version, HasState: node.HasState()}
	gc.BindAddr = o.gossipAddr
	gc.Advertise = o.advertise
	gc.Seeds = o.seeds()
	if o.gossipKey != "" {
		gc.Key, _ = gossip.ParseKey(o.gossipKey) // validated
	}
	gc.Fast = o.gossipFast
	if o.gossipFast {
		gc.RejoinInterval = time.Second
	}
	gc.Logger = logger
	g, err := gossip.New(gc)
	if err != nil {
		srv.Close(context.Background())
		return err
	}
	if err := reg.Register(g.Collector()); err != nil {
		g.Shutdown()
		srv.Close(context.Background())
		return err
	}
	router.Start(client, g)
	recCfg := o.reconcileConfig()
	recCfg.Logger = logger
	recCfg.MayPromote = shards.MayPromote
	rec, err := cluster.NewReconciler(recCfg, router, g)
	if err != nil {
		g.Shutdown()
		srv.Close(context.Background())
		return err
	}
	rec.Start()
	shards.Start(g)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	logger.Info("riot-server ready", "node_id", id, "addr", srv.Addr().String(),
		"raft_addr", node.RaftAddr(), "gossip_addr", g.Addr(), "http_addr", admin.Addr().String(), "data_dir", o.dataDir,
		"engine", o.engine, "version", version)

	removed := watchRemoved(ctx, logger, node, router)
	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case <-requested:
		logger.Info("shutting down (SHUTDOWN command)")
	case <-removed:
		logger.Info("this node was removed from the cluster; shutting down")
	case <-router.RemovalNoticed():
		logger.Info("the leader confirms this node was removed from the cluster; shutting down")
	case runErr = <-serveErr:
	case err := <-g.Conflict():
		if !node.HasState() {
			// Another live node owns this ID. Stop without leaving: a
			// leave would announce that ID as gone, and the leader would
			// remove the real member.
			rec.Stop()
			g.Shutdown()
			srv.Close(context.Background())
			return fmt.Errorf("refusing to start: %w", err)
		} else {
			logger.Error("node ID conflict in gossip; still running because this node has raft state (a restart at a new address is accepted once the old one is declared dead)", "err", err)
			select {
			case <-ctx.Done():
			case <-requested:
			case runErr = <-serveErr:
			}
		}
	}
	rec.Stop()
	shutdown(logger, srv, shards, node, g)
	return runErr
}

// watchRemoved returns a channel closed when the cluster removes this node
// while this process is a member: its raft shut down by itself (a leader
// that removed itself), or the configuration no longer lists it and the
// leader it knows (if any) does not count it (StillMember: a node catching
// up replays old removals). This process is a member once it leads, or the
// leader it knows confirms it (LeaderCounts); the configuration on disk is
// not enough. A node restarted after the cluster removed it while it was
// down (or after it left) still lists itself there, and may be sent the
// entries that removed it (hashicorp/raft sends a removed follower a last
// append): it is not "removed", and waits to be added again.
func watchRemoved(ctx context.Context, logger *slog.Logger, node *raftkv.Node, r *cluster.Router) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		member := false
		for {
			changed := node.LeaderChanged()
			if node.Removed() {
				logger.Info("raft shut down by itself: this leader removed itself from the configuration")
				close(ch)
				return
			}
			if servers, err := node.Servers(); err == nil {
				in := inServers(servers, node.ID())
				if member && !in && !r.StillMember(ctx) {
					lid, _ := node.Leader()
					logger.Info("the configuration no longer lists this node, and its leader does not count it", "servers", servers, "leader", lid)
					close(ch)
					return
				}
				if in && !member {
					member = node.IsLeader()
					if !member {
						member, _ = r.LeaderCounts(ctx)
					}
				}
			}
			select {
			case <-changed:
			case <-time.After(time.Second): // raft reports no event for its own shutdown
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// shutdown stops a node gracefully: stop serving clients, hand leadership
// to another voter, leave gossip (the leader then removes this node from
// raft) and wait a little for that removal, before raft is closed.
func shutdown(logger *slog.Logger, srv *resp.Server, shards *cluster.Shards, node *raftkv.Node, g *gossip.Gossip) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		logger.Warn("close RESP server", "err", err)
	}
	shards.Close() // hands the data groups' leadership over first
	if node.IsLeader() {
		if err := node.TransferLeadership(ctx, ""); err == nil {
			logger.Info("transferred leadership before shutdown")
		} else if !errors.Is(err, raftkv.ErrNoOtherVoter) {
			logger.Warn("leadership transfer before shutdown failed", "err", err)
		}
	}
	others := 0
	for _, m := range g.Members() {
		if m.ID != node.ID() && m.State == gossip.Alive {
			others++
		}
	}
	if err := g.Leave(5 * time.Second); err != nil {
		logger.Warn("leave gossip", "err", err)
	}
	if others > 0 {
		// A leader that gossips with us will remove us from raft.
		waitRemoved(ctx, node, 5*time.Second)
	}
}

// waitRemoved waits up to d until this node is no longer in the raft
// configuration (the leader removes members that left), when other members
// remain to do it.
func waitRemoved(ctx context.Context, node *raftkv.Node, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		servers, err := node.Servers()
		if err != nil || len(servers) <= 1 || !inServers(servers, node.ID()) {
			return
		}
		select {
		case <-node.LeaderChanged():
		case <-time.After(50 * time.Millisecond): // the configuration arrives through the log
		case <-ctx.Done():
		}
	}
}

func inServers(servers []raftkv.Server, id string) bool {
	for _, s := range servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

func closeLogged(logger *slog.Logger, what string, fn func() error) {
	if err := fn(); err != nil {
		logger.Warn("close "+what, "err", err)
	}
}

// checkListen reports whether addr can be listened on.
func checkListen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// clientAddr is the RESP address other nodes forward to: the bound
// address, with the --advertise host when given.
func clientAddr(o options, bound string) string {
	if o.advertise != "" {
		return advertiseAddr(o.advertise, bound)
	}
	return bound
}

// advertiseAddr combines the --advertise host with the port of addr.
func advertiseAddr(host, addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return net.JoinHostPort(host, port) // brackets an IPv6 host
	}
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return host + addr[i:]
		}
	}
	return host
}
