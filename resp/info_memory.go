package resp

import (
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/riotkv/riot/raftkv"
)

// memoryInfo is INFO's Memory section, with the fields monitoring tools and
// redis-cli --stat read. used_memory is the Go heap's objects, live and not
// yet collected (Redis reports what its allocator holds); used_memory_rss
// is the resident set, page cache of mapped files (bbolt's raft.db)
// included. Riot has no maxmemory: it does not evict.
func memoryInfo() []raftkv.Field {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(sample)
	used, total := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	fields := []raftkv.Field{
		{Name: "used_memory", Value: strconv.FormatUint(used, 10)},
		{Name: "used_memory_human", Value: bytesHuman(used)},
	}
	if rss, err := residentBytes(); err == nil {
		fields = append(fields,
			raftkv.Field{Name: "used_memory_rss", Value: strconv.FormatUint(rss, 10)},
			raftkv.Field{Name: "used_memory_rss_human", Value: bytesHuman(rss)})
	}
	return append(fields,
		raftkv.Field{Name: "go_memory_total", Value: strconv.FormatUint(total, 10)},
		raftkv.Field{Name: "maxmemory", Value: "0"},
		raftkv.Field{Name: "maxmemory_human", Value: "0B"},
		raftkv.Field{Name: "maxmemory_policy", Value: "noeviction"},
		raftkv.Field{Name: "mem_allocator", Value: "go"},
	)
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
