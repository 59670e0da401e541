package resp

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisInfoFields are the fields redis-server 7.0.15's INFO shows in each
// section, in its order (a master without replicas, no persistence).
var redisInfoFields = map[string][]string{
	"server":      {"redis_version", "redis_git_sha1", "redis_git_dirty", "redis_build_id", "redis_mode", "os", "arch_bits", "monotonic_clock", "multiplexing_api", "atomicvar_api", "gcc_version", "process_id", "process_supervised", "run_id", "tcp_port", "server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz", "configured_hz", "lru_clock", "executable", "config_file", "io_threads_active"},
	"clients":     {"connected_clients", "cluster_connections", "maxclients", "client_recent_max_input_buffer", "client_recent_max_output_buffer", "blocked_clients", "tracking_clients", "clients_in_timeout_table"},
	"memory":      {"used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak", "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead", "used_memory_startup", "used_memory_dataset", "used_memory_dataset_perc", "allocator_allocated", "allocator_active", "allocator_resident", "total_system_memory", "total_system_memory_human", "used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human", "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions", "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total", "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts", "used_memory_scripts_human", "maxmemory", "maxmemory_human", "maxmemory_policy", "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio", "allocator_rss_bytes", "rss_overhead_ratio", "rss_overhead_bytes", "mem_fragmentation_ratio", "mem_fragmentation_bytes", "mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers", "mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer", "mem_allocator", "active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"},
	"persistence": {"loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age", "current_fork_perc", "current_save_keys_processed", "current_save_keys_total", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size"},
	"stats":       {"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes", "total_net_repl_input_bytes", "total_net_repl_output_bytes", "instantaneous_input_kbps", "instantaneous_output_kbps", "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps", "rejected_connections", "sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys", "expired_stale_perc", "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys", "evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time", "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies", "total_error_replies", "dump_payload_sanitizations", "total_reads_processed", "total_writes_processed", "io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands"},
	"replication": {"role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2", "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen"},
	"cpu":         {"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children", "used_cpu_sys_main_thread", "used_cpu_user_main_thread"},
}

// infoSection returns a section's fields in order, as name/value pairs.
func infoFieldsOf(ctx context.Context, t *testing.T, rdb *redis.Client, section string) ([]string, map[string]string) {
	t.Helper()
	text, err := rdb.Info(ctx, section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	var names []string
	vals := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		names = append(names, name)
		vals[name] = val
	}
	return names, vals
}

// TestInfoRedisFields checks that every section holds Redis 7.0's fields,
// in Redis's order (riot's own fields may sit between them), well formed.
func TestInfoRedisFields(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	integer := regexp.MustCompile(`^-?[0-9]+$`)
	decimal := regexp.MustCompile(`^[0-9]+\.[0-9]+%?$`)
	human := regexp.MustCompile(`^[0-9]+(B|\.[0-9]{2}[KMGTPE])$`)
	text := map[string]bool{"redis_version": true, "redis_git_sha1": true, "redis_build_id": true, "redis_mode": true,
		"os": true, "monotonic_clock": true, "multiplexing_api": true, "atomicvar_api": true, "gcc_version": true,
		"process_supervised": true, "run_id": true, "executable": true, "config_file": true, "maxmemory_policy": true,
		"mem_allocator": true, "rdb_last_bgsave_status": true, "aof_last_bgrewrite_status": true,
		"aof_last_write_status": true, "role": true, "master_failover_state": true, "master_replid": true, "master_replid2": true}
	for section, want := range redisInfoFields {
		names, vals := infoFieldsOf(ctx, t, rdb, section)
		i := 0
		for _, n := range names {
			if i < len(want) && n == want[i] {
				i++
			}
		}
		if i < len(want) {
			t.Errorf("INFO %s: field %q missing or out of Redis's order; riot's fields: %v", section, want[i], names)
		}
		for _, n := range want {
			v, ok := vals[n]
			switch {
			case !ok || text[n]:
			case strings.HasSuffix(n, "_human"):
				if !human.MatchString(v) {
					t.Errorf("INFO %s: %s:%s is not a human size", section, n, v)
				}
			case !integer.MatchString(v) && !decimal.MatchString(v):
				t.Errorf("INFO %s: %s:%s is not a number", section, n, v)
			}
		}
	}
	_, server := infoFieldsOf(ctx, t, rdb, "server")
	if usec, _ := strconv.ParseInt(server["server_time_usec"], 10, 64); time.Since(time.UnixMicro(usec)).Abs() > time.Minute {
		t.Errorf("server_time_usec:%s is not now", server["server_time_usec"])
	}
	_, clients := infoFieldsOf(ctx, t, rdb, "clients")
	if n, _ := strconv.Atoi(clients["maxclients"]); n <= 0 {
		t.Errorf("maxclients:%s, want the open-file limit less 32", clients["maxclients"])
	}
	_, mem := infoFieldsOf(ctx, t, rdb, "memory")
	used, _ := strconv.ParseUint(mem["used_memory"], 10, 64)
	peak, _ := strconv.ParseUint(mem["used_memory_peak"], 10, 64)
	if sys, _ := strconv.ParseUint(mem["total_system_memory"], 10, 64); peak < used || sys == 0 {
		t.Errorf("used_memory:%d used_memory_peak:%d total_system_memory:%d; want peak >= used and the system's memory",
			used, peak, sys)
	}
	_, repl := infoFieldsOf(ctx, t, rdb, "replication")
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(repl["master_replid"]) {
		t.Errorf("master_replid:%s, want 40 hex digits", repl["master_replid"])
	}
	_, cpu := infoFieldsOf(ctx, t, rdb, "cpu")
	_, stats := infoFieldsOf(ctx, t, rdb, "stats")
	_, persist := infoFieldsOf(ctx, t, rdb, "persistence")
	if persist["aof_enabled"] != "1" || persist["rdb_bgsave_in_progress"] != "0" || persist["rdb_last_bgsave_status"] != "ok" {
		t.Errorf("INFO persistence = %v", persist)
	}

	// The counters move: bytes in and out, the offset (applied index),
	// CPU time; the replication ID stays.
	for i := range 200 {
		if err := rdb.Set(ctx, "k", strings.Repeat("v", i), 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	_, stats2 := infoFieldsOf(ctx, t, rdb, "stats")
	for _, n := range []string{"total_net_input_bytes", "total_net_output_bytes"} {
		a, _ := strconv.ParseUint(stats[n], 10, 64)
		b, _ := strconv.ParseUint(stats2[n], 10, 64)
		if b <= a {
			t.Errorf("%s: %d then %d after 200 SETs; want it to grow", n, a, b)
		}
	}
	if in, _ := strconv.ParseUint(stats2["total_net_input_bytes"], 10, 64); in < 200*20 {
		t.Errorf("total_net_input_bytes:%d after 200 SETs, want at least %d", in, 200*20)
	}
	_, repl2 := infoFieldsOf(ctx, t, rdb, "replication")
	a, _ := strconv.ParseInt(repl["master_repl_offset"], 10, 64)
	b, _ := strconv.ParseInt(repl2["master_repl_offset"], 10, 64)
	if b < a+200 || repl2["master_replid"] != repl["master_replid"] {
		t.Errorf("master_repl_offset %d then %d, master_replid %s then %s; want the offset up by 200 and the same ID",
			a, b, repl["master_replid"], repl2["master_replid"])
	}
	_, cpu2 := infoFieldsOf(ctx, t, rdb, "cpu")
	for _, n := range []string{"used_cpu_user", "used_cpu_sys"} {
		x, _ := strconv.ParseFloat(cpu[n], 64)
		y, _ := strconv.ParseFloat(cpu2[n], 64)
		if y < x {
			t.Errorf("%s went back: %v then %v", n, x, y)
		}
	}
	if x, _ := strconv.ParseFloat(cpu2["used_cpu_user"], 64); x == 0 {
		t.Errorf("used_cpu_user:0 after 200 SETs")
	}

	// CONFIG RESETSTAT resets the byte counters.
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatalf("CONFIG RESETSTAT: %v", err)
	}
	_, stats3 := infoFieldsOf(ctx, t, rdb, "stats")
	if in, _ := strconv.ParseUint(stats3["total_net_input_bytes"], 10, 64); in > 200 {
		t.Errorf("total_net_input_bytes:%d right after CONFIG RESETSTAT", in)
	}
}

func TestSaveBgsaveLastsave(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	start := time.Now().Unix()
	last, err := rdb.LastSave(ctx).Result()
	if err != nil || last > start || last < start-60 {
		t.Fatalf("LASTSAVE at start = %d, %v; want the server's start (about %d)", last, err, start)
	}
	persisted := func() int64 {
		_, p := infoFieldsOf(ctx, t, rdb, "persistence")
		n, _ := strconv.ParseInt(p["rdb_saves"], 10, 64)
		return n
	}
	before := persisted()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // LASTSAVE has a second's resolution
	st, err := rdb.Save(ctx).Result()
	wantVal(t, "SAVE", st, err, "OK")
	if got := persisted(); got <= before {
		t.Errorf("rdb_saves:%d after SAVE, want more than %d", got, before)
	}
	last2, err := rdb.LastSave(ctx).Result()
	if err != nil || last2 <= last {
		t.Errorf("LASTSAVE after SAVE = %d, %v; want later than %d", last2, err, last)
	}
	_, p := infoFieldsOf(ctx, t, rdb, "persistence")
	if p["rdb_last_save_time"] != strconv.FormatInt(last2, 10) || p["rdb_changes_since_last_save"] != "0" {
		t.Errorf("INFO persistence after SAVE: rdb_last_save_time:%s rdb_changes_since_last_save:%s; want %d and 0",
			p["rdb_last_save_time"], p["rdb_changes_since_last_save"], last2)
	}

	if err := rdb.Set(ctx, "k", "v2", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := rdb.BgSave(ctx).Result()
	wantVal(t, "BGSAVE", got, err, "Background saving started")
	waitFor := func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, p := infoFieldsOf(ctx, t, rdb, "persistence")
			if p["rdb_bgsave_in_progress"] == "0" {
				if p["rdb_last_bgsave_status"] != "ok" || p["rdb_last_bgsave_time_sec"] == "-1" {
					t.Errorf("INFO persistence after BGSAVE: %v", p)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("BGSAVE still in progress after 10s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor()
	got, err = rdb.Do(ctx, "BGSAVE", "schedule").Text()
	wantVal(t, "BGSAVE SCHEDULE", got, err, "Background saving started")
	waitFor()
	wantErr(t, "BGSAVE NOW", rdb.Do(ctx, "BGSAVE", "NOW").Err(), "ERR syntax error")
}

// While a BGSAVE runs, SAVE and BGSAVE are refused and BGSAVE SCHEDULE
// queues another one.
func TestBgsaveInProgress(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	ts.saves.running.Store(true) // as if one ran
	wantErr(t, "SAVE during BGSAVE", rdb.Save(ctx).Err(), "ERR Background save already in progress")
	wantErr(t, "BGSAVE during BGSAVE", rdb.BgSave(ctx).Err(), "ERR Background save already in progress")
	got, err := rdb.Do(ctx, "BGSAVE", "SCHEDULE").Text()
	wantVal(t, "BGSAVE SCHEDULE during BGSAVE", got, err, "Background saving scheduled")
	_, p := infoFieldsOf(ctx, t, rdb, "persistence")
	if p["rdb_bgsave_in_progress"] != "1" {
		t.Errorf("rdb_bgsave_in_progress:%s during a BGSAVE", p["rdb_bgsave_in_progress"])
	}
	ts.saves.running.Store(false)
}

func TestShutdownCommand(t *testing.T) {
	var calls atomic.Int32
	ts := startServer(t, func(c *Config) { c.Shutdown = func() { calls.Add(1) } })
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	wantErr(t, "SHUTDOWN ABORT", rdb.Do(ctx, "SHUTDOWN", "ABORT").Err(), "ERR No shutdown in progress.")
	wantErr(t, "SHUTDOWN SAVE NOSAVE", rdb.Do(ctx, "SHUTDOWN", "SAVE", "NOSAVE").Err(), "ERR syntax error")
	if calls.Load() != 0 {
		t.Fatalf("Shutdown called by a refused SHUTDOWN")
	}
	c := dialRaw(t, ts)
	c.send(mbulk("SHUTDOWN", "NOSAVE", "NOW"))
	c.expectClosed("SHUTDOWN NOSAVE NOW")
	if calls.Load() != 1 {
		t.Fatalf("Shutdown called %d times after SHUTDOWN, want 1", calls.Load())
	}

	// Without Config.Shutdown (an embedded server), SHUTDOWN fails.
	ts2 := startServer(t, nil)
	wantErr(t, "SHUTDOWN without Config.Shutdown", newClient(t, ts2, 2).Shutdown(ctx).Err(),
		"ERR Errors trying to SHUTDOWN. Check logs.")
}

// expired_keys counts the keys active expiry deleted.
func TestInfoExpiredKeys(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	for _, k := range []string{"a", "b", "c"} {
		if err := rdb.Set(ctx, k, "v", 20*time.Millisecond).Err(); err != nil {
			t.Fatalf("SET %s PX 20: %v", k, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, stats := infoFieldsOf(ctx, t, rdb, "stats")
		if stats["expired_keys"] == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired_keys:%s 10s after 3 keys expired, want 3", stats["expired_keys"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatalf("CONFIG RESETSTAT: %v", err)
	}
	if _, stats := infoFieldsOf(ctx, t, rdb, "stats"); stats["expired_keys"] != "0" {
		t.Errorf("expired_keys:%s after CONFIG RESETSTAT, want 0", stats["expired_keys"])
	}
}
