package kv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/riotkv/riot/storage"
)

// Snapshot format:
//
//	magic    "RIOTSNAP"
//	version  byte (1)
//	applied  uvarint: the raft index the snapshot reflects
//	s2-compressed stream of records:
//	    klen uvarint (0 ends the stream), key, vlen uvarint, value
//	    after the end: count uvarint (number of records, a sanity check)
//
// Records are the engine's raw key/value pairs (data and metadata), minus
// the applied index and restore marker, which Restore writes itself.
var snapMagic = []byte("RIOTSNAP")

const snapVersion = 1

// restoreBatchBytes bounds one storage batch written during Restore.
const restoreBatchBytes = 4 << 20

// Snapshot pins a storage snapshot of the current state; the data is
// written by Persist, concurrently with further applies (raftkv hands it
// to raft as a raft.FSMSnapshot).
func (f *FSM) Snapshot() (*Snapshot, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	s, err := f.eng.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("raftkv: snapshot: %w", err)
	}
	idx, err := readApplied(s)
	if err != nil {
		s.Release()
		return nil, err
	}
	return &Snapshot{snap: s, applied: idx, metrics: f.metrics}, nil
}

// Sink is where a Snapshot is persisted: raft.SnapshotSink is one.
type Sink interface {
	io.WriteCloser
	// Cancel abandons the snapshot written so far.
	Cancel() error
}

// Snapshot is a point-in-time state of the FSM, pinned until Release.
type Snapshot struct {
	snap    storage.Snapshot
	applied uint64
	metrics *fsmMetrics
}

// Persist writes the snapshot to sink and closes it, or cancels it on an
// error.
func (s *Snapshot) Persist(sink Sink) error {
	start := time.Now()
	w := &meteredWriter{w: sink}
	err := writeSnapshot(w, s.snap, s.applied)
	if err != nil {
		_ = sink.Cancel()
	} else {
		err = sink.Close()
	}
	s.metrics.observeSnapshot(SnapPersist, w.n, time.Since(start), err)
	return err
}

// Release releases the pinned state.
func (s *Snapshot) Release() { s.snap.Release() }

// writeSnapshot streams r's contents in the snapshot format, without the
// keys in skip.
func writeSnapshot(w io.Writer, r storage.Reader, applied uint64, skip ...[]byte) error {
	hdr := append([]byte(nil), snapMagic...)
	hdr = append(hdr, snapVersion)
	hdr = binary.AppendUvarint(hdr, applied)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("raftkv: write snapshot header: %w", err)
	}
	zw := s2.NewWriter(w, s2.WriterConcurrency(1))
	bw := bufio.NewWriterSize(zw, 64<<10)
	it := r.NewIterator(storage.Range{})
	var count uint64
	var tmp []byte
	for it.Next() {
		k := it.Key()
		if bytes.Equal(k, keyApplied) || bytes.Equal(k, keyRestoring) || slices.ContainsFunc(skip, func(s []byte) bool { return bytes.Equal(k, s) }) {
			continue
		}
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(k)))
		tmp = append(tmp, k...)
		tmp = binary.AppendUvarint(tmp, uint64(len(it.Value())))
		if _, err := bw.Write(tmp); err != nil {
			it.Close()
			return fmt.Errorf("raftkv: write snapshot: %w", err)
		}
		if _, err := bw.Write(it.Value()); err != nil {
			it.Close()
			return fmt.Errorf("raftkv: write snapshot: %w", err)
		}
		count++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("raftkv: read engine for snapshot: %w", err)
	}
	tmp = binary.AppendUvarint(tmp[:0], 0)
	tmp = binary.AppendUvarint(tmp, count)
	if _, err := bw.Write(tmp); err != nil {
		return fmt.Errorf("raftkv: write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("raftkv: write snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("raftkv: write snapshot: %w", err)
	}
	return nil
}

// ErrBadSnapshot is returned by Restore for a stream that is not a valid
// snapshot.
var ErrBadSnapshot = errors.New("raftkv: malformed snapshot")

// Restore replaces the whole state with the
// snapshot's. It is crash-safe: a marker written first and removed in the
// final batch tells the next boot that a restore was interrupted, and the
// node restores again before serving.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.metrics.restoring.Store(1)
	defer f.metrics.restoring.Store(0)
	f.restoreMu.Lock()
	defer f.restoreMu.Unlock()
	start, cr := time.Now(), &meteredReader{r: rc}
	idx, err := f.restore(cr)
	f.metrics.observeSnapshot(SnapRestore, cr.n, time.Since(start), err)
	if err != nil {
		// Fail closed: unless the engine is known to be untouched (no
		// restore marker, read without error), it may hold a mix of old and
		// new state. Stop serving from it until a restore succeeds (raft
		// retries installing the snapshot; a restart restores the local
		// one).
		if marked, merr := f.Restoring(); marked || merr != nil {
			f.stop(fmt.Errorf("%w: interrupted snapshot restore: %w", ErrFailed, errors.Join(err, merr)))
		}
		return err
	}
	// The engine holds the snapshot's state now; what is kept in memory
	// about it must follow, or the state machine stops.
	clock, err := readClock(f.eng)
	if err != nil {
		f.stop(fmt.Errorf("%w: after a snapshot restore: %w", ErrFailed, err))
		return err
	}
	f.clock.Store(clock)
	f.applied.Store(idx)
	if f.failed.Swap(nil) != nil {
		f.waiters.recover()
	}
	f.waiters.notify(idx)
	f.logger.Info("restored snapshot", "applied_index", idx)
	return nil
}

