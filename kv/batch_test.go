package kv

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestBatchEntryRoundTrip(t *testing.T) {
	cs := []*Command{
		{Op: OpSet, Args: [][]byte{[]byte("k"), []byte("v")}, Now: 1_700_000_000_000},
		{Op: OpIncrBy, Args: [][]byte{[]byte("n")}, Int: -7, ClientID: 9, Seq: 3},
		{Op: OpDel},
		{Op: OpSet, Args: [][]byte{[]byte("big"), bytes.Repeat([]byte("x"), 300)}, ExpireAt: 12},
	}
	data := AppendEncodeBatch([]byte("prefix"), cs)[len("prefix"):]
	if !isBatch(data) {
		t.Fatalf("isBatch(%x) = false", data)
	}
	raw, err := decodeBatch(data)
	if err != nil {
		t.Fatalf("decodeBatch: %v", err)
	}
	if len(raw) != len(cs) {
		t.Fatalf("decodeBatch: %d commands, want %d", len(raw), len(cs))
	}
	for i, r := range raw {
		if want := cs[i].Encode(); !bytes.Equal(r, want) {
			t.Errorf("command %d: %x, want %x", i, r, want)
		}
	}
	if isBatch(cs[0].Encode()) {
		t.Errorf("isBatch of a single command's entry = true")
	}
	if _, err := DecodeCommand(data); !errors.Is(err, ErrBadEntry) {
		t.Errorf("DecodeCommand(batch entry) err = %v, want ErrBadEntry", err)
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	one := (&Command{Op: OpNoop}).Encode()
	good := AppendEncodeBatch(nil, []*Command{{Op: OpNoop}, {Op: OpNoop}})
	tests := map[string][]byte{
		"empty":           {},
		"single command":  one,
		"no count":        {encodingBatch},
		"count 1":         append([]byte{encodingBatch, 1, byte(len(one))}, one...),
		"count too large": {encodingBatch, 100, 1, 1},
		"short command":   good[:len(good)-1],
		"trailing bytes":  append(append([]byte(nil), good...), 0),
		"length overflow": {encodingBatch, 2, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, data := range tests {
		if _, err := decodeBatch(data); !errors.Is(err, ErrBadEntry) {
			t.Errorf("%s: decodeBatch(%x) err = %v, want ErrBadEntry", name, data, err)
		}
	}
}

// TestApplyBatchEntry: the commands of a batch entry are applied in order,
// each with its own result (an error in one leaves the others alone), at
// the entry's index; a malformed batch gets one error and still counts as
// applied.
func TestApplyBatchEntry(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			f := newFSM(t, e.open(t))
			dedup := incrBy("n", 5)
			dedup.ClientID, dedup.Seq = 7, 1
			batch := []*Command{
				ptr(set("s", "text")),
				ptr(incrBy("n", 1)),
				ptr(incrBy("s", 1)), // not an integer
				&dedup,
				&dedup, // the same request again: the first outcome
				ptr(del("s", "missing")),
			}
			bad := append([]byte{encodingBatch, 2}, 0xff)
			res := f.ApplyBatch([]Entry{
				{Index: 1, Command: true, Data: AppendEncodeBatch(nil, batch)},
				{Index: 2, Command: true, Data: bad},
				cmdLog(3, set("after", "x")),
			})
			got, ok := res[0].(BatchResult)
			if !ok {
				t.Fatalf("response to a batch entry = %#v (%T), want a BatchResult", res[0], res[0])
			}
			if len(got) != len(batch) {
				t.Fatalf("batch response has %d results, want %d", len(got), len(batch))
			}
			want := []struct {
				int int64
				err error
			}{{0, nil}, {1, nil}, {0, ErrNotInteger}, {6, nil}, {6, nil}, {1, nil}}
			for i, w := range want {
				if got[i].Int != w.int || !errors.Is(got[i].Err, w.err) {
					t.Errorf("result %d = {Int:%d Err:%v}, want {Int:%d Err:%v}", i, got[i].Int, got[i].Err, w.int, w.err)
				}
			}
			if r := result(t, res, 1); !errors.Is(r.Err, ErrBadEntry) {
				t.Errorf("malformed batch: Err = %v, want ErrBadEntry", r.Err)
			}
			if r := result(t, res, 2); r.Err != nil {
				t.Errorf("entry after the batches: Err = %v", r.Err)
			}
			if got := f.AppliedIndex(); got != 3 {
				t.Errorf("AppliedIndex = %d, want 3", got)
			}
			if got := f.metrics.commands.Load(); got != uint64(len(batch))+1 {
				t.Errorf("commands applied = %d, want %d", got, len(batch)+1)
			}
			v, release := f.View()
			defer release()
			for key, want := range map[string]string{"n": "6", "after": "x"} {
				if val, ok, err := v.Get([]byte(key), 0); err != nil || !ok || string(val) != want {
					t.Errorf("Get(%s) = %q, %v, %v; want %q", key, val, ok, err, want)
				}
			}
			if _, ok, _ := v.Get([]byte("s"), 0); ok {
				t.Errorf("Get(s) found the key the batch deleted")
			}
		})
	}
}

func ptr(c Command) *Command { return &c }

// FuzzDecodeBatch: decodeBatch never panics, fails only with ErrBadEntry,
// and what it accepts is a batch of as many commands again once encoded.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendEncodeBatch(nil, []*Command{ptr(set("k", "v")), ptr(incrBy("n", -3)), {Op: OpNoop}}))
	f.Add([]byte{encodingBatch, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := decodeBatch(data)
		if err != nil {
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("decodeBatch(%x) error = %v, want ErrBadEntry", data, err)
			}
			return
		}
		var cs []*Command
		for _, r := range raw {
			c, err := DecodeCommand(r)
			if err != nil {
				return // a bad command inside a good batch: applied as an error
			}
			cs = append(cs, &c)
		}
		again, err := decodeBatch(AppendEncodeBatch(nil, cs))
		if err != nil || len(again) != len(raw) {
			t.Fatalf("re-encoding %d commands of %x: %d commands, %v", len(raw), data, len(again), err)
		}
	})
}

// BenchmarkBatchEntry encodes and decodes a batch entry of 16 SETs of 100
// bytes (one pipeline), the per-command work a batch entry adds.
func BenchmarkBatchEntry(b *testing.B) {
	cs := make([]*Command, 16)
	for i := range cs {
		cs[i] = &Command{Op: OpSet, Args: [][]byte{fmt.Appendf(nil, "key:%06d", i), bytes.Repeat([]byte("v"), 100)}, Now: 1_700_000_000_000}
	}
	data := AppendEncodeBatch(nil, cs)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, len(data))
		for b.Loop() {
			buf = AppendEncodeBatch(buf[:0], cs)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			raw, err := decodeBatch(data)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range raw {
				if _, err := DecodeCommand(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
