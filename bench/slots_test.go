package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestKeySlot(t *testing.T) {
	if got := crc16("123456789"); got != 0x31c3 {
		t.Errorf("crc16(123456789) = %#x, want 0x31c3 (CRC-16/XMODEM check value)", got)
	}
	// Slots as redis-server 7 gives them (CLUSTER KEYSLOT).
	for key, want := range map[string]int{
		"foo": 12182, "bar": 5061, "key:000000000000": 13053, "": 0,
		"{user1000}.following": 3443, "{user1000}.followers": 3443, "user1000": 3443,
		"foo{}{bar}":    8363, // an empty tag: the whole key
		"foo{{bar}}zap": 4015, // the tag "{bar"
		"foo{bar}{zap}": 5061, // the first tag only: "bar"
	} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestKeyInSlot(t *testing.T) {
	for _, slot := range []int{0, 1, 5460, 5461, 16383} {
		k := keyInSlot(slot)
		if got := keySlot(k); got != slot || !strings.HasPrefix(k, "bench:warmup:") {
			t.Errorf("keyInSlot(%d) = %q, in slot %d", slot, k, got)
		}
	}
}

func slotRange(start, end int, addrs ...string) redis.ClusterSlot {
	r := redis.ClusterSlot{Start: start, End: end}
	for _, a := range addrs {
		r.Nodes = append(r.Nodes, redis.ClusterNode{Addr: a})
	}
	return r
}

func TestCheckSlots(t *testing.T) {
	a, b, c := "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"
	for _, tc := range []struct {
		name  string
		slots []redis.ClusterSlot
		err   string // "" when the map is complete
	}{
		{"one range", []redis.ClusterSlot{slotRange(0, 16383, a)}, ""},
		{"three, unsorted, replicas", []redis.ClusterSlot{
			slotRange(10923, 16383, c, a), slotRange(0, 5460, a, b, c), slotRange(5461, 10922, b)}, ""},
		{"empty", nil, "slots 0-16383 are not served"},
		{"gap", []redis.ClusterSlot{slotRange(0, 99, a), slotRange(200, 16383, b)}, "slots 100-199 are not served"},
		{"tail missing", []redis.ClusterSlot{slotRange(0, 8191, a)}, "slots 8192-16383 are not served"},
		{"head missing", []redis.ClusterSlot{slotRange(1, 16383, a)}, "slots 0-0 are not served"},
		{"overlap", []redis.ClusterSlot{slotRange(0, 100, a), slotRange(100, 16383, b)}, "overlap"},
		{"no master", []redis.ClusterSlot{slotRange(0, 16383)}, "slots 0-16383 have no master"},
		{"empty address", []redis.ClusterSlot{slotRange(0, 16383, "")}, "have no master"},
		{"past the end", []redis.ClusterSlot{slotRange(0, 16384, a)}, "bad slot range 0-16384"},
		{"reversed", []redis.ClusterSlot{slotRange(0, 10, a), slotRange(11, 5, b)}, "bad slot range 11-5"},
	} {
		err := checkSlots(tc.slots)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: checkSlots = %v, want nil", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: checkSlots = %v, want an error with %q", tc.name, err, tc.err)
		}
	}
}

