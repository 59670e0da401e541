package raftkv_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

// backupOf fills a single-node cluster with strings, a counter, keys with
// deadlines (one already expired at the state machine's clock), an address
// book entry and a request record, and returns its backup and the time the
// commands were stamped with.
func backupOf(t *testing.T) (data []byte, index uint64, now int64) {
	t.Helper()
	src := raftkvtest.SingleNode(t, nil)
	now = time.Now().UnixMilli()
	for _, c := range []*kv.Command{
		{Op: kv.OpSet, Args: [][]byte{[]byte("a"), []byte("1")}, Now: now},
		{Op: kv.OpSet, Args: [][]byte{[]byte("ttl"), []byte("x")}, ExpireAt: now + time.Hour.Milliseconds(), Now: now},
		{Op: kv.OpSet, Args: [][]byte{[]byte("gone"), []byte("y")}, ExpireAt: now + 5, Now: now},
		{Op: kv.OpIncrBy, Args: [][]byte{[]byte("c")}, Int: 3, Now: now + 10}, // the clock passes gone's deadline
		{Op: kv.OpSetMember, Args: [][]byte{[]byte("old"), []byte("10.0.0.1:1"), []byte("10.0.0.1:2")}},
		{Op: kv.OpIncrBy, Args: [][]byte{[]byte("d")}, Int: 1, Now: now + 10, ClientID: 7, Seq: 1},
	} {
		if r := apply(t, src, c); r.Err != nil {
			t.Fatalf("%s %q: %v", c.Op, c.Args, r.Err)
		}
	}
	b, err := src.FSM().Backup()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	defer b.Close()
	var buf bytes.Buffer
	n, err := b.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	if got := src.FSM().AppliedIndex(); b.Index() == 0 || b.Index() > got {
		t.Errorf("backup index %d, source applied %d", b.Index(), got)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("RIOTSNAP")) {
		t.Errorf("backup starts with %q, want the snapshot magic", buf.Bytes()[:min(8, buf.Len())])
	}
	return buf.Bytes(), b.Index(), now
}

// restoreNode is a node on disk (bolt log, file snapshots, LevelDB) over
// an in-memory transport, started from a backup.
type restoreNode struct {
	t    *testing.T
	dir  string
	cfg  raftkv.Config
	eng  storage.Engine
	node *raftkv.Node
}

func newRestoreNode(t *testing.T, id string) *restoreNode {
	t.Helper()
	r := &restoreNode{t: t, dir: t.TempDir()}
	r.cfg = raftkvtest.Config(t, id)
	r.cfg.InMemory = false
	r.cfg.Dir = filepath.Join(r.dir, "raft")
	r.cfg.Transport = nil
	r.cfg.RaftAddr = "127.0.0.1:0"
	r.cfg.Bootstrap = true
	t.Cleanup(r.stop)
	return r
}

// open opens the node, from backup when it is not nil.
func (r *restoreNode) open(backup []byte) error {
	r.t.Helper()
	if r.eng == nil {
		eng, err := storage.OpenLevelDB(filepath.Join(r.dir, "engine"))
		if err != nil {
			r.t.Fatalf("OpenLevelDB: %v", err)
		}
		r.eng = eng
	}
	cfg := r.cfg
	if backup != nil {
		cfg.RestoreFrom = []io.Reader{bytes.NewReader(backup)}
	}
	n, err := raftkv.Open(cfg, r.eng)
	if err != nil {
		return err
	}
	r.node = n
	return nil
}

func (r *restoreNode) stop() {
	if r.node != nil {
		if err := r.node.Close(); err != nil {
			r.t.Errorf("close node: %v", err)
		}
		r.node = nil
	}
	if r.eng != nil {
		if err := r.eng.Close(); err != nil {
			r.t.Errorf("close engine: %v", err)
		}
		r.eng = nil
	}
}

