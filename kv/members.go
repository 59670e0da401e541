package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/riotkv/riot/storage"
)

// The address book maps raft server IDs to the addresses clients and peers
// use. It is replicated through the log (OpSetMember), so every node can
// find the leader's client address however the leader joined.

// Member is one address book entry.
type Member struct {
	ID         string
	RaftAddr   string
	ClientAddr string
}

func encodeMember(raftAddr, clientAddr []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(raftAddr)))
	b = append(b, raftAddr...)
	b = binary.AppendUvarint(b, uint64(len(clientAddr)))
	return append(b, clientAddr...)
}

func decodeMember(id, b []byte) (Member, error) {
	m := Member{ID: string(id)}
	var fields [2]string
	for i := range fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return m, fmt.Errorf("raftkv: malformed member record for %q", id)
		}
		fields[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	m.RaftAddr, m.ClientAddr = fields[0], fields[1]
	return m, nil
}

func applySetMember(tx *txn, c *Command) Result {
	tx.putRaw(memberKey(c.Args[0]), encodeMember(c.Args[1], c.Args[2]))
	tx.membersChanged = true
	return Result{}
}

func applyDelMember(tx *txn, c *Command) Result {
	tx.delRaw(memberKey(c.Args[0]))
	tx.membersChanged = true
	return Result{}
}

// applyLeave removes server Args[0] from the address book and records the
// time RAFT.LEAVE removed it.
func applyLeave(tx *txn, c *Command) Result {
	applyDelMember(tx, c)
	tx.putRaw(leftKey(c.Args[0]), encodeIndex(uint64(tx.now)))
	return Result{}
}

// LeftAt returns when RAFT.LEAVE last removed server id (OpLeave), if it
// ever did.
func (v *View) LeftAt(id string) (time.Time, bool, error) {
	raw, err := v.r.Get(leftKey([]byte(id)))
	if errors.Is(err, storage.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("raftkv: read the removal of %q: %w", id, err)
	}
	ms, err := decodeClock(raw)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("raftkv: removal record of %q: %w", id, err)
	}
	return time.UnixMilli(ms), true, nil
}

// Member returns the address book entry for id.
func (v *View) Member(id string) (Member, bool, error) {
	raw, err := v.r.Get(memberKey([]byte(id)))
	if errors.Is(err, storage.ErrNotFound) {
		return Member{}, false, nil
	}
	if err != nil {
		return Member{}, false, fmt.Errorf("raftkv: read member %q: %w", id, err)
	}
	m, err := decodeMember([]byte(id), raw)
	return m, err == nil, err
}

// Members returns the whole address book, sorted by ID.
func (v *View) Members() ([]Member, error) {
	it := v.r.NewIterator(storage.PrefixRange(memberPrefix))
	var out []Member
	for it.Next() {
		m, err := decodeMember(it.Key()[len(memberPrefix):], it.Value())
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, m)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("raftkv: read members: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
