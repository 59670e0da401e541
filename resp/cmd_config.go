package resp

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// CONFIG GET, SET, RESETSTAT, REWRITE, HELP.
//
// The parameters are the ones riot has a Redis equivalent for. Settable on
// this node at runtime: proto-max-bulk-len (the limit this node's RESP
// server applies) and the encoding thresholds (config_encoding.go). The
// others describe how riot works and are fixed: CONFIG SET accepts their
// current value (a no-op, so that clients and test suites that set them to
// what riot does keep working) and refuses any other.

// configParam is one CONFIG parameter.
type configParam struct {
	get func(s *Server) string
	// set changes the value; nil for a fixed parameter.
	set func(s *Server, v []byte) error
	// immutable parameters are refused by CONFIG SET even with their
	// current value, as Redis refuses them.
	immutable bool
}

// minProtoMaxBulkLen is Redis's lower bound for proto-max-bulk-len (1 MB).
const minProtoMaxBulkLen = 1 << 20

// configTable lists the parameters, the encoding thresholds included
// (config_encoding.go). Names are lower case.
var configTable = withParams(encodingParams(), map[string]configParam{
	"databases":   {get: func(s *Server) string { return strconv.Itoa(s.cfg.databases()) }, immutable: true},
	"appendonly":  {get: func(*Server) string { return "yes" }},
	"appendfsync": {get: func(*Server) string { return "always" }},
	"save":        {get: func(*Server) string { return "" }},
	"maxmemory":   {get: func(*Server) string { return "0" }},
	"bind":        {get: func(s *Server) string { return s.cfg.Addr }},
	"proto-max-bulk-len": {
		get: func(s *Server) string { return strconv.Itoa(s.maxBulkLen()) },
		set: func(s *Server, v []byte) error {
			n, ok := memToULL(v)
			if !ok {
				return fmt.Errorf("argument must be a memory value")
			}
			// Redis allows up to LLONG_MAX; riot's state machine never lets
			// a string grow past kv.MaxStringBytes, so neither may a
			// bulk argument.
			if n < minProtoMaxBulkLen || n > kv.MaxStringBytes {
				return fmt.Errorf("argument must be between %d and %d inclusive", minProtoMaxBulkLen, kv.MaxStringBytes)
			}
			s.bulkOverride.Store(int64(n))
			return nil
		},
	},
})

// withParams returns m with the parameters of more added.
func withParams(m, more map[string]configParam) map[string]configParam {
	maps.Copy(m, more)
	return m
}

// maxBulkLen is proto-max-bulk-len: the configured MaxBulkLen, or the value
// CONFIG SET gave it.
func (s *Server) maxBulkLen() int {
	if n := s.bulkOverride.Load(); n > 0 {
		return int(min(n, math.MaxInt))
	}
	return s.cfg.MaxBulkLen
}

// memToULL parses a Redis memory value: digits, then optionally b, k, kb,
// m, mb, g or gb in any case (util.c memtoull).
func memToULL(v []byte) (uint64, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	var mul uint64
	switch unit := strings.ToLower(string(v[i:])); unit {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	var n uint64
	if i > 0 {
		var err error
		if n, err = strconv.ParseUint(string(v[:i]), 10, 64); err != nil {
			return 0, false
		}
	}
	if n > math.MaxUint64/mul {
		return 0, false
	}
	return n * mul, true
}

// Reference: https://redis.io/docs/latest/commands/config/
func cmdConfig(s *session, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "get":
		if len(args) < 3 {
			s.writeErr(redisError("ERR wrong number of arguments for 'config|get' command"))
			return
		}
		configGet(s, args[2:])
	case "set":
		if len(args) < 4 {
			s.writeErr(redisError("ERR wrong number of arguments for 'config|set' command"))
			return
		}
		if len(args)%2 != 0 {
			s.writeErr(errSyntax)
			return
		}
		configSet(s, args[2:])
	case "resetstat":
		if len(args) != 2 {
			s.writeErr(redisError("ERR wrong number of arguments for 'config|resetstat' command"))
			return
		}
		s.srv.resetStats()
		s.out = respwire.AppendOK(s.out)
	case "rewrite":
		if len(args) != 2 {
			s.writeErr(redisError("ERR wrong number of arguments for 'config|rewrite' command"))
			return
		}
		// riot reads flags, RIOT_* variables and its own YAML file, never a
		// redis.conf to rewrite.
		s.writeErr(redisError("ERR The server is running without a config file"))
	case "help":
		help := []string{
			"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.",
			"REWRITE", "    Rewrite the configuration file.",
			"HELP", "    Prints this help.",
		}
		s.out = respwire.AppendArrayLen(s.out, len(help))
		for _, h := range help {
			s.out = respwire.AppendSimple(s.out, h)
		}
	default:
		s.writeErr(errSubcommand("CONFIG", args[1]))
	}
}