func (f *FSM) restore(r io.Reader) (uint64, error) { return f.load([]io.Reader{r}, nil) }

// load replaces the engine's contents with the snapshot streams' and
// returns the applied index they recorded (the largest). Without imp it
// restores one raft snapshot. With imp (backups imported into a new
// cluster, see backup.go), imp decides which records are loaded and under
// which key, the applied index is at least 1, and the restore marker
// stays: the caller removes it once the new cluster's first snapshot is on
// disk. Every stream's header is read before the engine is touched.
func (f *FSM) load(streams []io.Reader, imp *importer) (uint64, error) {
	defer f.rewritten() // whatever the engine holds now, done or not
	brs := make([]*bufio.Reader, len(streams))
	var applied uint64
	for n, r := range streams {
		brs[n] = bufio.NewReaderSize(r, 64<<10)
		idx, err := readSnapshotHeader(brs[n])
		if err != nil {
			return 0, fmt.Errorf("stream %d: %w", n+1, err)
		}
		applied = max(applied, idx)
	}

	var b storage.Batch
	b.Put(keyRestoring, []byte{1})
	if err := f.eng.Write(&b); err != nil {
		return 0, fmt.Errorf("raftkv: restore: mark: %w", err)
	}
	b.Reset()
	flush := func(force bool) error {
		if b.Len() == 0 || (!force && b.Size() < restoreBatchBytes) {
			return nil
		}
		if err := f.eng.Write(&b); err != nil {
			return fmt.Errorf("raftkv: restore: write: %w", err)
		}
		b.Reset()
		return nil
	}

	// Drop everything the snapshot may not have.
	it := f.eng.NewIterator(storage.Range{})
	for it.Next() {
		if bytes.Equal(it.Key(), keyRestoring) {
			continue
		}
		b.Delete(it.Key())
		if err := flush(false); err != nil {
			it.Close()
			return 0, err
		}
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("raftkv: restore: clear: %w", err)
	}
	if err := flush(true); err != nil {
		return 0, err
	}

	// A key loaded from an earlier stream is in the engine: each stream's
	// records are flushed before the next is read.
	loaded := func(k []byte) (bool, error) {
		_, err := f.eng.Get(k)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	for n, br := range brs {
		dup := loaded
		if n == 0 {
			dup = nil // nothing is loaded yet
		}
		put := func(k, v []byte) error {
			if imp != nil {
				var err error
				if k, err = imp.take(k, v, dup); k == nil || err != nil {
					return err
				}
			}
			b.Put(k, v)
			return flush(false)
		}
		if err := readRecords(br, put); err != nil {
			return 0, fmt.Errorf("stream %d: %w", n+1, err)
		}
		if err := flush(true); err != nil {
			return 0, err
		}
	}
	if imp != nil {
		imp.source, applied = applied, max(applied, 1)
		if imp.clock != 0 {
			b.Put(keyClock, encodeIndex(imp.clock))
		}
		if imp.tombFloor != 0 {
			b.Put(keyTombFloor, encodeIndex(imp.tombFloor))
		}
	} else {
		b.Delete(keyRestoring)
	}
	b.Put(keyApplied, encodeIndex(applied))
	if err := flush(true); err != nil {
		return 0, err
	}
	// A stream from an older release holds format-1 records. A crash
	// before this is done leaves some: the next open moves them.
	if err := f.migrate(); err != nil {
		return 0, err
	}
	return applied, nil
}

// readSnapshotHeader reads a snapshot stream's header and returns the
// applied index it records.
func readSnapshotHeader(br *bufio.Reader) (uint64, error) {
	hdr := make([]byte, len(snapMagic)+1)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return 0, fmt.Errorf("%w: header: %w", ErrBadSnapshot, err)
	}
	if !bytes.Equal(hdr[:len(snapMagic)], snapMagic) || hdr[len(snapMagic)] != snapVersion {
		return 0, fmt.Errorf("%w: bad magic or version", ErrBadSnapshot)
	}
	applied, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, fmt.Errorf("%w: applied index: %w", ErrBadSnapshot, err)
	}
	return applied, nil
}

// readRecords reads a snapshot stream's records (after its header) and
// hands each to put, then checks the trailing record count.
func readRecords(br *bufio.Reader, put func(k, v []byte) error) error {
	zr := bufio.NewReaderSize(s2.NewReader(br), 64<<10)
	var count uint64
	for {
		klen, err := binary.ReadUvarint(zr)
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrBadSnapshot, count, err)
		}
		if klen == 0 {
			break
		}
		k, err := readN(zr, klen)
		if err != nil {
			return fmt.Errorf("%w: record %d key: %w", ErrBadSnapshot, count, err)
		}
		vlen, err := binary.ReadUvarint(zr)
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrBadSnapshot, count, err)
		}
		v, err := readN(zr, vlen)
		if err != nil {
			return fmt.Errorf("%w: record %d value: %w", ErrBadSnapshot, count, err)
		}
		count++
		if err := put(k, v); err != nil {
			return err
		}
	}
	want, err := binary.ReadUvarint(zr)
	if err != nil || want != count {
		return fmt.Errorf("%w: %d records, trailer says %d (%v)", ErrBadSnapshot, count, want, err)
	}
	return nil
}

// readN reads exactly n bytes, refusing lengths no snapshot can hold.
func readN(r io.Reader, n uint64) ([]byte, error) {
	const maxRecord = 1 << 30
	if n > maxRecord {
		return nil, fmt.Errorf("record of %d bytes", n)
	}
	// Grow as bytes arrive rather than trusting the length up front.
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err == nil && uint64(len(b)) != n {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}
