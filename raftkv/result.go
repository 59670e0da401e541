package raftkv

import "errors"

// Errors an operation can produce. They are deterministic outcomes of
// applying a Command (every replica computes the same one), not failures of
// the node; resp turns each into Redis's error text.
var (
	ErrNotInteger = errors.New("raftkv: value is not an integer or out of range")
	ErrOverflow   = errors.New("raftkv: increment or decrement would overflow")
	ErrWrongType  = errors.New("raftkv: wrong type")
	ErrUnknownOp  = errors.New("raftkv: unknown operation")
)

// Errors from proposing a Command.
var (
	// ErrNotLeader: this node is not the leader; the command was not
	// proposed.
	ErrNotLeader = errors.New("raftkv: not the leader")
	// ErrLeadershipLost: the command was proposed but leadership was lost
	// before it committed. It may or may not be applied.
	ErrLeadershipLost = errors.New("raftkv: leadership lost, outcome unknown")
	// ErrShutdown: the node is shutting down.
	ErrShutdown = errors.New("raftkv: node is shut down")
	// ErrTimeout: the command could not be handed to raft in time; it was
	// not proposed.
	ErrTimeout = errors.New("raftkv: timed out enqueuing command")
	// ErrNoLeader: no leader is known.
	ErrNoLeader = errors.New("raftkv: no leader")
	// ErrFailed: the state machine hit a storage error and stopped applying.
	ErrFailed = errors.New("raftkv: state machine failed")
)

// Result is the outcome of applying one Command.
type Result struct {
	// Err is a deterministic operation error such as ErrNotInteger.
	Err error
	// Int is the integer reply (INCRBY's new value, DEL's count).
	Int int64
	// Value is a bulk reply (the old value of SET ... GET), nil if none.
	Value []byte
	// Null marks a nil reply where the command has one.
	Null bool
}
