package resp

import (
	"fmt"
	"math"
	"strconv"

	"github.com/riotkv/riot/kv"
)

// Redis's encoding thresholds (hash-max-listpack-entries, ...). Redis
// switches a small collection's representation on them; riot keeps their
// values per node, as Redis does (CONFIG SET changes them until restart), so
// that OBJECT ENCODING can answer what Redis would and clients and test
// suites that set them keep working. Riot's storage layout does not depend
// on them.

// tunable names one threshold; a parameter and its older alias
// (hash-max-ziplist-entries) share it.
type tunable int

const (
	hashEntries tunable = iota
	hashValue
	setIntsetEntries
	zsetEntries
	zsetValue
	listSize
	listCompressDepth
	nTunables
)

// tunableDefaults are Redis 7.0's defaults (redis.conf).
var tunableDefaults = [nTunables]int64{
	hashEntries: 512, hashValue: 64, setIntsetEntries: 512,
	zsetEntries: 128, zsetValue: 64, listSize: -2, listCompressDepth: 0,
}

// encodingParams are the CONFIG parameters of the thresholds, with Redis's
// types and ranges (config.c): size_t counts and memory values from 0 to
// LONG_MAX, ints over their range.
func encodingParams() map[string]configParam {
	count := func(t tunable) configParam { return tunableParam(t, parseCount(0, math.MaxInt64)) }
	memory := func(t tunable) configParam { return tunableParam(t, parseMemory) }
	return map[string]configParam{
		"hash-max-listpack-entries": count(hashEntries), "hash-max-ziplist-entries": count(hashEntries),
		"hash-max-listpack-value": memory(hashValue), "hash-max-ziplist-value": memory(hashValue),
		"set-max-intset-entries":    count(setIntsetEntries),
		"zset-max-listpack-entries": count(zsetEntries), "zset-max-ziplist-entries": count(zsetEntries),
		"zset-max-listpack-value": memory(zsetValue), "zset-max-ziplist-value": memory(zsetValue),
		"list-max-listpack-size": tunableParam(listSize, parseCount(math.MinInt32, math.MaxInt32)),
		"list-max-ziplist-size":  tunableParam(listSize, parseCount(math.MinInt32, math.MaxInt32)),
		"list-compress-depth":    tunableParam(listCompressDepth, parseCount(0, math.MaxInt32)),
	}
}

func tunableParam(t tunable, parse func([]byte) (int64, error)) configParam {
	return configParam{
		get: func(s *Server) string { return strconv.FormatInt(s.tunable(t), 10) },
		set: func(s *Server, v []byte) error {
			n, err := parse(v)
			if err != nil {
				return err
			}
			s.tunables[t].Store(n)
			return nil
		},
	}
}

// tunable returns a threshold's value on this node.
func (s *Server) tunable(t tunable) int64 { return s.tunables[t].Load() }

// parseCount parses an integer config value within [lo, hi] (config.c
// numericParseString with INTEGER_CONFIG: Redis's strict integers).
func parseCount(lo, hi int64) func([]byte) (int64, error) {
	return func(v []byte) (int64, error) {
		n, err := kv.ParseInt(v)
		if err != nil {
			return 0, fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
		}
		return n, nil
	}
}

// parseMemory parses a memory config value (2mb, 1k, 64) up to LONG_MAX.
func parseMemory(v []byte) (int64, error) {
	n, ok := memToULL(v)
	if !ok {
		return 0, fmt.Errorf("argument must be a memory value")
	}
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("argument must be between 0 and %d inclusive", int64(math.MaxInt64))
	}
	return int64(n), nil
}
