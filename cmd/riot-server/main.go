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
	"syscall"
	"time"

	"github.com/riotkv/riot/cluster"
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

// serve wires storage, raft, the router and the RESP server together, runs
// until ctx ends, then shuts down in reverse order.
func serve(ctx context.Context, o options, logger *slog.Logger) error {
	// Check the client address before touching raft state, so a typo does
	// not leave a bootstrapped cluster behind.
	if err := checkListen(o.addr); err != nil {
		return usageError{fmt.Errorf("--addr %s: %w", o.addr, err)}
	}
	id, err := nodeID(o.nodeID, o.dataDir)
	if err != nil {
		return err
	}
	eng, err := storage.Open(o.engine, filepath.Join(o.dataDir, "engine"))
	if err != nil {
		return err
	}
	defer func() {
		if err := eng.Close(); err != nil {
			logger.Warn("close storage", "err", err)
		}
	}()

	rc := raftkv.DefaultConfig()
	rc.ID = id
	rc.Dir = filepath.Join(o.dataDir, "raft")
	rc.RaftAddr = o.raftAddr
	if o.advertise != "" {
		rc.Advertise = advertiseAddr(o.advertise, o.raftAddr)
	}
	// A node with no raft state and no --join starts its own cluster; with
	// --join it waits to be added.
	rc.Bootstrap = o.join == ""
	rc.SnapshotThreshold = o.snapThresh
	rc.Logger = logger
	node, err := raftkv.Open(rc, eng)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := node.Shutdown(sctx); err != nil {
			logger.Warn("close raft", "err", err)
		}
	}()

	cc := cluster.DefaultConfig()
	cc.LeaderWait = o.leaderWait
	cc.DefaultReadLevel, _ = cluster.ParseReadLevel(o.readLevel) // validated
	cc.Logger = logger
	cc.Password = o.requirePass
	router, err := cluster.New(cc, node)
	if err != nil {
		return err
	}
	defer router.Close()

	sc := resp.DefaultConfig()
	sc.Addr = o.addr
	sc.MaxBulkLen = o.maxBulkLen
	sc.RequirePass = o.requirePass
	sc.Version = version
	sc.Logger = logger
	sc.Info = []raftkv.Field{
		{Name: "riot_node_id", Value: id},
		{Name: "riot_data_dir", Value: o.dataDir},
		{Name: "riot_engine", Value: o.engine},
	}
	srv, err := resp.NewServer(sc, router)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	router.Start(clientAddr(o, srv.Addr().String()))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	logger.Info("riot-server ready", "node_id", id, "addr", srv.Addr().String(),
		"raft_addr", node.RaftAddr(), "data_dir", o.dataDir, "engine", o.engine, "version", version)

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		return err
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		logger.Warn("close RESP server", "err", err)
	}
	return nil
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
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return host + addr[i:]
		}
	}
	return host
}
