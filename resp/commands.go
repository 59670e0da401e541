package resp

import (
	"fmt"
	"strings"

	"github.com/riotkv/riot/kv"
)

type cmdFlags uint16

const (
	flagWrite    cmdFlags = 1 << iota // changes data: proposed through raft
	flagReadonly                      // reads data
	flagAdmin                         // server/cluster administration
	flagNoAuth                        // allowed before AUTH
	flagFast                          // O(1) or O(log n)
	flagStale                         // ignores the read level (connection/server state)
	flagInternal                      // node-to-node; not for clients
	flagNoMulti                       // refused inside MULTI (Redis's no-multi)
	flagBlocking                      // may block the client (BLPOP ...): run by runBlocking
)

// replyFunc appends the reply for a write's result.
type replyFunc func(s *session, r kv.Result)

// command is one row of the command table.
type command struct {
	name  string
	arity int // Redis convention: n exactly, -n at least n (name included)
	flags cmdFlags
	// Key positions, for COMMAND: first, last (-1: last arg), step.
	firstKey, lastKey, step int
	group                   string
	summary                 string

	// Exactly one of run and build is set. run executes now and appends its
	// reply. build turns a write into a raft command and a reply function;
	// the session proposes it without waiting, so pipelined writes batch.
	run   func(s *session, args [][]byte)
	build func(s *session, args [][]byte) (*kv.Command, replyFunc, error)
	// keys returns the key arguments of a command whose keys are not at
	// fixed positions (a numkeys argument: ZUNION, SINTERCARD, ZMPOP, ...);
	// nil: firstKey, lastKey and step say where they are. MULTI's reads
	// and COMMAND GETKEYS use it; COMMAND INFO flags such a command
	// movablekeys.
	keys func(args [][]byte) [][]byte
	// txnBuild, for a read that may read keys its arguments do not name
	// (SORT_RO's BY and GET patterns), builds the command a transaction
	// runs for it instead of a lookup of its keys.
	txnBuild func(s *session, args [][]byte) (*kv.Command, replyFunc, error)
	// block parses a blocking command (flagBlocking); its build, for
	// MULTI, is the non-blocking form (blockBuild).
	block func(args [][]byte) (*blockReq, error)
	// numkeysAt is the position of such a command's numkeys argument (the
	// keys follow it), for its key specs in COMMAND INFO; 0: none.
	numkeysAt int
	// local: propose on this node only (never forward), and hand operation
	// errors to the reply function instead of replying with them. For
	// writes other nodes forwarded here.
	local bool

	// stats counts this command's calls (metrics.go).
	stats cmdStats
}

