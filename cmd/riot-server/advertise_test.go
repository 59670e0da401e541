package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func fakeResolver(hostname string, hosts map[string][]string) resolver {
	return resolver{
		lookup: func(_ context.Context, host string) ([]net.IPAddr, error) {
			ips, ok := hosts[host]
			if !ok {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var out []net.IPAddr
			for _, s := range ips {
				out = append(out, net.IPAddr{IP: net.ParseIP(s)})
			}
			return out, nil
		},
		hostname: func() (string, error) {
			if hostname == "" {
				return "", errors.New("no hostname")
			}
			return hostname, nil
		},
	}
}

func TestAdvertiseHost(t *testing.T) {
	r := fakeResolver("c0ffee", map[string][]string{
		"c0ffee":    {"172.18.0.5"},
		"node1":     {"::1", "127.0.0.1", "fd00::2", "172.18.0.2"},
		"loopback":  {"::1", "127.0.0.1"},
		"v6only":    {"fd00::3"},
		"localhost": {"127.0.0.1"},
	})
	tests := []struct {
		name, adv, raftAddr string
		want, wantErr       string
	}{
		{"an IP is kept", "10.0.0.7", "0.0.0.0:16379", "10.0.0.7", ""},
		{"an IPv6 address is kept", "fd00::9", "[::]:16379", "fd00::9", ""},
		{"a name resolves, IPv4 not loopback first", "node1", "0.0.0.0:16379", "172.18.0.2", ""},
		{"loopback IPv4 before IPv6", "loopback", "127.0.0.1:16379", "127.0.0.1", ""},
		{"IPv6 only", "v6only", "[::]:16379", "fd00::3", ""},
		{"an unknown name", "nope", "0.0.0.0:16379", "", "--advertise nope"},
		{"an unspecified address", "0.0.0.0", "0.0.0.0:16379", "", "unspecified"},
		{"none, bound to an address", "", "127.0.0.1:16379", "", ""},
		{"none, bound to a name", "", "localhost:16379", "", ""},
		{"none, wildcard: the host name's address", "", "0.0.0.0:16379", "172.18.0.5", ""},
		{"none, empty host: the host name's address", "", ":16379", "172.18.0.5", ""},
		{"none, IPv6 wildcard", "", "[::]:16379", "172.18.0.5", ""},
	}
	for _, tc := range tests {
		got, err := advertiseHost(tc.adv, tc.raftAddr, r)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: advertiseHost(%q, %q) = %q, %v; want an error containing %q", tc.name, tc.adv, tc.raftAddr, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s: advertiseHost(%q, %q) = %q, %v; want %q", tc.name, tc.adv, tc.raftAddr, got, err, tc.want)
		}
	}
	// A wildcard raft address with a host name that does not resolve asks
	// for --advertise.
	for _, r := range []resolver{fakeResolver("", nil), fakeResolver("ghost", nil)} {
		if got, err := advertiseHost("", "0.0.0.0:16379", r); err == nil || !strings.Contains(err.Error(), "set --advertise") {
			t.Errorf("wildcard, no usable host name: got %q, %v; want an error asking for --advertise", got, err)
		}
	}
}

func TestAdvertiseAddr(t *testing.T) {
	for _, tc := range []struct{ host, addr, want string }{
		{"10.0.0.7", "0.0.0.0:6379", "10.0.0.7:6379"},
		{"fd00::9", "[::]:6379", "[fd00::9]:6379"},
		{"node1", ":8379", "node1:8379"},
	} {
		if got := advertiseAddr(tc.host, tc.addr); got != tc.want {
			t.Errorf("advertiseAddr(%q, %q) = %q, want %q", tc.host, tc.addr, got, tc.want)
		}
	}
}
