package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"
)

// resolver is what advertiseHost needs to look names up: net.DefaultResolver
// and os.Hostname in the server, fakes in tests.
type resolver struct {
	lookup   func(ctx context.Context, host string) ([]net.IPAddr, error)
	hostname func() (string, error)
}

var systemResolver = resolver{lookup: net.DefaultResolver.LookupIPAddr, hostname: os.Hostname}

// advertiseHost returns the IP address other nodes reach this node at, or ""
// to advertise the bound addresses.
//
// --advertise may be an IP address or a host name; a name is resolved once,
// at start (memberlist and raft need an address). In Docker that name is the
// container's (`--advertise node1` with `hostname: node1`): the container's
// address on its network, even when it changes between restarts.
//
// Without --advertise, a node whose raft address binds every interface (the
// container image binds 0.0.0.0) advertises what its host name resolves to,
// so that a lone `docker run` works. Such a node has no --join and no
// --bootstrap-expect: options.validate insists on --advertise for those.
func advertiseHost(adv, raftAddr string, r resolver) (string, error) {
	if adv == "" {
		host, _, err := net.SplitHostPort(raftAddr)
		if err != nil || (host != "" && !net.ParseIP(host).IsUnspecified()) {
			return "", nil
		}
		name, err := r.hostname()
		if err != nil {
			return "", fmt.Errorf("--raft-addr %s binds every interface and the host name is unknown (%v): set --advertise", raftAddr, err)
		}
		ip, err := resolveHost(name, r)
		if err != nil {
			return "", fmt.Errorf("--raft-addr %s binds every interface and the host name does not resolve (%v): set --advertise", raftAddr, err)
		}
		return ip, nil
	}
	if ip := net.ParseIP(adv); ip != nil {
		if ip.IsUnspecified() {
			return "", fmt.Errorf("--advertise %s: other nodes cannot reach an unspecified address", adv)
		}
		return adv, nil
	}
	ip, err := resolveHost(adv, r)
	if err != nil {
		return "", fmt.Errorf("--advertise %s: %v", adv, err)
	}
	return ip, nil
}

// resolveHost looks name up and prefers an IPv4 address that is not
// loopback, then any IPv4, then the first address.
func resolveHost(name string, r resolver) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := r.lookup(ctx, name)
	if err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("no address for %q", name)
	}
	best := addrs[0].IP
	for _, a := range addrs {
		switch v4 := a.IP.To4(); {
		case v4 != nil && !v4.IsLoopback():
			return v4.String(), nil
		case v4 != nil && best.To4() == nil:
			best = v4
		}
	}
	return best.String(), nil
}
