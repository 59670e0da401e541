package resp

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/riotkv/riot/raftkv"
)

// INFO's sections, with Redis 7.0's fields in Redis's order. A field for a
// feature riot does not have carries Redis's value for a server without
// it (0, -1, "ok", "no"); riot's own fields follow the Redis field they
// belong next to.

func field(name, value string) raftkv.Field { return raftkv.Field{Name: name, Value: value} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }

// serverInfo is INFO's Server section. hz is Redis's default: riot has no
// event-loop timer (expiry and housekeeping run on their own tickers).
func (srv *Server) serverInfo(now time.Time) []raftkv.Field {
	uptime := now.Sub(srv.started)
	exe, _ := os.Executable()
	mux := "epoll" // Go's network poller
	if runtime.GOOS != "linux" {
		mux = "kqueue"
	}
	return append([]raftkv.Field{
		field("redis_version", redisCompatVersion),
		field("riot_version", srv.cfg.Version),
		field("redis_git_sha1", "00000000"),
		field("redis_git_dirty", "0"),
		field("redis_build_id", "0"),
		field("redis_mode", "standalone"),
		field("os", runtime.GOOS+" "+runtime.GOARCH),
		field("arch_bits", "64"),
		field("monotonic_clock", "POSIX clock_gettime"),
		field("multiplexing_api", mux),
		field("atomicvar_api", "sync-atomic"),
		field("gcc_version", "0.0.0"),
		field("go_version", runtime.Version()),
		field("process_id", strconv.Itoa(os.Getpid())),
		field("process_supervised", "no"),
		field("run_id", srv.runID),
		field("tcp_port", port(srv.Addr().String())),
		field("server_time_usec", itoa(now.UnixMicro())),
		field("uptime_in_seconds", itoa(int64(uptime.Seconds()))),
		field("uptime_in_days", itoa(int64(uptime.Hours()/24))),
		field("hz", "10"),
		field("configured_hz", "10"),
		field("lru_clock", itoa(now.Unix()&(1<<24-1))), // Redis's LRU_CLOCK_MAX, at 1s resolution
		field("executable", exe),
		field("config_file", ""),
		field("io_threads_active", "0"),
	}, srv.cfg.Info...)
}

// clientsInfo is INFO's Clients section. maxclients is what the process's
// open-file limit allows, as Redis derives it (riot has no maxclients
// setting and accepts connections while descriptors last).
func (srv *Server) clientsInfo() []raftkv.Field {
	return []raftkv.Field{
		field("connected_clients", strconv.Itoa(len(srv.sessionList()))),
		field("cluster_connections", "0"),
		field("maxclients", itoa(maxClients())),
		field("client_recent_max_input_buffer", "0"),
		field("client_recent_max_output_buffer", "0"),
		field("blocked_clients", fmt.Sprint(srv.blocking.blocked())), // clients in a blocking command
		field("tracking_clients", "0"),
		field("clients_in_timeout_table", "0"),
	}
}

// maxClients is the open-file limit less Redis's 32 reserved descriptors.
func maxClients() int64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur <= 32 {
		return 0
	}
	return int64(min(lim.Cur-32, 1<<31-1))
}

// persistenceInfo is INFO's Persistence section. A "save" is a raft
// snapshot of this node (SAVE, BGSAVE, or raft's own): rdb_saves counts
// the snapshots persisted since the process started, rdb_last_save_time is
// LASTSAVE, rdb_changes_since_last_save the log entries applied since the
// last snapshot. aof_enabled is 1, as CONFIG GET appendonly says yes: the
// raft log is riot's append-only log, synced on every write (none of AOF's
// rewrites happen: raft truncates it after snapshots).
func (srv *Server) persistenceInfo(rinfo []raftkv.Field, now time.Time) []raftkv.Field {
	engine, disk := srv.backend.Engine()
	st := &srv.saves
	status := "ok"
	if !st.lastOK.Load() {
		status = "err"
	}
	inProgress, current := "0", int64(-1)
	if st.running.Load() {
		inProgress = "1"
		current = int64(now.Sub(time.Unix(0, st.startedNano.Load())).Seconds())
	}
	changes := max(raftInt(rinfo, "fsm_applied_index")-raftInt(rinfo, "last_snapshot_index"), 0)
	restoring := "0"
	if raftInt(rinfo, "riot_snapshot_restoring") != 0 {
		restoring = "1"
	}
	fields := []raftkv.Field{
		field("loading", restoring),
		field("async_loading", "0"),
		field("current_cow_peak", "0"),
		field("current_cow_size", "0"),
		field("current_cow_size_age", "0"),
		field("current_fork_perc", "0.00"),
		field("current_save_keys_processed", "0"),
		field("current_save_keys_total", "0"),
		field("rdb_changes_since_last_save", itoa(changes)),
		field("rdb_bgsave_in_progress", inProgress),
		field("rdb_last_save_time", itoa(srv.lastSave())),
		field("rdb_last_bgsave_status", status),
		field("rdb_last_bgsave_time_sec", itoa(st.lastSec.Load())),
		field("rdb_current_bgsave_time_sec", itoa(current)),
		field("rdb_saves", itoa(raftInt(rinfo, "riot_snapshots_persisted"))),
		field("rdb_last_cow_size", "0"),
		field("rdb_last_load_keys_expired", "0"),
		field("rdb_last_load_keys_loaded", "0"),
		field("aof_enabled", "1"),
		field("aof_rewrite_in_progress", "0"),
		field("aof_rewrite_scheduled", "0"),
		field("aof_last_rewrite_time_sec", "-1"),
		field("aof_current_rewrite_time_sec", "-1"),
		field("aof_last_bgrewrite_status", "ok"),
		field("aof_rewrites", "0"),
		field("aof_rewrites_consecutive_failures", "0"),
		field("aof_last_write_status", "ok"),
		field("aof_last_cow_size", "0"),
		field("module_fork_in_progress", "0"),
		field("module_fork_last_cow_size", "0"),
		field("storage_engine", engine),
		field("storage_disk_bytes", itoa(disk)),
	}
	if b, ok := srv.backend.(sweepBackend); ok {
		sw := b.SweepStats()
		fields = append(fields,
			field("sweeper_deleted", utoa(sw.Deleted)),
			field("sweeper_passes", utoa(sw.Passes)),
			field("sweeper_last_pass_deleted", utoa(sw.LastPassDeleted)))
	}
	return fields
}

