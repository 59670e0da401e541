package resp

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riotkv/riot/cluster"
)

// redisCompatVersion is the Redis version riot reports, so that clients
// enable the features (RESP3, CLIENT SETINFO) riot implements.
const redisCompatVersion = "7.2.0"

// Reference: https://redis.io/docs/latest/commands/ping/
func cmdPing(s *session, args [][]byte) {
	switch len(args) {
	case 1:
		s.out = appendSimple(s.out, "PONG")
	case 2:
		s.out = appendBulk(s.out, args[1])
	default:
		s.writeErr(errArity("ping"))
	}
}

func cmdEcho(s *session, args [][]byte) { s.out = appendBulk(s.out, args[1]) }

func cmdQuit(s *session, _ [][]byte) {
	s.out = appendOK(s.out)
	s.quit = true
}

// Reference: https://redis.io/docs/latest/commands/select/ (riot has one
// database, 0).
func cmdSelect(s *session, args [][]byte) {
	n, err := strconv.ParseInt(string(args[1]), 10, 64)
	switch {
	case err != nil:
		s.writeErr(errNotInteger)
	case n != 0:
		s.writeErr(errDBIndex)
	default:
		s.out = appendOK(s.out)
	}
}

func cmdReadonly(s *session, _ [][]byte) {
	s.readLevel = cluster.Stale
	s.out = appendOK(s.out)
}

func cmdReadwrite(s *session, _ [][]byte) {
	s.readLevel = cluster.Linearizable
	s.out = appendOK(s.out)
}

// checkPassword reports whether user/pass authenticate as the default user.
func (s *session) checkPassword(user, pass []byte) bool {
	want := s.srv.cfg.RequirePass
	return (user == nil || string(user) == "default") &&
		subtle.ConstantTimeCompare(pass, []byte(want)) == 1
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
	s.out = appendOK(s.out)
}

// Reference: https://redis.io/docs/latest/commands/hello/
func cmdHello(s *session, args [][]byte) {
	proto := s.proto
	i := 1
	if len(args) > 1 {
		v, err := strconv.Atoi(string(args[1]))
		if err != nil {
			s.writeErr(redisError("ERR Protocol version is not an integer or out of range"))
			return
		}
		if v < 2 || v > 3 {
			s.writeErr(redisError("NOPROTO unsupported protocol version"))
			return
		}
		proto = v
		i = 2
	}
	var name []byte
	for ; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			if !s.checkPassword(args[i+1], args[i+2]) {
				s.writeErr(redisError("WRONGPASS invalid username-password pair or user is disabled."))
				return
			}
			s.authed = true
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
	s.out = appendMapLen(s.out, 8, s.proto)
	s.out = appendBulkString(s.out, "server")
	s.out = appendBulkString(s.out, "redis")
	s.out = appendBulkString(s.out, "version")
	s.out = appendBulkString(s.out, redisCompatVersion)
	s.out = appendBulkString(s.out, "proto")
	s.out = appendInt(s.out, int64(s.proto))
	s.out = appendBulkString(s.out, "id")
	s.out = appendInt(s.out, s.id)
	s.out = appendBulkString(s.out, "mode")
	s.out = appendBulkString(s.out, "standalone")
	s.out = appendBulkString(s.out, "role")
	s.out = appendBulkString(s.out, "master")
	s.out = appendBulkString(s.out, "modules")
	s.out = appendArrayLen(s.out, 0)
	s.out = appendBulkString(s.out, "riot_version")
	s.out = appendBulkString(s.out, s.srv.cfg.Version)
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
	switch {
	case sub == "id" && len(args) == 2:
		s.out = appendInt(s.out, s.id)
	case sub == "getname" && len(args) == 2:
		s.mu.Lock()
		name := s.name
		s.mu.Unlock()
		if name == "" {
			s.out = appendNull(s.out, s.proto)
		} else {
			s.out = appendBulkString(s.out, name)
		}
	case sub == "setname" && len(args) == 3:
		if !validClientName(args[2]) {
			s.writeErr(errInvalidName)
			return
		}
		s.mu.Lock()
		s.name = string(args[2])
		s.mu.Unlock()
		s.out = appendOK(s.out)
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
		s.out = appendOK(s.out)
	case sub == "info" && len(args) == 2:
		s.out = appendVerbatim(s.out, s.describe()+"\n", s.proto)
	case sub == "list" && len(args) == 2:
		var b strings.Builder
		for _, o := range s.srv.sessionList() {
			b.WriteString(o.describe())
			b.WriteByte('\n')
		}
		s.out = appendVerbatim(s.out, b.String(), s.proto)
	case sub == "help":
		help := []string{
			"CLIENT <subcommand> [<arg> ...]. Subcommands are:",
			"ID", "    Return the ID of the current connection.",
			"GETNAME", "    Return the name of the current connection.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client meta attributes.",
			"INFO", "    Return information about the current client connection.",
			"LIST", "    Return information about client connections.",
		}
		s.out = appendArrayLen(s.out, len(help))
		for _, h := range help {
			s.out = appendSimple(s.out, h)
		}
	case sub == "id" || sub == "getname" || sub == "setname" || sub == "setinfo" || sub == "info" || sub == "list":
		s.writeErr(redisError(fmt.Sprintf("ERR wrong number of arguments for 'client|%s' command", sub)))
	default:
		s.writeErr(errSubcommand("CLIENT", args[1]))
	}
}

// describe formats the session as one CLIENT LIST line.
func (s *session) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, "id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
		s.id, s.addr, s.conn.LocalAddr(), s.name, int64(time.Since(s.created).Seconds()), s.lastCmd, s.proto, s.libName, s.libVer)
	return b.String()
}
