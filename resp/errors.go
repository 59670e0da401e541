package resp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/respwire"
)

// redisError is an error whose text is already a Redis reply ("ERR ...",
// "WRONGTYPE ...").
type redisError string

func (e redisError) Error() string { return string(e) }

// Replies shared by many commands, with Redis's exact text.
const (
	errSyntax      = redisError("ERR syntax error")
	errNotInteger  = redisError("ERR value is not an integer or out of range")
	errWrongType   = redisError("WRONGTYPE Operation against a key holding the wrong kind of value")
	errDBIndex     = redisError("ERR DB index is out of range")
	errInvalidName = redisError("ERR Client names cannot contain spaces, newlines or special characters.")
)

// errExpireTime is Redis's reply to an expiry out of range.
func errExpireTime(cmd string) redisError {
	return redisError(fmt.Sprintf("ERR invalid expire time in '%s' command", cmd))
}

// equalFold reports whether b equals the lower-case word w, ignoring ASCII
// case only (as Redis's strcasecmp: no Unicode folding).
func equalFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

func errArity(name string) redisError {
	return redisError(fmt.Sprintf("ERR wrong number of arguments for '%s' command", name))
}

func errSubcommand(cmd string, sub []byte) redisError {
	return redisError(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", truncate(sub, 128), cmd))
}

// errorText turns any error into the text of a RESP error reply. It is the
// one place where riot's errors meet the protocol.
func errorText(err error) string {
	var re redisError
	var pe *respwire.ProtocolError
	var remote *cluster.RemoteError
	var kre kv.ReplyError
	switch {
	case errors.As(err, &re):
		return string(re)
	case errors.As(err, &kre):
		return string(kre)
	case errors.As(err, &remote):
		return remote.Msg
	case errors.As(err, &pe):
		return "ERR " + pe.Error()
	case errors.Is(err, raftkv.ErrUnknownOutcome):
		return "UNCERTAIN this node's state machine stopped before applying the write; it may or may not have been applied (" + err.Error() + ")"
	case errors.Is(err, kv.ErrNotInteger):
		return string(errNotInteger)
	case errors.Is(err, kv.ErrOverflow):
		return "ERR increment or decrement would overflow"
	case errors.Is(err, kv.ErrWrongType):
		return string(errWrongType)
	case errors.Is(err, kv.ErrTooLong):
		return "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	case errors.Is(err, kv.ErrNotFloat):
		return "ERR value is not a valid float"
	case errors.Is(err, kv.ErrNaNOrInf):
		return "ERR increment would produce NaN or Infinity"
	case errors.Is(err, kv.ErrNoSuchKey):
		return "ERR no such key"
	case errors.Is(err, kv.ErrInvalidExpire):
		return string(errExpireTime("getex")) // only GETEX reports it while applying
	case errors.Is(err, cluster.ErrNoLeader):
		return "CLUSTERDOWN no raft leader is elected; try again later"
	case errors.Is(err, kv.ErrSharded):
		return "TRYAGAIN the cluster is sharded and this node had not learned it yet; nothing was applied"
	case errors.Is(err, cluster.ErrNotLeader), errors.Is(err, raftkv.ErrNotLeader):
		return "TRYAGAIN " + err.Error() + "; nothing was applied"
	case errors.Is(err, raftkv.ErrNotConfirmed):
		return "TRYAGAIN leadership could not be confirmed for a linearizable read; nothing was read"
	case errors.Is(err, raftkv.ErrTimeout):
		return "TRYAGAIN raft is overloaded; nothing was applied"
	case errors.Is(err, raftkv.ErrLeadershipLost):
		return "UNCERTAIN leadership was lost before the write committed; it may or may not have been applied"
	case errors.Is(err, raftkv.ErrShutdown):
		return "UNCERTAIN the node is shutting down; the command may or may not have been applied"
	case errors.Is(err, raftkv.ErrBadAddr), errors.Is(err, raftkv.ErrIDConflict),
		errors.Is(err, raftkv.ErrAddrConflict), errors.Is(err, raftkv.ErrUnknownServer),
		errors.Is(err, raftkv.ErrLastVoter), errors.Is(err, raftkv.ErrNotVoter),
		errors.Is(err, raftkv.ErrNoOtherVoter), errors.Is(err, raftkv.ErrSelfTransfer):
		return "ERR " + strings.TrimPrefix(err.Error(), "raftkv: ")
	case errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT the command timed out; a write may or may not have been applied"
	}
	return "ERR " + err.Error()
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