func TestCheckShape(t *testing.T) {
	a, b, c := "a:1", "b:2", "c:3"
	formed := []redis.ClusterSlot{slotRange(0, 5460, a, b, c), slotRange(5461, 10922, b, c, a), slotRange(10923, 16383, c, a, b)}
	for _, tc := range []struct {
		name  string
		slots []redis.ClusterSlot
		want  slotShape
		err   string
	}{
		{"formed", formed, slotShape{ranges: 3, replicas: 3, leaders: 3}, ""},
		{"nothing checked", formed[:1], slotShape{}, ""},
		{"too few ranges", formed[:2], slotShape{ranges: 3}, "2 slot ranges, want 3"},
		{"replicas missing", []redis.ClusterSlot{slotRange(0, 16383, a, b)}, slotShape{replicas: 3}, "slots 0-16383 are served by 2 nodes, want 3"},
		{"leaders on one node", []redis.ClusterSlot{slotRange(0, 8191, a, b, c), slotRange(8192, 16383, a, b, c)},
			slotShape{ranges: 2, replicas: 3, leaders: 2}, "1 distinct masters, want 2"},
		{"leaders not yet spread", []redis.ClusterSlot{slotRange(0, 4095, b), slotRange(4096, 8191, a), slotRange(8192, 12287, a), slotRange(12288, 16383, a)},
			slotShape{ranges: 4, leaders: 2, maxLed: 2}, "a:1 is master of 3 ranges, want at most 2"},
		{"leaders spread", []redis.ClusterSlot{slotRange(0, 4095, b), slotRange(4096, 8191, a), slotRange(8192, 12287, c), slotRange(12288, 16383, a)},
			slotShape{ranges: 4, leaders: 3, maxLed: 2}, ""},
	} {
		err := checkShape(tc.slots, tc.want)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: checkShape = %v, want nil", tc.name, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: checkShape = %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestCountVoters(t *testing.T) {
	flat := []any{
		[]any{"id", "n1", "suffrage", "voter", "role", "leader"},
		[]any{"id", "n2", "suffrage", "nonvoter", "role", "follower"},
		[]any{"id", "n3", "suffrage", "voter", "role", "follower"},
	}
	if n, err := countVoters(flat); n != 2 || err != nil {
		t.Errorf("countVoters(RESP2 reply) = %d, %v; want 2", n, err)
	}
	resp3 := []any{map[any]any{"id": "n1", "suffrage": "voter"}, map[any]any{"id": "n2", "suffrage": "voter"}}
	if n, err := countVoters(resp3); n != 2 || err != nil {
		t.Errorf("countVoters(RESP3 reply) = %d, %v; want 2", n, err)
	}
	for _, bad := range []any{"OK", []any{"voter"}, []any{[]any{"id"}}, []any{[]any{"id", "n1"}}} {
		if _, err := countVoters(bad); err == nil {
			t.Errorf("countVoters(%#v): want an error", bad)
		}
	}
}

func TestDescribeSlots(t *testing.T) {
	got := describeSlots([]redis.ClusterSlot{slotRange(8192, 16383, "b:2"), slotRange(0, 8191, "a:1", "b:2", "c:3"), slotRange(5, 4)})
	if want := "0-8191 a:1 (+2 replicas), 5-4 ?, 8192-16383 b:2"; got != want {
		t.Errorf("describeSlots = %q, want %q (in slot order)", got, want)
	}
}

func TestBinariesFor(t *testing.T) {
	for _, tc := range []struct {
		systems, want []string
	}{
		{[]string{"riot3s3"}, nil},
		{[]string{"rediscluster"}, []string{"redis-server", "redis-cli"}},
		{[]string{"riot1", "etcd3", "etcd1", "redis", "rediscluster"}, []string{"etcd", "redis-server", "redis-cli"}},
	} {
		if got := binariesFor(tc.systems); !slices.Equal(got, tc.want) {
			t.Errorf("binariesFor(%v) = %v, want %v", tc.systems, got, tc.want)
		}
	}
}

func TestDefaultSystems(t *testing.T) {
	cfg, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"riot1", "riot3", "riot1w", "riot3w", "riot3s1", "riot3s3", "riot3s6", "etcd3", "etcd1", "redis"}
	if !slices.Equal(cfg.systems, want) {
		t.Errorf("default systems %v, want %v", cfg.systems, want)
	}
	if _, err := parseFlags([]string{"-systems", "rediscluster,riot3s6"}); err != nil {
		t.Errorf("-systems rediscluster,riot3s6: %v", err)
	}
	if _, err := parseFlags([]string{"-systems", "riot3s2"}); err == nil || !strings.Contains(err.Error(), "riot3s6") {
		t.Errorf("-systems riot3s2: error %v, want one listing the known systems", err)
	}
}

func TestReportShardedRows(t *testing.T) {
	cfg := config{clients: 64, runs: 1, duration: time.Second, valueSize: 100, keys: 10}
	r := newReport(cfg)
	byKey := map[string]*system{}
	for _, s := range systems("riot-server") {
		byKey[s.key] = s
	}
	add := func(sys string, w workload, v float64) {
		r.add(byKey[sys], w, 64, false, sample{opsPerSec: v, p50: time.Millisecond, p99: 3 * time.Millisecond})
	}
	add("etcd3", wSet, 8000)
	add("riot3s1", wSet, 24000)
	add("riot3s1", wSetP16, 80000)
	add("riot3s3", wSet, 40000)
	add("riot3s3", wSetP16, 160000)
	add("rediscluster", wSet, 90000)
	r.finish()
	md := r.markdown()
	for _, want := range []string{
		"| riot, 3 nodes, --shards 3 | SET, 64 clients | 40,000 |",
		"| riot, 3 nodes, --shards 3 | SET, pipeline 16, 64 clients | 160,000 |",
		"| redis-server cluster, 3 masters, appendfsync always | SET, 64 clients | 90,000 |",
		"| riot 3 nodes, --shards 1: SET ≥ 4x etcd 3 members put (64 clients) | 3.00x (24,000 / 8,000 ops/s) | **no** |",
		"| riot 3 nodes, --shards 1: SET pipeline 16 / etcd 3 members put (64 clients) | 10.00x (80,000 / 8,000 ops/s) | – |",
		"| riot 3 nodes, --shards 3: SET ≥ 4x etcd 3 members put (64 clients) | 5.00x (40,000 / 8,000 ops/s) | yes |",
		"| riot 3 nodes, --shards 3: SET pipeline 16 / etcd 3 members put (64 clients) | 20.00x (160,000 / 8,000 ops/s) | – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "--shards 6:") {
		t.Errorf("report has ratios for riot3s6, which was not measured:\n%s", md)
	}
}
