package raftkv

import (
	"encoding/binary"
	"sync"

	"github.com/riotkv/riot/kv"
)

// proposer is the leader's group commit. Every ProposeBatch hands its
// commands, already encoded, to one goroutine that packs whatever has been
// handed over into one batch entry, with at most window entries between
// raft.Apply and their outcome. While those commit, the writes that arrive
// wait and go together in the next entry. hashicorp/raft batches too, but
// per log append: it appends whatever is queued as soon as the previous
// append is done, so writes that arrive one by one (clients sending on a
// schedule rather than in lockstep) make many small appends, two fsyncs each
// on every node. Waiting for the commit makes an entry per round trip
// instead. Measured in docs/design/0004-write-path.md.
type proposer struct {
	n      *Node
	window chan struct{} // a token per entry in flight
	kick   chan struct{} // something was queued
	stop   chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	queued []*proposal
	closed bool
}

// proposal is one ProposeBatch call on its way to raft: its commands'
// encodings and their Proposals, whose outcome can be waited for once
// ready is closed.
type proposal struct {
	cmds  [][]byte
	ps    []*Proposal
	ready chan struct{}
}

func newProposer(n *Node, window int) *proposer {
	p := &proposer{
		n: n, window: make(chan struct{}, window), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go p.loop()
	return p
}

// propose encodes cs now (their arguments may alias a buffer the caller
// reuses) and queues them; the Proposals become ready once proposed.
func (p *proposer) propose(cs []*kv.Command) []*Proposal {
	size := 0
	for _, c := range cs {
		size += c.EncodedSize()
	}
	enc := make([]byte, 0, size)
	pr := &proposal{cmds: make([][]byte, len(cs)), ps: make([]*Proposal, len(cs)), ready: make(chan struct{})}
	for i, c := range cs {
		start := len(enc)
		enc = c.AppendEncode(enc)
		pr.cmds[i] = enc[start:len(enc):len(enc)]
		pr.ps[i] = &Proposal{ready: pr.ready}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pr.fail(ErrShutdown)
		return pr.ps
	}
	p.queued = append(p.queued, pr)
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default: // the loop has a kick pending already
	}
	return pr.ps
}

// fail gives every command of pr err and makes it ready.
func (pr *proposal) fail(err error) {
	for _, ps := range pr.ps {
		ps.err = err
	}
	close(pr.ready)
}

// close stops the proposer: what is queued, and what is proposed later,
// fails with ErrShutdown.
func (p *proposer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	for _, pr := range p.take() {
		pr.fail(ErrShutdown)
	}
}

// take returns what is queued and empties the queue.
func (p *proposer) take() []*proposal {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queued
	p.queued = nil
	return q
}

func (p *proposer) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			return
		}
		// Wait for room first: what arrives meanwhile joins this entry.
		select {
		case p.window <- struct{}{}:
		case <-p.stop:
			return
		}
		batch := p.take()
		if len(batch) == 0 {
			<-p.window // taken by an earlier round
			continue
		}
		if !p.apply(batch) {
			return
		}
	}
}

// queuedCmd is one encoded command of a proposal and its Proposal.
type queuedCmd struct {
	p   *Proposal
	enc []byte
}

// size is about the bytes c takes in a batch entry.
func (c queuedCmd) size() int { return len(c.enc) + binary.MaxVarintLen32 }

// apply proposes the commands of batch, in order, as entries of at most
// maxBatchEntry bytes (a command alone may be bigger), holding a window
// token (the first one is held already) for each entry until its outcome.
// It reports false if the proposer was stopped meanwhile.
func (p *proposer) apply(batch []*proposal) bool {
	defer func() {
		for _, pr := range batch {
			close(pr.ready)
		}
	}()
	var all []queuedCmd
	for _, pr := range batch {
		for i, enc := range pr.cmds {
			all = append(all, queuedCmd{pr.ps[i], enc})
		}
	}
	proposed := 0
	for run, size := range runs(all, queuedCmd.size, maxBatchEntry) {
		if proposed > 0 {
			select {
			case p.window <- struct{}{}:
			case <-p.stop:
				for _, c := range all[proposed:] {
					c.p.err = ErrShutdown
				}
				return false
			}
		}
		var data []byte
		if len(run) == 1 {
			data = run[0].enc // an entry of its own, as before batches
			run[0].p.i = -1
		} else {
			data = kv.AppendBatchHead(make([]byte, 0, size+binary.MaxVarintLen64+1), len(run))
			for i, c := range run {
				data = kv.AppendBatchItem(data, c.enc)
				c.p.i = i
			}
		}
		f := p.n.raft.Apply(data, p.n.cfg.ApplyTimeout)
		o := &outcome{done: make(chan struct{})}
		for _, c := range run {
			c.p.out = o
		}
		go func() {
			o.await(f)
			<-p.window
		}()
		proposed += len(run)
	}
	return true
}