// Reference: https://redis.io/docs/latest/commands/config-get/ (unknown
// parameters are simply absent from the reply).
func configGet(s *session, pats [][]byte) {
	names := make([]string, 0, len(configTable))
	for n := range configTable {
		names = append(names, n)
	}
	slices.Sort(names)
	var match []string
	for _, n := range names {
		for _, pat := range pats {
			if globMatch(strings.ToLower(string(pat)), n) {
				match = append(match, n)
				break
			}
		}
	}
	s.out = respwire.AppendMapLen(s.out, len(match), s.proto)
	for _, n := range match {
		s.out = respwire.AppendBulkString(s.out, n)
		s.out = respwire.AppendBulkString(s.out, configTable[n].get(s.srv))
	}
}

// Reference: https://redis.io/docs/latest/commands/config-set/ (config.c
// configSetCommand: every name is checked before any value; the first
// unknown name wins over the other errors; then all values are checked and
// either all are set or none)
func configSet(s *session, pairs [][]byte) {
	var unknown, errName []byte
	var errText string
	seen := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		name := strings.ToLower(string(pairs[i]))
		p, ok := configTable[name]
		switch {
		case !ok:
			if unknown == nil {
				unknown = pairs[i]
			}
		case errText != "":
		case p.immutable:
			errName, errText = pairs[i], "can't set immutable config"
		case seen[name]:
			errName, errText = pairs[i], "duplicate parameter"
		}
		seen[name] = true
	}
	if unknown != nil {
		s.writeErr(redisError(fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", truncate(unknown, 128))))
		return
	}
	if errText == "" {
		// Check every value before setting any: fixed parameters take
		// only their current value; settable ones are parsed by a dry run
		// on a copy.
		for i := 0; i < len(pairs) && errText == ""; i += 2 {
			p := configTable[strings.ToLower(string(pairs[i]))]
			switch {
			case p.set == nil:
				if string(pairs[i+1]) != p.get(s.srv) {
					errName, errText = pairs[i], "riot cannot change it; see docs/commands.md"
				}
			default:
				var dry Server
				if err := p.set(&dry, pairs[i+1]); err != nil {
					errName, errText = pairs[i], err.Error()
				}
			}
		}
	}
	if errText != "" {
		s.writeErr(redisError(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", truncate(errName, 128), errText)))
		return
	}
	for i := 0; i < len(pairs); i += 2 {
		if p := configTable[strings.ToLower(string(pairs[i]))]; p.set != nil {
			_ = p.set(s.srv, pairs[i+1]) // checked above
		}
	}
	s.out = respwire.AppendOK(s.out)
}

// globMatch matches name against a glob pattern, with the same matcher as
// KEYS and SCAN (glob.go).
func globMatch(pat, name string) bool {
	return compileGlob([]byte(pat), false).match([]byte(name))
}

// configParams returns every CONFIG GET parameter with its value.
func (s *Server) configParams() map[string]string {
	m := make(map[string]string, len(configTable))
	for n, p := range configTable {
		m[n] = p.get(s)
	}
	return m
}

// statsBase holds what INFO's counters read at the last CONFIG RESETSTAT.
// The counters themselves stay monotonic (Prometheus reads them); INFO
// shows them minus the base. The zero value is "never reset".
type statsBase struct {
	mu  sync.Mutex
	all statsTotals
	cmd map[string]cmdCounts
}

// statsTotals are INFO # Stats counters.
type statsTotals struct {
	connections, commands int64
	errors                uint64
	netIn, netOut         uint64
	expired               int64
}

func (b *statsBase) get() statsTotals {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.all
}

// sub returns a command's counts since the last reset.
func (b *statsBase) sub(name string, c cmdCounts) cmdCounts {
	b.mu.Lock()
	base := b.cmd[name]
	b.mu.Unlock()
	return cmdCounts{calls: c.calls - base.calls, failed: c.failed - base.failed, rejected: c.rejected - base.rejected, nanos: c.nanos - base.nanos}
}

// resetStats is CONFIG RESETSTAT: INFO's totals and # Commandstats start
// again from 0 (the Prometheus metrics do not).
func (s *Server) resetStats() {
	cmd := make(map[string]cmdCounts, len(s.commands))
	for name, c := range s.commands {
		cmd[name] = c.stats.counts()
	}
	all := statsTotals{connections: s.stats.connections.Load(), commands: s.stats.commands.Load(), errors: s.errorReplies(),
		netIn: s.stats.netIn.Load(), netOut: s.stats.netOut.Load(),
		expired: raftInt(s.backend.RaftInfo(), "riot_expired_keys")}
	s.stats.peakMemory.Store(0) // Redis resets the peak too
	s.resetBase.mu.Lock()
	s.resetBase.all, s.resetBase.cmd = all, cmd
	s.resetBase.mu.Unlock()
}
