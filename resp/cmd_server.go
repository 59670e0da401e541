package resp

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/respwire"
)

// Reference: https://redis.io/docs/latest/commands/command/
func cmdCommand(s *session, args [][]byte) {
	if len(args) == 1 {
		names := s.srv.commandNames()
		s.out = respwire.AppendArrayLen(s.out, len(names))
		for _, n := range names {
			s.appendCommandInfo(s.srv.commands[n])
		}
		return
	}
	switch sub := strings.ToLower(string(args[1])); sub {
	case "count":
		if len(args) != 2 {
			s.writeErr(errArity("command|count"))
			return
		}
		s.out = respwire.AppendInt(s.out, int64(len(s.srv.commands)))
	case "getkeys":
		s.commandGetKeys(args)
	case "list":
		s.commandList(args)
	case "info":
		names := s.srv.commandNames()
		if len(args) > 2 {
			names = names[:0]
			for _, a := range args[2:] {
				names = append(names, strings.ToLower(string(a)))
			}
		}
		s.out = respwire.AppendArrayLen(s.out, len(names))
		for _, n := range names {
			if c, ok := s.srv.commands[n]; ok {
				s.appendCommandInfo(c)
			} else {
				s.out = respwire.AppendNull(s.out, s.proto) // Redis: a null bulk in RESP2
			}
		}
	case "docs":
		names := s.srv.commandNames()
		if len(args) > 2 {
			names = names[:0]
			for _, a := range args[2:] {
				if _, ok := s.srv.commands[strings.ToLower(string(a))]; ok {
					names = append(names, strings.ToLower(string(a)))
				}
			}
		}
		s.out = respwire.AppendMapLen(s.out, len(names), s.proto)
		for _, n := range names {
			c := s.srv.commands[n]
			s.out = respwire.AppendBulkString(s.out, n)
			s.out = respwire.AppendMapLen(s.out, 3, s.proto)
			s.out = respwire.AppendBulkString(s.out, "summary")
			s.out = respwire.AppendBulkString(s.out, c.summary)
			s.out = respwire.AppendBulkString(s.out, "since")
			s.out = respwire.AppendBulkString(s.out, "1.0.0")
			s.out = respwire.AppendBulkString(s.out, "group")
			s.out = respwire.AppendBulkString(s.out, c.group)
		}
	default:
		s.writeErr(errSubcommand("COMMAND", args[1]))
	}
}

// COMMAND GETKEYS command [arg...]: the key arguments of a command, from
// the table's key positions (Redis's errors, in Redis's order).
func (s *session) commandGetKeys(args [][]byte) {
	if len(args) < 4 { // COMMAND GETKEYS command arg...: Redis's arity -4
		s.writeErr(errArity("command|getkeys"))
		return
	}
	c, ok := s.srv.commands[strings.ToLower(string(args[2]))]
	n := len(args) - 2 // the command's own argc
	switch {
	case !ok:
		s.writeErr(redisError("ERR Invalid command specified"))
		return
	case c.firstKey == 0 && c.keys == nil:
		s.writeErr(redisError("ERR The command has no key arguments"))
		return
	case (c.arity > 0 && c.arity != n) || n < -c.arity:
		s.writeErr(redisError("ERR Invalid number of arguments specified for command"))
		return
	}
	keys := commandKeys(c, args[2:])
	if c.keys != nil && len(keys) == 0 { // a numkeys the arguments do not hold
		s.writeErr(redisError("ERR Invalid arguments specified for command"))
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(keys))
	for _, k := range keys {
		s.out = respwire.AppendBulk(s.out, k)
	}
}