// TestBackupRestoreNewCluster: a backup restored with Config.RestoreFrom
// starts a new one-server cluster with the same keys, deadlines and
// counters, without the old address book and request records; its raft
// starts from a snapshot at the backup's index, so a server that joins
// receives the data; a restarted node keeps it and refuses a second
// restore.
func TestBackupRestoreNewCluster(t *testing.T) {
	t.Parallel()
	backup, srcIndex, now := backupOf(t)

	r1 := newRestoreNode(t, "r1")
	if err := r1.open(backup); err != nil {
		t.Fatalf("Open with RestoreFrom: %v", err)
	}
	raftkvtest.WaitLeader(t, r1.node)
	n := r1.node
	linearizable(t, n)
	if st := n.Status(); st.LastSnapshotIndex != srcIndex || st.AppliedIndex <= srcIndex || st.AppliedIndex >= srcIndex+100 {
		t.Errorf("restored node: snapshot index %d, applied %d; want a snapshot at the backup's index %d and a fresh log after it",
			st.LastSnapshotIndex, st.AppliedIndex, srcIndex)
	}
	checkRestored := func(n *raftkv.Node, counter string) {
		t.Helper()
		wantGet(t, n, "a", "1")
		wantGet(t, n, "c", counter)
		if _, ok := nodeGet(t, n, "gone"); ok {
			t.Errorf("key gone, expired in the backup, exists after the restore")
		}
		v, release := n.FSM().View()
		defer release()
		info, ok, err := v.Lookup([]byte("ttl"), now)
		if err != nil || !ok || info.ExpireAt != now+time.Hour.Milliseconds() {
			t.Errorf("ttl: %+v, exists=%v, err %v; want deadline %d", info, ok, err, now+time.Hour.Milliseconds())
		}
		if ms, err := v.Members(); err != nil || len(ms) != 0 {
			t.Errorf("address book after restore = %+v, %v; want the old cluster's entries dropped", ms, err)
		}
	}
	checkRestored(n, "3")
	// The request record was dropped: the same request ID applies again
	// (the old cluster's IDs mean nothing here).
	if r := apply(t, n, &kv.Command{Op: kv.OpIncrBy, Args: [][]byte{[]byte("d")}, Int: 1, ClientID: 7, Seq: 1}); r.Err != nil || r.Int != 2 {
		t.Errorf("INCR d with the old request ID = {%d %v}, want 2 (applied, not deduplicated)", r.Int, r.Err)
	}
	apply(t, n, cmdIncr("c"))

	// A server that joins gets the data by snapshot.
	c2 := raftkvtest.Config(t, "r2")
	c2.Transport = nil
	c2.RaftAddr = "127.0.0.1:0"
	eng2 := storage.NewMemory()
	t.Cleanup(func() { eng2.Close() })
	n2, err := raftkv.Open(c2, eng2)
	if err != nil {
		t.Fatalf("Open r2: %v", err)
	}
	t.Cleanup(func() { n2.Close() })
	if err := n.AddServer("r2", n2.RaftAddr(), true); err != nil {
		t.Fatalf("AddServer r2: %v", err)
	}
	if err := n2.WaitApplied(testCtx(t), n.FSM().AppliedIndex()); err != nil {
		t.Fatalf("r2 did not catch up: %v", err)
	}
	checkRestored(n2, "4")

	// A restart keeps the data and refuses another restore.
	if err := n.RemoveServer("r2"); err != nil {
		t.Fatalf("RemoveServer r2: %v", err)
	}
	r1.stop()
	if err := r1.open(backup); !errors.Is(err, raftkv.ErrHasState) {
		t.Fatalf("second restore into the same dir: err = %v, want ErrHasState", err)
	}
	if err := r1.open(nil); err != nil {
		t.Fatalf("restart: %v", err)
	}
	raftkvtest.WaitLeader(t, r1.node)
	checkRestored(r1.node, "4")
}

// TestRestoreRefusals: a bad backup fails and leaves a marker (the next
// start refuses to serve, a good backup loads over it); an engine that
// holds data is refused.
func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	backup, _, _ := backupOf(t)

	r := newRestoreNode(t, "r1")
	if err := r.open(backup[:len(backup)/2]); !errors.Is(err, kv.ErrBadSnapshot) {
		t.Fatalf("truncated backup: err = %v, want ErrBadSnapshot", err)
	}
	if err := r.open(nil); err == nil {
		t.Fatalf("start after an interrupted restore succeeded; want a refusal")
	}
	// Bytes after the end of the backup are ignored (redis-cli --raw adds
	// a newline to RAFT.BACKUP's reply).
	if err := r.open(append(slices.Clip(backup), '\n')); err != nil {
		t.Fatalf("restore over an interrupted one: %v", err)
	}
	raftkvtest.WaitLeader(t, r.node)
	wantGet(t, r.node, "a", "1")

	full := newRestoreNode(t, "r2")
	full.cfg.Bootstrap = false
	if err := full.open(nil); err != nil {
		t.Fatal(err)
	}
	full.node.Close()
	full.node = nil
	var b storage.Batch
	b.Put([]byte("dsomething"), []byte("x"))
	if err := full.eng.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := full.open(backup); !errors.Is(err, kv.ErrEngineNotEmpty) {
		t.Fatalf("restore into an engine with data: err = %v, want ErrEngineNotEmpty", err)
	}
}