// statsInfo is INFO's Stats section. expired_keys counts the keys active
// expiry deleted on this node (the leader proposes the deletions, every
// node applies them); a key a read finds expired is not deleted, so not
// counted. Riot does not count keyspace hits and misses, nor reject
// connections.
func (srv *Server) statsInfo(rinfo []raftkv.Field) []raftkv.Field {
	base := srv.resetBase.get() // CONFIG RESETSTAT
	z := func(names ...string) []raftkv.Field {
		out := make([]raftkv.Field, len(names))
		for i, n := range names {
			out[i] = field(n, "0")
		}
		return out
	}
	fields := []raftkv.Field{
		field("total_connections_received", itoa(srv.stats.connections.Load()-base.connections)),
		field("total_commands_processed", itoa(srv.stats.commands.Load()-base.commands)),
		field("instantaneous_ops_per_sec", fmt.Sprint(srv.ops.rate())),
		field("total_net_input_bytes", utoa(srv.stats.netIn.Load()-base.netIn)),
		field("total_net_output_bytes", utoa(srv.stats.netOut.Load()-base.netOut)),
		field("total_net_repl_input_bytes", "0"),
		field("total_net_repl_output_bytes", "0"),
		field("instantaneous_input_kbps", "0.00"),
		field("instantaneous_output_kbps", "0.00"),
		field("instantaneous_input_repl_kbps", "0.00"),
		field("instantaneous_output_repl_kbps", "0.00"),
	}
	fields = append(fields, z("rejected_connections", "sync_full", "sync_partial_ok", "sync_partial_err")...)
	fields = append(fields, field("expired_keys", itoa(raftInt(rinfo, "riot_expired_keys")-base.expired)))
	fields = append(fields, field("expired_stale_perc", "0.00"))
	fields = append(fields, z("expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys",
		"evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time", "keyspace_hits",
		"keyspace_misses", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "latest_fork_usec",
		"total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits",
		"active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time",
		"current_active_defrag_time", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes",
		"unexpected_error_replies")...)
	fields = append(fields, field("total_error_replies", utoa(srv.errorReplies()-base.errors)))
	return append(fields, z("dump_payload_sanitizations", "total_reads_processed", "total_writes_processed",
		"io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands")...)
}

// replicationInfo is INFO's Replication section: a master with no
// replicas (the other nodes are raft peers, not replicas; see ROLE), its
// offset this node's applied index and its replication ID derived from the
// node ID, so that it is stable across restarts.
func (srv *Server) replicationInfo(rinfo []raftkv.Field) []raftkv.Field {
	var node string
	for _, f := range rinfo {
		if f.Name == "node_id" {
			node = f.Value
		}
	}
	id := sha1.Sum([]byte("riot replid " + node))
	return []raftkv.Field{
		field("role", "master"),
		field("connected_slaves", "0"),
		field("master_failover_state", "no-failover"),
		field("master_replid", hex.EncodeToString(id[:])),
		field("master_replid2", "0000000000000000000000000000000000000000"),
		field("master_repl_offset", itoa(raftInt(rinfo, "fsm_applied_index"))),
		field("second_repl_offset", "-1"),
		field("repl_backlog_active", "0"),
		field("repl_backlog_size", "1048576"),
		field("repl_backlog_first_byte_offset", "0"),
		field("repl_backlog_histlen", "0"),
		field("raft_state", srv.backend.RaftState()),
	}
}

// cpuInfo is INFO's CPU section, from getrusage. Go runs the server on
// many OS threads, so there is no main thread: the _main_thread fields
// are the process's figures.
func cpuInfo() []raftkv.Field {
	secs := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self) // cannot fail with a valid pointer
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	return []raftkv.Field{
		field("used_cpu_sys", secs(self.Stime)),
		field("used_cpu_user", secs(self.Utime)),
		field("used_cpu_sys_children", secs(children.Stime)),
		field("used_cpu_user_children", secs(children.Utime)),
		field("used_cpu_sys_main_thread", secs(self.Stime)),
		field("used_cpu_user_main_thread", secs(self.Utime)),
	}
}