// COMMAND LIST [FILTERBY MODULE m | ACLCAT category | PATTERN pattern]:
// command names. riot has no modules; its ACL categories are the flags
// (read, write, admin, fast) and the group names COMMAND INFO shows.
func (s *session) commandList(args [][]byte) {
	keep := func(*command) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && equalFold(args[2], "filterby"):
		v := args[4]
		switch {
		case equalFold(args[3], "module"):
			keep = func(*command) bool { return false }
		case equalFold(args[3], "aclcat"):
			cat := strings.ToLower(string(v))
			keep = func(c *command) bool { return aclCategory(c.group) == "@"+cat || slices.Contains(c.categories(), cat) }
		case equalFold(args[3], "pattern"):
			g := compileGlob(v, true)
			keep = func(c *command) bool { return g.match([]byte(c.name)) }
		default:
			s.writeErr(errSyntax)
			return
		}
	default:
		s.writeErr(errSyntax)
		return
	}
	var names []string
	for _, n := range s.srv.commandNames() {
		if keep(s.srv.commands[n]) {
			names = append(names, n)
		}
	}
	s.out = respwire.AppendArrayLen(s.out, len(names))
	for _, n := range names {
		s.out = respwire.AppendBulkString(s.out, n)
	}
}

// categories are the ACL categories a command's flags put it in.
func (c *command) categories() []string {
	var cats []string
	for _, f := range []struct {
		flag cmdFlags
		name string
	}{{flagReadonly, "read"}, {flagWrite, "write"}, {flagAdmin, "admin"}, {flagFast, "fast"}, {flagBlocking, "blocking"}} {
		if c.flags&f.flag != 0 {
			cats = append(cats, f.name)
		}
	}
	return cats
}

