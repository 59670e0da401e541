package resp

import (
	"fmt"
	"strings"
	"testing"
)

// sortCases are SORT and SORT_RO requests, compared byte for byte with
// redis-server: numbers and ALPHA, LIMIT's clamping, BY keys and hash
// fields (and a constant BY: no sorting), GET # and patterns, STORE (a
// list, or a deleted destination), every error in Redis's order, SORT
// inside MULTI, and their keys (COMMAND GETKEYS). Sets are sorted or have
// one member where Redis's order would be its hash table's.
var sortCases = [][]string{
	{"RPUSH", "l", "3", "1", "2", "10", "-1", "1.5"},
	{"SORT", "l"}, {"SORT", "l", "DESC"}, {"SORT", "l", "LIMIT", "1", "2"}, {"SORT", "l", "LIMIT", "-1", "2"},
	{"SORT", "l", "LIMIT", "2", "-5"}, {"SORT", "l", "LIMIT", "9", "1"}, {"SORT", "l", "ALPHA"},
	{"SORT", "l", "alpha", "desc", "limit", "0", "3"}, {"SORT", "l", "ASC", "DESC", "ASC"},
	{"RPUSH", "bad", "1", "x", "2"}, {"SORT", "bad"}, {"SORT", "bad", "ALPHA"},
	{"MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "w_-1", "100", "w_1.5", "7"},
	{"SORT", "l", "BY", "w_*"}, {"SORT", "l", "BY", "w_*", "DESC", "GET", "#", "GET", "w_*"},
	{"SORT", "l", "BY", "nosort"}, {"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"},
	{"SORT", "l", "BY", "w_*", "ALPHA"}, {"SORT", "l", "BY", "missing_*"},
	{"HSET", "h_1", "f", "a"}, {"HSET", "h_2", "f", "b"}, {"HSET", "h_3", "f", "c"},
	{"SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f", "GET", "#"}, {"SORT", "l", "GET", "h_*->f", "GET", "nokey_*"},
	{"SORT", "l", "GET", "nostar"}, {"SORT", "l", "GET", "w_*->"}, {"SORT", "l", "GET", "h_*->f->"},
	{"SORT", "l", "STORE", "dst"}, {"LRANGE", "dst", "0", "-1"}, {"TYPE", "dst"},
	{"SORT", "l", "GET", "h_*->f", "STORE", "dst2"}, {"LRANGE", "dst2", "0", "-1"},
	{"SADD", "s", "b", "a", "c", "10", "2"}, {"SORT", "s", "ALPHA"}, {"SORT", "s", "ALPHA", "DESC", "LIMIT", "1", "3"},
	{"SORT", "s", "BY", "nosort", "STORE", "sdst"}, {"LRANGE", "sdst", "0", "-1"},
	{"ZADD", "z", "3", "a", "1", "b", "2", "c"}, {"SORT", "z", "BY", "nosort"}, {"SORT", "z", "BY", "nosort", "DESC"},
	{"SORT", "z", "ALPHA"}, {"SORT", "z", "BY", "nosort", "LIMIT", "1", "1"},
	{"SORT", "nokey"}, {"SET", "dst", "x"}, {"SORT", "nokey", "STORE", "dst"}, {"EXISTS", "dst"},
	{"SET", "str", "x"}, {"SORT", "str"}, {"SORT", "str", "foo"}, {"SORT", "l", "LIMIT"}, {"SORT", "l", "LIMIT", "a", "1"},
	{"SORT", "l", "foo"}, {"SORT", "l", "STORE"}, {"SORT_RO", "l", "STORE", "x"}, {"SORT_RO", "l", "BY", "w_*", "GET", "#"},
	{"SORT", "l", "GET"}, {"SORT_RO", "str"}, {"SORT_RO", "l", "LIMIT", "0", "2", "DESC"},
	{"RPUSH", "e", "", " 2", "1", "1e2"}, {"SORT", "e"},
	{"RPUSH", "nan", "nan"}, {"SORT", "nan"},
	{"MULTI"}, {"RPUSH", "m", "2", "1"}, {"SORT", "m", "STORE", "m2"}, {"SORT_RO", "m2", "BY", "w_*", "GET", "w_*"},
	{"SORT", "m"}, {"EXEC"},
	{"SORT"},
	{"COMMAND", "GETKEYS", "SORT", "l", "BY", "w_*", "GET", "h_*->f", "STORE", "d"},
	{"COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "w_*", "GET", "#"},
}

// Reference: https://redis.io/docs/latest/commands/sort/ and sort_ro/
func TestDifferentialSort(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	for _, target := range diffTargets(t) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", target.name, proto), func(t *testing.T) {
				diffSortCases(t, redisAddr, target.addr, proto)
			})
		}
	}
}

// diffSortCases sends sortCases to redis-server and to riot at addr.
func diffSortCases(t *testing.T, redisAddr, addr string, proto int) {
	t.Helper()
	ref, got := dialDiffPair(t, redisAddr, addr, proto)
	for _, args := range sortCases {
		ref.send(req(args...))
		got.send(req(args...))
		want, err1 := ref.reply()
		have, err2 := got.reply()
		if err1 != nil || err2 != nil {
			t.Fatalf("%q: %v, %v", args, err1, err2)
		}
		if string(want) != string(have) {
			t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(args, " "), want, have)
		}
	}
}
