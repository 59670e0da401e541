package resp

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// redisCompatVersion is the Redis version riot reports, so that clients
// enable the features (RESP3, CLIENT SETINFO) riot implements.
const redisCompatVersion = "7.2.0"

// Reference: https://redis.io/docs/latest/commands/ping/
func cmdPing(s *session, args [][]byte) {
	switch len(args) {
	case 1:
		s.out = respwire.AppendSimple(s.out, "PONG")
	case 2:
		s.out = respwire.AppendBulk(s.out, args[1])
	default:
		s.writeErr(errArity("ping"))
	}
}

func cmdEcho(s *session, args [][]byte) { s.out = respwire.AppendBulk(s.out, args[1]) }

func cmdQuit(s *session, _ [][]byte) {
	s.out = respwire.AppendOK(s.out)
	s.quit = true
}

// Reference: https://redis.io/docs/latest/commands/select/
func cmdSelect(s *session, args [][]byte) {
	db, err := s.dbIndex(args[1], nil)
	if err != nil {
		s.writeErr(err)
		return
	}
	s.db = db
	s.out = respwire.AppendOK(s.out)
}

// dbIndex parses a database index as Redis's getIntFromObjectOrReply and
// selectDb do: msg for what is not an int (as Redis: no "+0", "00" or
// "-0"; nil: errNotInteger, or errIntRange past an int), "DB index is out
// of range" for a database the node does not have (--databases).
func (s *session) dbIndex(arg []byte, msg error) (uint8, error) {
	n, err := kv.ParseInt(arg)
	switch {
	case err != nil && msg != nil, err == nil && msg != nil && (n < math.MinInt32 || n > math.MaxInt32):
		return 0, msg
	case err != nil:
		return 0, errNotInteger
	case n < math.MinInt32 || n > math.MaxInt32:
		return 0, errIntRange
	case n < 0 || n >= int64(s.srv.cfg.databases()):
		return 0, errDBIndex
	}
	return uint8(n), nil
}

func cmdReadonly(s *session, _ [][]byte) {
	s.readLevel = cluster.Stale
	s.out = respwire.AppendOK(s.out)
}

func cmdReadwrite(s *session, _ [][]byte) {
	s.readLevel = cluster.Linearizable
	s.out = respwire.AppendOK(s.out)
}