func (s *Server) commandNames() []string {
	names := make([]string, 0, len(s.commands))
	for n := range s.commands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// appendCommandInfo appends one COMMAND INFO entry: name, arity, flags,
// first key, last key, step, ACL categories, tips, key specs, subcommands.
func (s *session) appendCommandInfo(c *command) {
	var flags []string
	if c.flags&flagWrite != 0 {
		flags = append(flags, "write")
	}
	if c.flags&flagReadonly != 0 {
		flags = append(flags, "readonly")
	}
	if c.flags&flagAdmin != 0 {
		flags = append(flags, "admin")
	}
	if c.flags&flagNoAuth != 0 {
		flags = append(flags, "no_auth")
	}
	if c.flags&flagBlocking != 0 {
		flags = append(flags, "blocking")
	}
	if c.flags&flagFast != 0 {
		flags = append(flags, "fast")
	}
	if c.flags&flagNoMulti != 0 {
		flags = append(flags, "no_multi")
	}
	if c.keys != nil {
		flags = append(flags, "movablekeys")
	}
	s.out = respwire.AppendArrayLen(s.out, 10)
	s.out = respwire.AppendBulkString(s.out, c.name)
	s.out = respwire.AppendInt(s.out, int64(c.arity))
	s.out = respwire.AppendSetLen(s.out, len(flags), s.proto)
	for _, f := range flags {
		s.out = respwire.AppendSimple(s.out, f)
	}
	s.out = respwire.AppendInt(s.out, int64(c.firstKey))
	s.out = respwire.AppendInt(s.out, int64(c.lastKey))
	s.out = respwire.AppendInt(s.out, int64(c.step))
	// ACL categories, in Redis's order: @write or @read, the group, then
	// @fast or @slow for data commands.
	cats := []string{aclCategory(c.group)}
	if c.flags&(flagWrite|flagReadonly) != 0 {
		rw, speed := "@read", "@slow"
		if c.flags&flagWrite != 0 {
			rw = "@write"
		}
		if c.flags&flagFast != 0 {
			speed = "@fast"
		}
		cats = []string{rw, aclCategory(c.group), speed}
		if c.flags&flagBlocking != 0 {
			cats = append(cats, "@blocking")
		}
	}
	s.out = respwire.AppendSetLen(s.out, len(cats), s.proto)
	for _, cat := range cats {
		s.out = respwire.AppendSimple(s.out, cat)
	}
	s.out = respwire.AppendArrayLen(s.out, 0)
	s.appendKeySpecs(c)
	s.out = respwire.AppendArrayLen(s.out, 0)
}

// aclCategory is the ACL category of a command group (COMMAND DOCS's
// group): Redis names the generic commands' @keyspace and the sorted
// sets' @sortedset.
func aclCategory(group string) string {
	switch group {
	case "generic":
		return "@keyspace"
	case "sorted-set":
		return "@sortedset"
	}
	return "@" + group
}

// appendKeySpecs appends a command's key specs (Redis 7's COMMAND INFO
// field 9), from the table: a range of keys from firstKey (a command with
// movable keys: its fixed first key, if any, then the keys its numkeys
// argument counts). Read-only commands' keys are RO and accessed, the
// others' RW and updated.
func (s *session) appendKeySpecs(c *command) {
	flags := [2]string{"RW", "update"}
	if c.flags&flagWrite == 0 {
		flags = [2]string{"RO", "access"}
	}
	type spec struct {
		begin int
		find  string // "range" or "keynum"
		a, b  int    // range: lastkey, keystep
	}
	var specs []spec
	if c.firstKey > 0 && (c.numkeysAt == 0 || c.firstKey < c.numkeysAt) {
		last, step := c.lastKey, max(c.step, 1)
		if last >= 0 {
			last -= c.firstKey
		}
		if c.numkeysAt != 0 {
			last = 0
		}
		specs = append(specs, spec{begin: c.firstKey, find: "range", a: last, b: step})
	}
	if c.numkeysAt != 0 {
		specs = append(specs, spec{begin: c.numkeysAt, find: "keynum"})
	}
	s.out = respwire.AppendArrayLen(s.out, len(specs))
	for _, sp := range specs {
		s.out = respwire.AppendMapLen(s.out, 3, s.proto)
		s.out = respwire.AppendBulkString(s.out, "flags")
		s.out = respwire.AppendSetLen(s.out, 2, s.proto)
		s.out = respwire.AppendSimple(s.out, flags[0])
		s.out = respwire.AppendSimple(s.out, flags[1])
		s.out = respwire.AppendBulkString(s.out, "begin_search")
		s.out = respwire.AppendMapLen(s.out, 2, s.proto)
		s.out = respwire.AppendBulkString(s.out, "type")
		s.out = respwire.AppendBulkString(s.out, "index")
		s.out = respwire.AppendBulkString(s.out, "spec")
		s.out = respwire.AppendMapLen(s.out, 1, s.proto)
		s.out = respwire.AppendBulkString(s.out, "index")
		s.out = respwire.AppendInt(s.out, int64(sp.begin))
		s.out = respwire.AppendBulkString(s.out, "find_keys")
		s.out = respwire.AppendMapLen(s.out, 2, s.proto)
		s.out = respwire.AppendBulkString(s.out, "type")
		s.out = respwire.AppendBulkString(s.out, sp.find)
		s.out = respwire.AppendBulkString(s.out, "spec")
		s.out = respwire.AppendMapLen(s.out, 3, s.proto)
		names := [3]string{"lastkey", "keystep", "limit"}
		vals := [3]int{sp.a, sp.b, 0}
		if sp.find == "keynum" {
			names = [3]string{"keynumidx", "firstkey", "keystep"}
			vals = [3]int{0, 1, 1}
		}
		for i := range names {
			s.out = respwire.AppendBulkString(s.out, names[i])
			s.out = respwire.AppendInt(s.out, int64(vals[i]))
		}
	}
}

// sweepBackend is the optional part of a Backend that reports the
// sweeper's work on this node (kv.FSM.Sweep). *cluster.Router implements
// it.
type sweepBackend interface {
	SweepStats() kv.SweepStats
}

// Reference: https://redis.io/docs/latest/commands/info/
func cmdInfo(s *session, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(string(a))] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	section := func(name string, fields []raftkv.Field) {
		if !all && !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "# %s\r\n", name)
		for _, f := range fields {
			fmt.Fprintf(&b, "%s:%s\r\n", f.Name, f.Value)
		}
	}
	srv := s.srv
	now := time.Now()
	rinfo := srv.backend.RaftInfo()
	section("Server", srv.serverInfo(now))
	section("Clients", srv.clientsInfo())
	section("Memory", srv.memoryInfo())
	section("Persistence", srv.persistenceInfo(rinfo, now))
	section("Stats", srv.statsInfo(rinfo))
	section("Replication", srv.replicationInfo(rinfo))
	section("CPU", cpuInfo())
	section("Raft", rinfo)
	if want["commandstats"] || want["all"] || want["everything"] { // not in the default set, as in Redis
		section("Commandstats", srv.commandStats())
	}
	if srv.sharded() {
		section("Shards", srv.shardsInfo())
	}
	// cluster_enabled first, as Redis: 1 on a sharded node, which answers
	// the CLUSTER commands (redis-cli --cluster reads it).
	clusterFields := []raftkv.Field{field("cluster_enabled", yesNo01(srv.sharded()))}
	if peers, err := srv.backend.Peers(); err == nil {
		fields := append(clusterFields, srv.backend.ForwardInfo()...)
		for i, p := range peers {
			suffrage, role, g := p.Labels()
			fields = append(fields, raftkv.Field{Name: fmt.Sprintf("peer%d", i),
				Value: fmt.Sprintf("id=%s,raft_addr=%s,client_addr=%s,suffrage=%s,role=%s,gossip=%s,applied_index=%d,lag=%d,last_contact_ms=%d,caught_up=%s",
					p.ID, p.RaftAddr, p.ClientAddr, suffrage, role, g, p.Applied, p.Lag, p.LastContactMS(), yesNo(p.CaughtUp))})
		}
		clusterFields = fields
	}
	section("Cluster", clusterFields)
	if all || want["keyspace"] {
		section("Keyspace", s.keyspaceInfo())
	}
	s.out = respwire.AppendVerbatim(s.out, b.String(), s.proto)
}

