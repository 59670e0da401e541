package raftkv

import "errors"

// Errors from proposing a Command.
var (
	// ErrNotLeader: this node is not the leader; the command was not
	// proposed.
	ErrNotLeader = errors.New("raftkv: not the leader")
	// ErrLeadershipLost: the command was proposed but leadership was lost
	// before it committed. It may or may not be applied.
	ErrLeadershipLost = errors.New("raftkv: leadership lost, outcome unknown")
	// ErrNotConfirmed: a read index could not be confirmed (no majority of
	// voters confirmed this leader's term in time, or leadership moved).
	// Nothing was read; the read may be retried.
	ErrNotConfirmed = errors.New("raftkv: leadership not confirmed for a read")
	// ErrShutdown: the node is shutting down.
	ErrShutdown = errors.New("raftkv: node is shut down")
	// ErrTimeout: the command could not be handed to raft in time; it was
	// not proposed.
	ErrTimeout = errors.New("raftkv: timed out enqueuing command")
	// ErrNoLeader: no leader is known.
	ErrNoLeader = errors.New("raftkv: no leader")
	// ErrUnknownOutcome: the command was proposed, and may be committed and
	// applied by the other replicas, but this node's state machine stopped
	// before it could apply it: its outcome is unknown here.
	ErrUnknownOutcome = errors.New("raftkv: outcome unknown")
)
