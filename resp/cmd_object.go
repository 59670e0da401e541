package resp

import (
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// OBJECT and MEMORY: what Redis reports about a key's representation,
// answered from what riot stores.

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

func (s *session) appendHelp(lines []string) {
	s.out = respwire.AppendArrayLen(s.out, len(lines))
	for _, l := range lines {
		s.out = respwire.AppendSimple(s.out, l)
	}
}

// subcommandArity checks a subcommand's argument count (Redis convention:
// n exactly, -n at least n) and writes Redis's error when it is wrong.
func (s *session) subcommandArity(args [][]byte, name string, arity int) bool {
	if (arity > 0 && len(args) != arity) || (arity < 0 && len(args) < -arity) {
		s.writeErr(errArity(name))
		return false
	}
	return true
}

// lookupForObject reads key for OBJECT/MEMORY; a missing key gets the null
// reply.
func (s *session) lookupForObject(key []byte, fn func(kv.KeyInfo)) {
	err := s.read(func(v *kv.View) error {
		info, ok, err := v.Lookup(key, s.now)
		if err != nil {
			return err
		}
		if !ok {
			s.out = respwire.AppendNull(s.out, s.proto)
			return nil
		}
		fn(info)
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// Reference: https://redis.io/docs/latest/commands/object-encoding/ and
// the other OBJECT subcommands. Riot keeps no access statistics: IDLETIME
// is 0, and FREQ answers as Redis does without an LFU policy.
func cmdObject(s *session, args [][]byte) {
	sub := args[1]
	switch {
	case equalFold(sub, "help"):
		if s.subcommandArity(args, "object|help", 2) {
			s.appendHelp(objectHelp)
		}
	case equalFold(sub, "encoding"):
		if s.subcommandArity(args, "object|encoding", 3) {
			s.lookupForObject(args[2], func(info kv.KeyInfo) {
				enc, err := s.encodingOf(info)
				if err != nil {
					s.writeErr(err)
					return
				}
				s.out = respwire.AppendBulkString(s.out, enc)
			})
		}
	case equalFold(sub, "refcount"):
		if s.subcommandArity(args, "object|refcount", 3) {
			s.lookupForObject(args[2], func(info kv.KeyInfo) {
				s.out = respwire.AppendInt(s.out, refcountOf(info))
			})
		}
	case equalFold(sub, "idletime"):
		if s.subcommandArity(args, "object|idletime", 3) {
			s.lookupForObject(args[2], func(kv.KeyInfo) { s.out = respwire.AppendInt(s.out, 0) })
		}
	case equalFold(sub, "freq"):
		if s.subcommandArity(args, "object|freq", 3) {
			s.lookupForObject(args[2], func(kv.KeyInfo) {
				s.writeErr(redisError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."))
			})
		}
	default:
		s.writeErr(errSubcommand("OBJECT", sub))
	}
}

// encodingOf names the encoding Redis would report: for a string, "int"
// when it is an integer Redis would store as one, "embstr" up to 44 bytes,
// else "raw"; for a collection, the compact encoding when its contents are
// within this node's thresholds (collEncoding).
func (s *session) encodingOf(info kv.KeyInfo) (string, error) {
	if info.Coll != nil {
		return s.collEncoding(info.Coll)
	}
	return encodingOf(info), nil
}

// collEncoding is the encoding Redis 7.0 gives a collection built with
// the contents c has, under the node's thresholds (CONFIG SET
// hash-max-listpack-entries, ...): a hash or sorted set is "listpack" while
// its size and every field, value or member length are within them, else
// "hashtable" or "skiplist"; a set of integers within
// set-max-intset-entries is "intset", else "hashtable". Redis never
// converts back when elements are removed; riot answers from the contents
// (docs/commands.md). A list is "quicklist" whatever it holds, as in
// Redis 7.0 (7.2 added "listpack" for small lists).
func (s *session) collEncoding(c *kv.Coll) (string, error) {
	if c.Type() == kv.TypeList {
		return "quicklist", nil
	}
	var entries, maxLen int64
	compact, big := "listpack", "hashtable"
	switch c.Type() {
	case kv.TypeHash:
		entries, maxLen = s.srv.tunable(hashEntries), s.srv.tunable(hashValue)
	case kv.TypeZSet:
		entries, maxLen, big = s.srv.tunable(zsetEntries), s.srv.tunable(zsetValue), "skiplist"
	case kv.TypeSet:
		entries, maxLen, compact = s.srv.tunable(setIntsetEntries), -1, "intset"
	}
	if c.Len() > entries {
		return big, nil
	}
	fits := true
	err := c.Scan(nil, false, func(field, value []byte) bool {
		switch c.Type() {
		case kv.TypeHash:
			fits = int64(len(field)) <= maxLen && int64(len(value)) <= maxLen
		case kv.TypeZSet:
			fits = int64(len(field)) <= maxLen
		case kv.TypeSet:
			_, err := kv.ParseInt(field)
			fits = err == nil
		}
		return fits
	})
	if err != nil || !fits {
		return big, err
	}
	return compact, nil
}

// encodingOf is the encoding of a string (or of a type riot does not
// implement).
func encodingOf(info kv.KeyInfo) string {
	switch info.Type.String() {
	case "string":
		if _, err := kv.ParseInt(info.Value); err == nil {
			return "int"
		}
		if len(info.Value) <= 44 {
			return "embstr"
		}
		return "raw"
	case "list":
		return "quicklist"
	case "hash", "set":
		return "hashtable"
	case "zset":
		return "skiplist"
	case "stream":
		return "stream"
	}
	return "raw"
}

// refcountOf is OBJECT REFCOUNT: Redis shares the integers 0..9999
// (reported as INT_MAX); every other value has one reference.
func refcountOf(info kv.KeyInfo) int64 {
	if encodingOf(info) == "int" {
		if n, _ := kv.ParseInt(info.Value); n >= 0 && n < 10000 {
			return 1<<31 - 1
		}
	}
	return 1
}

// Reference: https://redis.io/docs/latest/commands/memory-usage/ (riot
// reports the bytes it stores for the key: key, value, header and a fixed
// per-key overhead, not an allocator's figure)
func cmdMemory(s *session, args [][]byte) {
	sub := args[1]
	switch {
	case equalFold(sub, "help"):
		if s.subcommandArity(args, "memory|help", 2) {
			s.appendHelp(memoryHelp)
		}
	case equalFold(sub, "usage"):
		if !s.subcommandArity(args, "memory|usage", -3) {
			return
		}
		samples := int64(5)
		for j := 3; j < len(args); j += 2 {
			if !equalFold(args[j], "samples") || j+1 >= len(args) {
				s.writeErr(errSyntax)
				return
			}
			n, err := kv.ParseInt(args[j+1])
			if err != nil {
				s.writeErr(errNotInteger)
				return
			}
			if n < 0 {
				s.writeErr(errSyntax)
				return
			}
			samples = n
		}
		key := args[2]
		s.lookupForObject(key, func(info kv.KeyInfo) {
			n, err := memoryUsage(key, info, samples)
			if err != nil {
				s.writeErr(err)
				return
			}
			s.out = respwire.AppendInt(s.out, n)
		})
	default:
		s.writeErr(errSubcommand("MEMORY", sub))
	}
}

// keyOverhead approximates the per-key bookkeeping of the engine.
const keyOverhead = 48

// memoryUsage is MEMORY USAGE: the bytes stored for the key, its value
// and its deadline; for a collection, its size times the average stored
// size of its first samples elements (all of them for 0), as Redis samples.
func memoryUsage(key []byte, info kv.KeyInfo, samples int64) (int64, error) {
	n := int64(1+len(key)) + 2 + int64(len(info.Value)) + keyOverhead
	if info.ExpireAt != 0 {
		n += 8 + 9 + int64(len(key)) // the deadline and its index entry
	}
	if c := info.Coll; c != nil {
		var seen, bytes int64
		perElem := int64(8+len(key)+8) + keyOverhead // element key head, key, generation
		if c.Type() == kv.TypeZSet {
			perElem *= 2 // and the score index record
		}
		err := c.Scan(nil, false, func(f, v []byte) bool {
			seen++
			bytes += perElem + int64(len(f)+len(v))
			return samples == 0 || seen < samples
		})
		if err != nil {
			return 0, err
		}
		if seen > 0 {
			n += bytes * c.Len() / seen
		}
	}
	return n, nil
}