// keyspaceInfo is INFO's Keyspace section: keys and keys with a deadline
// per database; sharded, of the groups this node leads.
func (s *session) keyspaceInfo() []raftkv.Field {
	backends := []Backend{s.srv.backend}
	if s.srv.sharded() {
		backends = s.srv.cfg.Shards.Led()
	}
	dbs := s.srv.cfg.databases()
	keys, expires := make([]int64, dbs), make([]int64, dbs)
	for _, b := range backends {
		err := b.Read(s.ctx, s.readLevel, func(v *kv.View) error {
			for db := range dbs {
				dv := v.DB(uint8(db))
				n, err := dv.Count(s.now)
				if err != nil {
					return err
				}
				if n == 0 {
					continue
				}
				e, err := dv.CountExpiring(s.now)
				if err != nil {
					return err
				}
				keys[db] += n
				expires[db] += e
			}
			return nil
		})
		if err != nil {
			return nil
		}
	}
	var fields []raftkv.Field
	for db := range dbs {
		if keys[db] > 0 {
			fields = append(fields, raftkv.Field{Name: fmt.Sprintf("db%d", db), Value: fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys[db], expires[db])})
		}
	}
	return fields
}

func yesNo01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func port(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// ROLE: "master" on every node, as INFO's role says (every node takes
// writes; a client that reads "slave" would refuse to write there), with
// this node's applied index as the replication offset and no replicas
// listed: the other nodes are raft peers (RAFT.PEERS), not Redis replicas.
// Reference: https://redis.io/docs/latest/commands/role/
func cmdRole(s *session, _ [][]byte) {
	s.out = respwire.AppendArrayLen(s.out, 3)
	s.out = respwire.AppendBulkString(s.out, "master")
	s.out = respwire.AppendInt(s.out, raftInt(s.srv.backend.RaftInfo(), "fsm_applied_index"))
	s.out = respwire.AppendArrayLen(s.out, 0)
}