// checkPassword reports whether user/pass authenticate as the default user.
// Without requirepass the default user is Redis's "nopass" user: any
// password authenticates it (AUTH default x, HELLO 3 AUTH default x).
func (s *session) checkPassword(user, pass []byte) bool {
	want := s.srv.cfg.RequirePass
	if user != nil && string(user) != "default" {
		return false
	}
	return want == "" || subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

// Reference: https://redis.io/docs/latest/commands/auth/
func cmdAuth(s *session, args [][]byte) {
	if len(args) > 3 {
		s.writeErr(errSyntax)
		return
	}
	if s.srv.cfg.RequirePass == "" {
		if len(args) == 2 {
			s.writeErr(redisError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
			return
		}
	}
	var user []byte
	pass := args[1]
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	if !s.checkPassword(user, pass) {
		s.writeErr(redisError("WRONGPASS invalid username-password pair or user is disabled."))
		return
	}
	s.authed = true
	s.out = respwire.AppendOK(s.out)
}

// Reference: https://redis.io/docs/latest/commands/hello/
func cmdHello(s *session, args [][]byte) {
	proto := s.proto
	i := 1
	if len(args) > 1 {
		v, err := kv.ParseInt(args[1])
		if err != nil {
			s.writeErr(redisError("ERR Protocol version is not an integer or out of range"))
			return
		}
		if v < 2 || v > 3 {
			s.writeErr(redisError("NOPROTO unsupported protocol version"))
			return
		}
		proto = int(v)
		i = 2
	}
	// As Redis: every option is parsed first, then AUTH is checked, then
	// the name is set; an error anywhere changes nothing.
	var name, user, pass []byte
	for ; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			user, pass = args[i+1], args[i+2]
			i += 2
		case opt == "setname" && i+1 < len(args):
			if !validClientName(args[i+1]) {
				s.writeErr(errInvalidName)
				return
			}
			name = args[i+1]
			i++
		default:
			s.writeErr(redisError(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", truncate(args[i], 128))))
			return
		}
	}
	if user != nil {
		if !s.checkPassword(user, pass) {
			s.writeErr(redisError("WRONGPASS invalid username-password pair or user is disabled."))
			return
		}
		s.authed = true
	}
	if !s.authed {
		s.writeErr(redisError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"))
		return
	}
	s.mu.Lock()
	if name != nil {
		s.name = string(name)
	}
	s.proto = proto
	s.mu.Unlock()
	s.out = respwire.AppendMapLen(s.out, 8, s.proto)
	s.out = respwire.AppendBulkString(s.out, "server")
	s.out = respwire.AppendBulkString(s.out, "redis")
	s.out = respwire.AppendBulkString(s.out, "version")
	s.out = respwire.AppendBulkString(s.out, redisCompatVersion)
	s.out = respwire.AppendBulkString(s.out, "proto")
	s.out = respwire.AppendInt(s.out, int64(s.proto))
	s.out = respwire.AppendBulkString(s.out, "id")
	s.out = respwire.AppendInt(s.out, s.id)
	s.out = respwire.AppendBulkString(s.out, "mode")
	s.out = respwire.AppendBulkString(s.out, "standalone")
	s.out = respwire.AppendBulkString(s.out, "role")
	s.out = respwire.AppendBulkString(s.out, "master")
	s.out = respwire.AppendBulkString(s.out, "modules")
	s.out = respwire.AppendArrayLen(s.out, 0)
	s.out = respwire.AppendBulkString(s.out, "riot_version")
	s.out = respwire.AppendBulkString(s.out, s.srv.cfg.Version)
}

func validClientName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// Reference: https://redis.io/docs/latest/commands/client/
func cmdClient(s *session, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	if _, known := clientSubcommands[sub]; known {
		s.mu.Lock()
		s.lastCmd = "client|" + sub // as Redis shows it in CLIENT LIST
		s.mu.Unlock()
	}
	switch {
	case sub == "id" && len(args) == 2:
		s.out = respwire.AppendInt(s.out, s.id)
	case sub == "getname" && len(args) == 2:
		s.mu.Lock()
		name := s.name
		s.mu.Unlock()
		if name == "" {
			s.out = respwire.AppendNull(s.out, s.proto)
		} else {
			s.out = respwire.AppendBulkString(s.out, name)
		}
	case sub == "setname" && len(args) == 3:
		if !validClientName(args[2]) {
			s.writeErr(errInvalidName)
			return
		}
		s.mu.Lock()
		s.name = string(args[2])
		s.mu.Unlock()
		s.out = respwire.AppendOK(s.out)
	case sub == "setinfo" && len(args) == 4:
		attr := strings.ToLower(string(args[2]))
		if attr != "lib-name" && attr != "lib-ver" {
			s.writeErr(redisError(fmt.Sprintf("ERR Unrecognized option '%s'", truncate(args[2], 128))))
			return
		}
		if !validClientName(args[3]) {
			s.writeErr(redisError("ERR " + attr + " cannot contain spaces, newlines or special characters."))
			return
		}
		s.mu.Lock()
		if attr == "lib-name" {
			s.libName = string(args[3])
		} else {
			s.libVer = string(args[3])
		}
		s.mu.Unlock()
		s.out = respwire.AppendOK(s.out)
	case sub == "info" && len(args) == 2:
		s.out = respwire.AppendVerbatim(s.out, s.describe()+"\n", s.proto)
	case sub == "list":
		clientList(s, args)
	case sub == "kill" && len(args) >= 3:
		clientKill(s, args)
	case sub == "unblock" && (len(args) == 3 || len(args) == 4):
		clientUnblock(s, args)
	case sub == "help":
		help := []string{
			"CLIENT <subcommand> [<arg> ...]. Subcommands are:",
			"ID", "    Return the ID of the current connection.",
			"GETNAME", "    Return the name of the current connection.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client meta attributes.",
			"INFO", "    Return information about the current client connection.",
			"KILL <ip:port>", "    Kill connection made from <ip:port>.",
			"KILL <option> <value> [<option> <value> [...]]",
			"    Kill connections. Options are:",
			"    * ADDR (<ip:port>|<unixsocket>:0)",
			"      Kill connections made from the specified address",
			"    * LADDR (<ip:port>|<unixsocket>:0)",
			"      Kill connections made to specified local address",
			"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
			"      Kill connections by type.",
			"    * USER <username>",
			"      Kill connections authenticated by <username>.",
			"    * SKIPME (YES|NO)",
			"      Skip killing current connection (default: yes).",
			"    * ID <client-id>",
			"      Kill connections by client id.",
			"UNBLOCK <clientid> [TIMEOUT|ERROR]",
			"    Unblock the specified blocked client.",
			"LIST [options ...]",
			"    Return information about client connections. Options:",
			"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
			"      Return clients of specified type.",
			"    * ID <client-id> [<client-id> ...]",
			"      Return clients with the given IDs.",
		}
		s.out = respwire.AppendArrayLen(s.out, len(help))
		for _, h := range help {
			s.out = respwire.AppendSimple(s.out, h)
		}
	case clientSubcommands[sub]:
		s.writeErr(redisError(fmt.Sprintf("ERR wrong number of arguments for 'client|%s' command", sub)))
	default:
		s.writeErr(errSubcommand("CLIENT", args[1]))
	}
}

// clientSubcommands are the CLIENT subcommands riot has.
var clientSubcommands = map[string]bool{
	"id": true, "getname": true, "setname": true, "setinfo": true,
	"info": true, "list": true, "kill": true, "help": true, "unblock": true,
}

// clientType parses a client type as Redis's getClientTypeByName does. riot
// has only normal clients: every other type matches none.
func clientType(b []byte) (normal, ok bool) {
	switch strings.ToLower(string(b)) {
	case "normal":
		return true, true
	case "master", "slave", "replica", "pubsub":
		return false, true
	}
	return false, false
}

// Reference: https://redis.io/docs/latest/commands/client-list/ (TYPE t,
// or ID id...)
func clientList(s *session, args [][]byte) {
	sessions := s.srv.sessionList()
	switch {
	case len(args) == 2:
	case len(args) == 4 && equalFold(args[2], "type"):
		normal, ok := clientType(args[3])
		if !ok {
			s.writeErr(redisError(fmt.Sprintf("ERR Unknown client type '%s'", truncate(args[3], 128))))
			return
		}
		if !normal {
			sessions = nil
		}
	case len(args) > 3 && equalFold(args[2], "id"):
		byID := make(map[int64]*session, len(sessions))
		for _, o := range sessions {
			byID[o.id] = o
		}
		var picked []*session
		for _, a := range args[3:] {
			id, err := strconv.ParseInt(string(a), 10, 64)
			if err != nil {
				s.writeErr(redisError("ERR Invalid client ID"))
				return
			}
			if o, ok := byID[id]; ok {
				picked = append(picked, o) // in the order asked, repeats included
			}
		}
		sessions = picked
	default:
		s.writeErr(errSyntax)
		return
	}
	var b strings.Builder
	for _, o := range sessions {
		b.WriteString(o.describe())
		b.WriteByte('\n')
	}
	s.out = respwire.AppendVerbatim(s.out, b.String(), s.proto)
}

// Reference: https://redis.io/docs/latest/commands/client-kill/ (the old
// form CLIENT KILL addr:port replies OK or "No such client" and may kill
// the caller; the new form takes ID, ADDR, LADDR, TYPE, USER and SKIPME
// filters, all of which must match, and replies with the number killed)
func clientKill(s *session, args [][]byte) {
	var addr, laddr []byte
	var id int64
	skipMe, typeNormal := true, true
	if len(args) == 3 {
		addr, skipMe = args[2], false
	} else {
		for i := 2; i < len(args); i += 2 {
			if i+1 >= len(args) {
				s.writeErr(errSyntax)
				return
			}
			v := args[i+1]
			switch {
			case equalFold(args[i], "id"):
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil || n < 1 {
					s.writeErr(redisError("ERR client-id should be greater than 0"))
					return
				}
				id = n
			case equalFold(args[i], "type"):
				normal, ok := clientType(v)
				if !ok {
					s.writeErr(redisError(fmt.Sprintf("ERR Unknown client type '%s'", truncate(v, 128))))
					return
				}
				typeNormal = normal
			case equalFold(args[i], "addr"):
				addr = v
			case equalFold(args[i], "laddr"):
				laddr = v
			case equalFold(args[i], "user"):
				if string(v) != "default" {
					s.writeErr(redisError(fmt.Sprintf("ERR No such user '%s'", truncate(v, 128))))
					return
				}
			case equalFold(args[i], "skipme"):
				switch {
				case equalFold(v, "yes"):
					skipMe = true
				case equalFold(v, "no"):
					skipMe = false
				default:
					s.writeErr(errSyntax)
					return
				}
			default:
				s.writeErr(errSyntax)
				return
			}
		}
	}
	killed := 0
	for _, o := range s.srv.sessionList() {
		switch {
		case !typeNormal,
			addr != nil && string(addr) != o.addr,
			laddr != nil && string(laddr) != o.conn.LocalAddr().String(),
			id != 0 && o.id != id,
			o == s && skipMe:
			continue
		}
		if o == s {
			s.quit = true // closed once this reply is written, as Redis does
		} else {
			o.kill()
		}
		killed++
	}
	switch {
	case len(args) != 3:
		s.out = respwire.AppendInt(s.out, int64(killed))
	case killed == 0:
		s.writeErr(redisError("ERR No such client"))
	default:
		s.out = respwire.AppendOK(s.out)
	}
}

// kill closes another session's connection and takes it off the client
// list at once, as Redis frees a killed client: its reads and writes fail
// and its goroutine ends (a command it is running finishes first; the reply
// is lost).
func (s *session) kill() {
	_ = s.conn.Close()
	s.srv.removeSession(s)
}

// fd returns the connection's file descriptor, or -1.
func (s *session) fd() int {
	fd := -1
	if sc, ok := s.conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// describe formats the session as one CLIENT LIST line, in Redis 7.2's
// format; the fields riot has no equivalent for (memory, buffers) are 0.
func (s *session) describe() string {
	fd := s.fd()
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	idle := int64(0)
	if s.lastAt > 0 {
		idle = max(0, (now.UnixMilli()-s.lastAt)/1000)
	}
	cmd := s.lastCmd
	if cmd == "" {
		cmd = "NULL"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=0 psub=0 ssub=0 multi=%d watch=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
		s.id, s.addr, s.conn.LocalAddr(), fd, s.name, int64(now.Sub(s.created).Seconds()), idle, s.listed.flags, s.listed.db, s.listed.multi, s.listed.watch, cmd, s.proto, s.libName, s.libVer)
	return b.String()
}
