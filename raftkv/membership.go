package raftkv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Membership errors. Each leaves the configuration unchanged.
var (
	ErrIDConflict    = errors.New("raftkv: server ID already in the configuration at another address")
	ErrAddrConflict  = errors.New("raftkv: raft address already used by another server")
	ErrBadAddr       = errors.New("raftkv: invalid raft address")
	ErrUnknownServer = errors.New("raftkv: no such server in the configuration")
	ErrLastVoter     = errors.New("raftkv: cannot remove the last voter")
	ErrNotVoter      = errors.New("raftkv: server is not a voter")
	ErrNoOtherVoter  = errors.New("raftkv: no other voter to transfer leadership to")
	ErrSelfTransfer  = errors.New("raftkv: this server is already the leader")
)

// Server is one member of the raft configuration.
type Server struct {
	ID       string
	RaftAddr string
	Voter    bool
}

// membershipTimeout bounds one configuration change.
const membershipTimeout = 10 * time.Second

// Servers returns the latest raft configuration.
func (n *Node) Servers() ([]Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, raftError(err)
	}
	cfg := f.Configuration()
	out := make([]Server, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		out = append(out, Server{ID: string(s.ID), RaftAddr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// ValidateAddr checks that addr is a usable host:port.
func ValidateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrBadAddr, addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%w %q: bad port", ErrBadAddr, addr)
	}
	if host == "" {
		return fmt.Errorf("%w %q: empty host", ErrBadAddr, addr)
	}
	return nil
}

// AddServer adds id at addr as a voter or non-voter. Adding a server that is
// already in the configuration at the same address is a no-op (unless it
// should be promoted from non-voter to voter). Must run on the leader.
func (n *Node) AddServer(id, addr string, voter bool) error {
	if err := ValidateAddr(addr); err != nil {
		return err
	}
	servers, err := n.Servers()
	if err != nil {
		return err
	}
	for _, s := range servers {
		switch {
		case s.ID == id && s.RaftAddr != addr:
			return fmt.Errorf("%w: %s is at %s", ErrIDConflict, id, s.RaftAddr)
		case s.ID != id && s.RaftAddr == addr:
			return fmt.Errorf("%w: %s is used by %s", ErrAddrConflict, addr, s.ID)
		case s.ID == id && (s.Voter || !voter):
			return nil // already there
		}
	}
	if err := n.addServer(id, addr, voter); err != nil {
		return err
	}
	n.logger.Info("added server", "id", id, "raft_addr", addr, "voter", voter)
	return nil
}

// addServer adds id at addr, or updates its address and suffrage.
func (n *Node) addServer(id, addr string, voter bool) error {
	var f raft.IndexFuture
	if voter {
		f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout)
	} else {
		f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout)
	}
	if err := f.Error(); err != nil {
		return raftError(err)
	}
	return nil
}

// CheckRemove reports whether RemoveServer(id) would be refused: id is not
// a member (ErrUnknownServer) or is the last voter (ErrLastVoter).
func (n *Node) CheckRemove(id string) error {
	servers, err := n.Servers()
	if err != nil {
		return err
	}
	found, voters, isVoter := false, 0, false
	for _, s := range servers {
		if s.Voter {
			voters++
		}
		if s.ID == id {
			found, isVoter = true, s.Voter
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrUnknownServer, id)
	}
	if isVoter && voters == 1 {
		return ErrLastVoter
	}
	return nil
}

// RemoveServer removes id from the configuration. Removing the last voter
// is refused. Must run on the leader. A leader that removes itself shuts
// its raft down once the change commits; that counts as success.
func (n *Node) RemoveServer(id string) error {
	if err := n.CheckRemove(id); err != nil {
		return err
	}
	f := n.raft.RemoveServer(raft.ServerID(id), 0, membershipTimeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	deadline := time.After(membershipTimeout + 5*time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			// A leader that removed itself shuts down, and raft may not
			// answer the future any more.
			if id == n.cfg.ID && n.raft.State() == raft.Shutdown {
				break wait
			}
		case <-deadline:
			err = fmt.Errorf("%w: removing %s did not finish", ErrLeadershipLost, id)
			break wait
		}
	}
	if err != nil && id == n.cfg.ID && errors.Is(err, raft.ErrRaftShutdown) {
		err = nil
	}
	if err != nil {
		return raftError(err)
	}
	n.logger.Info("removed server", "id", id)
	return nil
}

// TransferLeadership hands leadership to id, or to the most up-to-date
// voter when id is empty, and waits until it has moved. Must run on the
// leader.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	servers, err := n.Servers()
	if err != nil {
		return err
	}
	var f raft.Future
	if id == "" {
		others := 0
		for _, s := range servers {
			if s.Voter && s.ID != n.cfg.ID {
				others++
			}
		}
		if others == 0 {
			return ErrNoOtherVoter
		}
		f = n.raft.LeadershipTransfer()
	} else {
		if id == n.cfg.ID {
			return ErrSelfTransfer
		}
		var target *Server
		for i := range servers {
			if servers[i].ID == id {
				target = &servers[i]
			}
		}
		if target == nil {
			return fmt.Errorf("%w: %s", ErrUnknownServer, id)
		}
		if !target.Voter {
			return fmt.Errorf("%w: %s", ErrNotVoter, id)
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(target.RaftAddr))
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return raftError(err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HasState reports whether this node has raft state (a log, a snapshot or
// a configuration): it is, or was, part of a cluster.
func (n *Node) HasState() bool {
	return n.raft.LastIndex() > 0
}

// BootstrapWith bootstraps a new cluster of the given voters on a node
// that has no raft state (ErrHasState otherwise: HasState looks at the log
// only, raft at the term too). Every node of the new cluster must call it
// with the same list.
func (n *Node) BootstrapWith(voters []Server) error {
	conf := raft.Configuration{}
	for _, s := range voters {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.RaftAddr)})
	}
	if err := n.raft.BootstrapCluster(conf).Error(); err != nil {
		if errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("%w: not bootstrapped", ErrHasState)
		}
		return fmt.Errorf("raftkv: bootstrap: %w", err)
	}
	n.logger.Info("bootstrapped a new cluster", "voters", len(voters))
	return nil
}

// CommitIndex returns the highest log index known to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// UpdateServerAddr records that server id (already a member) is now at
// addr, keeping its suffrage. Must run on the leader.
func (n *Node) UpdateServerAddr(id, addr string, voter bool) error {
	if err := ValidateAddr(addr); err != nil {
		return err
	}
	if err := n.addServer(id, addr, voter); err != nil {
		return err
	}
	n.logger.Info("updated server address", "id", id, "raft_addr", addr)
	return nil
}

// Removed reports whether this node's raft has shut down on its own: the
// cluster removed it from the configuration (hashicorp/raft shuts a removed
// server down). The process should then leave.
func (n *Node) Removed() bool {
	return n.raft.State() == raft.Shutdown && !n.closing.Load()
}
