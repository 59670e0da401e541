package kv

import "errors"

// Errors an operation can produce. They are deterministic outcomes of
// applying a Command (every replica computes the same one), not failures of
// the node; resp turns each into Redis's error text.
var (
	ErrNotInteger = errors.New("raftkv: value is not an integer or out of range")
	ErrOverflow   = errors.New("raftkv: increment or decrement would overflow")
	ErrWrongType  = errors.New("raftkv: wrong type")
	ErrUnknownOp  = errors.New("raftkv: unknown operation")
	// ErrTooLong: the string would grow past the limit the command
	// carries (Redis's proto-max-bulk-len).
	ErrTooLong = errors.New("raftkv: string exceeds maximum allowed size")
	// ErrNotFloat: INCRBYFLOAT's value or increment is not a float.
	ErrNotFloat = errors.New("raftkv: value is not a valid float")
	// ErrNaNOrInf: INCRBYFLOAT's result would be NaN or infinite.
	ErrNaNOrInf = errors.New("raftkv: increment would produce NaN or Infinity")
	// ErrNoSuchKey: RENAME of a key that does not exist.
	ErrNoSuchKey = errors.New("raftkv: no such key")
	// ErrInvalidExpire: GETEX's expiry is out of range (reported only
	// once the key is known to hold a string, as Redis does).
	ErrInvalidExpire = errors.New("raftkv: invalid expire time")
)

// ReplyError is an operation error whose text is Redis's reply, word for
// word ("ERR hash value is not an integer"): the collection commands'
// errors, which are many and each used once.
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// ErrFailed: the state machine stopped applying (a storage error, stored
// data that does not decode, or a bug; see FSM.stop).
var ErrFailed = errors.New("raftkv: state machine failed")

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
	// Array holds the results of a transaction's commands (OpMulti) or of
	// a lookup's keys (OpLookup); nil for other operations.
	Array []Result
}