// newCommandTable builds the command table. The server builds it once and
// never changes it.
func newCommandTable() map[string]*command {
	rows := []*command{
		// connection
		{name: "ping", arity: -1, flags: flagFast | flagStale, group: "connection", summary: "Returns the server's liveliness response.", run: cmdPing},
		{name: "echo", arity: 2, flags: flagFast | flagStale, group: "connection", summary: "Returns the given string.", run: cmdEcho},
		{name: "quit", arity: -1, flags: flagFast | flagNoAuth | flagStale, group: "connection", summary: "Closes the connection.", run: cmdQuit},
		{name: "select", arity: 2, flags: flagFast | flagStale, group: "connection", summary: "Changes the selected database.", run: cmdSelect},
		{name: "hello", arity: -1, flags: flagFast | flagNoAuth | flagStale, group: "connection", summary: "Handshakes with the server.", run: cmdHello},
		{name: "auth", arity: -2, flags: flagFast | flagNoAuth | flagStale, group: "connection", summary: "Authenticates the connection.", run: cmdAuth},
		{name: "client", arity: -2, flags: flagStale, group: "connection", summary: "Connection management: ID, SETNAME, GETNAME, SETINFO, LIST, INFO.", run: cmdClient},
		{name: "readonly", arity: 1, flags: flagFast | flagStale, group: "cluster", summary: "Lets this connection read the local, possibly stale, state.", run: cmdReadonly},
		{name: "asking", arity: 1, flags: flagFast | flagStale, group: "cluster", summary: "Answers OK: a Redis Cluster client sends it before retrying an ASK redirection.", run: cmdAsking},
		{name: "cluster", arity: -2, flags: flagStale, group: "cluster", summary: "Redis Cluster's view of a sharded node: SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT, HELP.", run: cmdCluster},
		{name: "readwrite", arity: 1, flags: flagFast | flagStale, group: "cluster", summary: "Returns this connection to linearizable reads.", run: cmdReadwrite},
		// server
		{name: "command", arity: -1, flags: flagStale, group: "server", summary: "Returns details about commands.", run: cmdCommand},
		{name: "info", arity: -1, flags: flagStale, group: "server", summary: "Returns information and statistics about the server.", run: cmdInfo},
		{name: "config", arity: -2, flags: flagAdmin | flagStale, group: "server", summary: "CONFIG GET, SET, RESETSTAT, REWRITE for the settings riot has.", run: cmdConfig},
		{name: "time", arity: 1, flags: flagFast | flagStale, group: "server", summary: "Returns this node's time.", run: cmdTime},
		{name: "save", arity: 1, flags: flagAdmin | flagStale | flagNoMulti, group: "server", summary: "Takes a raft snapshot on this node and waits for it.", run: cmdSave},
		{name: "bgsave", arity: -1, flags: flagAdmin | flagStale, group: "server", summary: "Takes a raft snapshot on this node in the background.", run: cmdBgsave},
		{name: "lastsave", arity: 1, flags: flagFast | flagStale, group: "server", summary: "Returns the Unix time of the last snapshot on this node.", run: cmdLastsave},
		{name: "shutdown", arity: -1, flags: flagAdmin | flagStale | flagNoMulti, group: "server", summary: "Stops this node gracefully, as SIGTERM does.", run: cmdShutdown},
		{name: "role", arity: 1, flags: flagFast | flagStale, group: "server", summary: "Returns master, this node's applied index and no replicas (every node takes writes).", run: cmdRole},
		{name: "flushdb", arity: -1, flags: flagWrite, group: "server", summary: "Deletes every key of the selected database (one log entry).", build: buildFlush},
		{name: "flushall", arity: -1, flags: flagWrite, group: "server", summary: "Deletes every key of every database (one log entry).", build: buildFlush},
		{name: "swapdb", arity: 3, flags: flagWrite | flagFast, group: "server", summary: "Swaps two databases (one log entry).", build: buildSwapDB},
		// strings (cmd_strings.go, cmd_bits.go)
		{name: "get", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns the string value of a key.", run: cmdGet},
		{name: "mget", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: "string", summary: "Returns the values of several keys.", run: cmdMGet},
		{name: "set", arity: -3, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Sets the string value of a key, with EX/PX/EXAT/PXAT/NX/XX/GET/KEEPTTL.", build: buildSet},
		{name: "setnx", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Sets a key only if it does not exist.", build: buildSetNX},
		{name: "setex", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Sets a key with a TTL in seconds.", build: buildSetEx("setex", optEX)},
		{name: "psetex", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Sets a key with a TTL in milliseconds.", build: buildSetEx("psetex", optPX)},
		{name: "getset", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Sets a key and returns its old value.", build: buildGetSet},
		{name: "getdel", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns a key's value and deletes it.", build: buildGetDel},
		{name: "getex", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns a key's value and sets or removes its TTL.", build: buildGetEx},
		{name: "mset", arity: -3, flags: flagWrite, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Sets several keys atomically.", build: buildMSet},
		{name: "msetnx", arity: -3, flags: flagWrite, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Sets several keys atomically, only if none exists.", build: buildMSetNX},
		{name: "incr", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increments an integer value by one.", build: buildIncr(1)},
		{name: "decr", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Decrements an integer value by one.", build: buildIncr(-1)},
		{name: "incrby", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increments an integer value.", build: buildIncrBy(1)},
		{name: "decrby", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Decrements an integer value.", build: buildIncrBy(-1)},
		{name: "incrbyfloat", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increments a floating point value.", build: buildIncrByFloat},
		{name: "append", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Appends to a string.", build: buildAppend},
		{name: "strlen", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns the length of a string.", run: cmdStrlen},
		{name: "getrange", arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns a substring.", run: cmdGetRange},
		{name: "substr", arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Returns a substring (old name of GETRANGE).", run: cmdGetRange},
		{name: "setrange", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Overwrites part of a string.", build: buildSetRange},
		{name: "setbit", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Sets or clears a bit.", build: buildSetBit},
		{name: "getbit", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Returns a bit.", run: cmdGetBit},
		{name: "lcs", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 2, step: 1, group: "string", summary: "Finds the longest common subsequence of two strings.", run: cmdLCS},
		{name: "bitcount", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Counts the set bits of a string or a range.", run: cmdBitCount},
		// keyspace (cmd_keys.go, cmd_object.go)
		{name: "exists", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Counts how many of the keys exist.", run: cmdExists},
		{name: "touch", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Counts how many of the keys exist (riot keeps no access times).", run: cmdTouch},
		{name: "del", arity: -2, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Deletes keys.", build: buildDel},
		{name: "unlink", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Deletes keys (same as DEL).", build: buildDel},
		{name: "type", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Returns the type of a key.", run: cmdType},
		{name: "keys", arity: 2, flags: flagReadonly, group: "generic", summary: "Returns the keys matching a pattern.", run: cmdKeys},
		{name: "scan", arity: -2, flags: flagReadonly, group: "generic", summary: "Iterates over the keys.", run: cmdScan},
		{name: "randomkey", arity: 1, flags: flagReadonly, group: "generic", summary: "Returns a key.", run: cmdRandomKey},
		{name: "dbsize", arity: 1, flags: flagReadonly, group: "server", summary: "Returns the number of keys.", run: cmdDBSize},
		{name: "rename", arity: 3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Renames a key, overwriting the destination.", build: buildRename},
		{name: "renamenx", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Renames a key if the destination does not exist.", build: buildRenameNX},
		{name: "copy", arity: -3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Copies a key.", build: buildCopy},
		{name: "move", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Moves a key to another database.", build: buildMove},
		{name: "object", arity: -2, flags: flagReadonly, firstKey: 2, lastKey: 2, step: 1, group: "generic", summary: "OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ, HELP.", run: cmdObject},
		{name: "memory", arity: -2, flags: flagReadonly, group: "server", summary: "MEMORY USAGE, HELP.", run: cmdMemory},
		// expiry (cmd_expire.go)
		{name: "expire", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sets a key's TTL in seconds.", build: buildExpire("expire", true, false)},
		{name: "pexpire", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sets a key's TTL in milliseconds.", build: buildExpire("pexpire", false, false)},
		{name: "expireat", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sets a key's deadline as a Unix time in seconds.", build: buildExpire("expireat", true, true)},
		{name: "pexpireat", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Sets a key's deadline as a Unix time in milliseconds.", build: buildExpire("pexpireat", false, true)},
		{name: "persist", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Removes a key's TTL.", build: buildPersist},
		{name: "ttl", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Returns a key's TTL in seconds.", run: cmdTTL(ttlReply{})},
		{name: "pttl", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Returns a key's TTL in milliseconds.", run: cmdTTL(ttlReply{ms: true})},
		{name: "expiretime", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Returns a key's deadline as a Unix time in seconds.", run: cmdTTL(ttlReply{absolute: true})},
		{name: "pexpiretime", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Returns a key's deadline as a Unix time in milliseconds.", run: cmdTTL(ttlReply{ms: true, absolute: true})},
		// transactions (cmd_multi.go)
		{name: "multi", arity: 1, flags: flagFast | flagStale, group: "transactions", summary: "Starts a transaction.", run: cmdMulti},
		{name: "exec", arity: 1, flags: flagStale, group: "transactions", summary: "Executes the queued commands as one log entry.", run: cmdExec},
		{name: "discard", arity: 1, flags: flagFast | flagStale, group: "transactions", summary: "Discards a transaction.", run: cmdDiscard},
		{name: "watch", arity: -2, flags: flagFast | flagStale, firstKey: 1, lastKey: -1, step: 1, group: "transactions", summary: "Makes EXEC abort if a key changes before it.", run: cmdWatch},
		{name: "unwatch", arity: 1, flags: flagFast | flagStale, group: "transactions", summary: "Forgets the watched keys.", run: cmdUnwatch},
		// cluster
		{name: "raft.state", arity: 1, flags: flagAdmin | flagStale, group: "cluster", summary: "Returns this node's raft role.", run: cmdRaftState},
		{name: "raft.info", arity: -1, flags: flagAdmin | flagStale, group: "cluster", summary: "Returns this node's raft figures.", run: cmdRaftInfo},
		{name: "raft.join", arity: -3, flags: flagAdmin | flagStale, group: "cluster", summary: "Adds a server to the raft configuration.", run: cmdRaftJoin},
		{name: "raft.leave", arity: 2, flags: flagAdmin | flagStale, group: "cluster", summary: "Removes a server from the raft configuration.", run: cmdRaftLeave},
		{name: "raft.remove", arity: 2, flags: flagAdmin | flagStale, group: "cluster", summary: "Alias of RAFT.LEAVE.", run: cmdRaftLeave},
		{name: "raft.peers", arity: 1, flags: flagAdmin | flagStale, group: "cluster", summary: "Lists the servers of the cluster.", run: cmdRaftPeers},
		{name: "raft.groups", arity: 1, flags: flagAdmin | flagStale, group: "cluster", summary: "Lists the data groups of a sharded cluster.", run: cmdRaftGroups},
		{name: "raft.leader", arity: 1, flags: flagAdmin | flagStale, group: "cluster", summary: "Returns the leader's ID and addresses.", run: cmdRaftLeader},
		{name: "raft.transfer", arity: -1, flags: flagAdmin | flagStale, group: "cluster", summary: "Moves leadership to another voter.", run: cmdRaftTransfer},
		{name: "riot.auth", arity: 2, flags: flagFast | flagNoAuth | flagStale, group: "internal", summary: "Authenticates a connection as a cluster node, with the node secret (internal).", run: cmdRiotAuth},
		{name: "riot.announce", arity: 4, flags: flagInternal | flagStale, group: "internal", summary: "Records a node's addresses in the address book (internal).", run: cmdRiotAnnounce},
		{name: "riot.apply", arity: -2, flags: flagWrite | flagInternal, group: "internal", summary: "Applies a write forwarded by another node (internal).", build: buildRiotApply, local: true},
		{name: "riot.readindex", arity: -1, flags: flagInternal | flagStale, group: "internal", summary: "Returns a read index confirmed by the leader (internal).", run: cmdRiotReadIndex},
		{name: "riot.member", arity: 2, flags: flagInternal | flagStale, group: "internal", summary: "Returns 1 if a server is in the leader's configuration (internal).", run: cmdRiotMember},
		{name: "riot.removed", arity: 3, flags: flagInternal | flagStale, group: "internal", summary: "Tells a node the leader removed it from the configuration (internal).", run: cmdRiotRemoved},
		{name: "riot.confirm", arity: -1, flags: flagInternal | flagStale, group: "internal", summary: "Returns this node's term and leader, for a leader's read-index round (internal).", run: cmdRiotConfirm},
		{name: "raft.snapshot", arity: 1, flags: flagAdmin | flagStale, group: "cluster", summary: "Takes a raft snapshot on this node.", run: cmdRaftSnapshot},
		{name: "raft.backup", arity: -1, flags: flagAdmin | flagStale, group: "cluster", summary: "Returns a consistent backup of the data, or of one data group of a sharded cluster (for riot-server --restore).", run: cmdRaftBackup},
	}
	// Collections: each family's rows are in its file.
	rows = append(rows, hashCommands()...)
	rows = append(rows, setCommands()...)
	rows = append(rows, zsetCommands()...)
	rows = append(rows, zsetStoreCommands()...)
	rows = append(rows, listCommands()...)
	rows = append(rows, bitCommands()...)
	rows = append(rows, sortCommands()...)
	rows = append(rows, blockingCommands()...)
	t := make(map[string]*command, len(rows))
	for _, c := range rows {
		if c.block != nil {
			c.build = c.blockBuild
		}
		if _, dup := t[c.name]; dup || (c.run == nil) == (c.build == nil) {
			panic("resp: bad command table row " + c.name) // a programming error
		}
		t[c.name] = c
	}
	return t
}

// lookup finds the command for args and checks its arity. On failure it
// returns nil and the error reply.
func lookup(table map[string]*command, args [][]byte) (*command, string) {
	// Fold ASCII letters only, as Redis does: Unicode folding would take
	// "\u0130NFO" for INFO.
	var small [32]byte
	lower := small[:0]
	if len(args[0]) > len(small) {
		lower = make([]byte, 0, len(args[0]))
	}
	for _, c := range args[0] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	cmd, ok := table[string(lower)] // no allocation: map lookup by converted slice
	if !ok {
		return nil, unknownCommand(args)
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || (cmd.arity < 0 && len(args) < -cmd.arity) {
		return nil, string(errArity(cmd.name))
	}
	return cmd, ""
}

// unknownCommand builds Redis's reply for an unknown command: the name cut
// to 128 bytes, then the quoted arguments within a 128-byte budget
// (server.c commandCheckExistence).
func unknownCommand(args [][]byte) string {
	var quoted strings.Builder
	for _, a := range args[1:] {
		if quoted.Len() >= 128 {
			break
		}
		fmt.Fprintf(&quoted, "'%s' ", truncate(a, 128-quoted.Len()))
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", truncate(args[0], 128), quoted.String())
}
