package resp

import (
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/riotkv/riot/raftkv"
)

// memoryInfo is INFO's Memory section, with Redis 7.0's fields in Redis's
// order. used_memory is the Go heap's objects, live and not yet collected
// (Redis reports what its allocator holds); used_memory_rss is the resident
// set, page cache of mapped files (bbolt's raft.db) included. The
// allocator_* fields and ratios are derived from the Go runtime's figures:
// allocated is the heap's objects, active what the runtime holds from the
// OS and has not released, resident the RSS. Riot has no scripts, no
// replication backlog, no AOF buffer and no maxmemory (it does not evict):
// those fields are 0.
func (s *Server) memoryInfo() []raftkv.Field {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(sample)
	used, total, released := sample[0].Value.Uint64(), sample[1].Value.Uint64(), sample[2].Value.Uint64()
	peak := s.notePeak(used)
	active := total - min(released, total)
	rss, err := residentBytes()
	if err != nil {
		rss = 0
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	ratio := func(a, b uint64) string {
		if b == 0 {
			return "0.00"
		}
		return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64)
	}
	diff := func(a, b uint64) string { return strconv.FormatInt(int64(a)-int64(b), 10) }
	sys := systemMemory()
	f := func(name, value string) raftkv.Field { return raftkv.Field{Name: name, Value: value} }
	return []raftkv.Field{
		f("used_memory", u(used)),
		f("used_memory_human", bytesHuman(used)),
		f("used_memory_rss", u(rss)),
		f("used_memory_rss_human", bytesHuman(rss)),
		f("used_memory_peak", u(peak)),
		f("used_memory_peak_human", bytesHuman(peak)),
		f("used_memory_peak_perc", strconv.FormatFloat(float64(used)*100/float64(max(peak, 1)), 'f', 2, 64)+"%"),
		f("used_memory_overhead", "0"),
		f("used_memory_startup", "0"),
		f("used_memory_dataset", u(used)),
		f("used_memory_dataset_perc", "100.00%"),
		f("allocator_allocated", u(used)),
		f("allocator_active", u(active)),
		f("allocator_resident", u(rss)),
		f("total_system_memory", u(sys)),
		f("total_system_memory_human", bytesHuman(sys)),
		f("used_memory_lua", "0"),
		f("used_memory_vm_eval", "0"),
		f("used_memory_lua_human", "0B"),
		f("used_memory_scripts_eval", "0"),
		f("number_of_cached_scripts", "0"),
		f("number_of_functions", "0"),
		f("number_of_libraries", "0"),
		f("used_memory_vm_functions", "0"),
		f("used_memory_vm_total", "0"),
		f("used_memory_vm_total_human", "0B"),
		f("used_memory_functions", "0"),
		f("used_memory_scripts", "0"),
		f("used_memory_scripts_human", "0B"),
		f("go_memory_total", u(total)),
		f("maxmemory", "0"),
		f("maxmemory_human", "0B"),
		f("maxmemory_policy", "noeviction"),
		f("allocator_frag_ratio", ratio(active, used)),
		f("allocator_frag_bytes", diff(active, used)),
		f("allocator_rss_ratio", ratio(rss, active)),
		f("allocator_rss_bytes", diff(rss, active)),
		f("rss_overhead_ratio", "1.00"),
		f("rss_overhead_bytes", "0"),
		f("mem_fragmentation_ratio", ratio(rss, used)),
		f("mem_fragmentation_bytes", diff(rss, used)),
		f("mem_not_counted_for_evict", "0"),
		f("mem_replication_backlog", "0"),
		f("mem_total_replication_buffers", "0"),
		f("mem_clients_slaves", "0"),
		f("mem_clients_normal", "0"),
		f("mem_cluster_links", "0"),
		f("mem_aof_buffer", "0"),
		f("mem_allocator", "go"),
		f("active_defrag_running", "0"),
		f("lazyfree_pending_objects", "0"),
		f("lazyfreed_objects", "0"),
	}
}

// heapObjectBytes is used_memory: the Go heap's objects.
func heapObjectBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// notePeak raises used_memory_peak to used if it is higher, and returns
// the peak. The peak is sampled (every opsSampleInterval and at each
// INFO), so a spike between samples can be missed.
func (s *Server) notePeak(used uint64) uint64 {
	for {
		peak := s.stats.peakMemory.Load()
		if used <= peak {
			return peak
		}
		if s.stats.peakMemory.CompareAndSwap(peak, used) {
			return used
		}
	}
}

// systemMemory is the machine's memory from /proc/meminfo's MemTotal
// (Linux; 0 elsewhere), as Redis's total_system_memory.
func systemMemory() uint64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// residentBytes reads this process's resident set size from
// /proc/self/statm (Linux).
func residentBytes() (uint64, error) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return 0, fmt.Errorf("resp: /proc/self/statm: %q", raw)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resp: /proc/self/statm: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}

// bytesHuman formats n as Redis's INFO does: 0B, 1023B, 1.50K, 12.34M.
func bytesHuman(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + units[i:i+1]
}
