package jepsen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Names and addresses of everything the harness creates. Every network
// namespace is named nsPrefix + tag + suffix and the one root-namespace
// interface of a test network linkPrefix + tag, where tag is the owning
// process's PID (6 hex digits) and a counter (2 hex digits); leftovers of
// dead processes are found by that prefix and removed (CleanupLeftovers).
const (
	nsPrefix   = "rjep-"
	linkPrefix = "rjh"
	// subnetBase: each test network is subnetBase.X.0/24 for a free X; the
	// root namespace's side is .1, host i is .(10+i).
	subnetBase = "10.77"
	// cmdTimeout bounds every ip/iptables/tc invocation.
	cmdTimeout = 15 * time.Second
)

var (
	netCounter atomic.Uint32
	subnetMu   sync.Mutex
	subnetUsed = map[int]bool{} // third octets taken by this process
)

// command runs name with args, bounded by cmdTimeout, and returns its
// combined output; an error carries the command line and the output.
func command(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ip runs `ip args...`.
func ip(args ...string) error {
	_, err := command("ip", args...)
	return err
}

// inNS runs a command inside network namespace ns.
func inNS(ns string, args ...string) (string, error) {
	return command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Check reports why the harness cannot run on this machine (not root, no
// `ip netns`, no iptables), or nil.
func Check() error {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("jepsen tests need root for network namespaces, iptables and tc (running as uid %d)", uid)
	}
	for _, tool := range []string{"ip", "iptables", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("jepsen tests need %s (iproute2, iptables): %v", tool, err)
		}
	}
	ns := fmt.Sprintf("%s%06xff-check", nsPrefix, os.Getpid()&0xffffff)
	if err := ip("netns", "add", ns); err != nil {
		return fmt.Errorf("cannot create a network namespace: %v", err)
	}
	defer func() { _ = ip("netns", "del", ns) }()
	if _, err := inNS(ns, "iptables", "-w", "-S"); err != nil {
		return fmt.Errorf("iptables does not work inside a network namespace: %v", err)
	}
	return nil
}

// CleanupLeftovers removes namespaces and interfaces (and kills the
// processes inside) that an earlier, dead test process left behind.
// Resources of live processes are left alone.
func CleanupLeftovers(logf func(string, ...any)) {
	out, err := command("ip", "netns", "list")
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			if owner, ok := ownerPID(name, nsPrefix); ok && !processAlive(owner) {
				killNS(name)
				if err := ip("netns", "del", name); err != nil {
					logf("cleanup: %v", err)
				} else {
					logf("cleanup: removed leftover namespace %s of dead process %d", name, owner)
				}
			}
		}
	}
	out, err = command("ip", "-o", "link", "show")
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name := strings.TrimSuffix(f[1], ":")
			name, _, _ = strings.Cut(name, "@")
			if owner, ok := ownerPID(name, linkPrefix); ok && !processAlive(owner) {
				if err := ip("link", "del", name); err == nil {
					logf("cleanup: removed leftover interface %s of dead process %d", name, owner)
				}
			}
		}
	}
}

// ownerPID parses the PID out of a name made by this package.
func ownerPID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) < 6 {
		return 0, false
	}
	pid, err := strconv.ParseInt(rest[:6], 16, 32)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return int(pid), true
}

func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// killNS sends SIGKILL to every process in namespace ns.
func killNS(ns string) {
	out, err := command("ip", "netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Net is a private test network: a bridge in a "switch" namespace, one
// namespace per host with a veth into the bridge, and a veth from the root
// namespace into the bridge, through which the test process (and only it)
// reaches every host. Rules that cut hosts apart live inside the host
// namespaces, so the test process always reaches every host.
type Net struct {
	tag      string
	prefix   string // "10.77.X"
	octet    int
	sw       string // switch namespace
	hostLink string // root namespace's interface
	Hosts    []*Host
	logf     func(string, ...any)

	slowOnce sync.Once
	slowMode string // "netem", "tbf" or "" (none works)
	slowErr  error

	mu     sync.Mutex
	closed bool
}

// Host is one network namespace with one address on the test network.
type Host struct {
	Index int    // 1-based
	NS    string // namespace name
	IP    string
	net   *Net
}

func (h *Host) String() string { return fmt.Sprintf("h%d(%s)", h.Index, h.IP) }

// NewNet creates a network with hosts hosts. On error everything created
// is removed again.
func NewNet(hosts int, logf func(string, ...any)) (n *Net, err error) {
	tag := fmt.Sprintf("%06x%02x", os.Getpid()&0xffffff, netCounter.Add(1)&0xff)
	n = &Net{tag: tag, sw: nsPrefix + tag + "-sw", hostLink: linkPrefix + tag, logf: logf}
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()
	if n.octet, err = pickSubnet(); err != nil {
		return n, err
	}
	n.prefix = fmt.Sprintf("%s.%d", subnetBase, n.octet)
	steps := [][]string{
		{"netns", "add", n.sw},
		{"-n", n.sw, "link", "set", "lo", "up"},
		{"-n", n.sw, "link", "add", "br0", "type", "bridge"},
		{"-n", n.sw, "link", "set", "br0", "up"},
		{"link", "add", n.hostLink, "type", "veth", "peer", "name", "up0", "netns", n.sw},
		{"-n", n.sw, "link", "set", "up0", "master", "br0"},
		{"-n", n.sw, "link", "set", "up0", "up"},
		{"addr", "add", n.prefix + ".1/24", "dev", n.hostLink},
		{"link", "set", n.hostLink, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return n, fmt.Errorf("jepsen: create test network: %w", err)
		}
	}
	for i := 1; i <= hosts; i++ {
		if err := n.addHost(i); err != nil {
			return n, err
		}
	}
	logf("network %s: %s.0/24, bridge in %s, %d hosts", tag, n.prefix, n.sw, hosts)
	return n, nil
}

// pickSubnet returns a third octet X such that 10.77.X.0/24 is used by no
// interface of the root namespace nor by another network of this process.
func pickSubnet() (int, error) {
	subnetMu.Lock()
	defer subnetMu.Unlock()
	out, err := command("ip", "-o", "-4", "addr", "show")
	if err != nil {
		return 0, err
	}
	start := (os.Getpid()*7+int(netCounter.Load())*13)%250 + 1
	for i := range 250 {
		x := (start+i)%250 + 1
		if subnetUsed[x] || strings.Contains(out, fmt.Sprintf(" %s.%d.", subnetBase, x)) {
			continue
		}
		subnetUsed[x] = true
		return x, nil
	}
	return 0, errors.New("jepsen: no free 10.77.X.0/24 subnet")
}

func (n *Net) addHost(i int) error {
	h := &Host{Index: i, NS: fmt.Sprintf("%s%s-h%d", nsPrefix, n.tag, i), IP: fmt.Sprintf("%s.%d", n.prefix, 10+i), net: n}
	port := fmt.Sprintf("p%d", i)
	steps := [][]string{
		{"netns", "add", h.NS},
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"link", "add", port, "netns", n.sw, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		{"-n", n.sw, "link", "set", port, "master", "br0"},
		{"-n", n.sw, "link", "set", port, "up"},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"-n", h.NS, "link", "set", "eth0", "up"},
	}
	n.mu.Lock()
	n.Hosts = append(n.Hosts, h) // before creating it, so that Close removes it
	n.mu.Unlock()
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return fmt.Errorf("jepsen: create host %d: %w", i, err)
		}
	}
	return nil
}

// Close kills every process left in the hosts' namespaces and removes the
// namespaces and interfaces. It is idempotent and safe on a partly built
// network.
func (n *Net) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	hosts := append([]*Host(nil), n.Hosts...)
	n.mu.Unlock()
	for _, h := range hosts {
		killNS(h.NS)
		_ = ip("netns", "del", h.NS)
	}
	_ = ip("netns", "del", n.sw)
	_ = ip("link", "del", n.hostLink) // gone with its peer already, normally
	if n.octet != 0 {
		subnetMu.Lock()
		delete(subnetUsed, n.octet)
		subnetMu.Unlock()
	}
}

// Cut drops every packet sent from a pair's first host to its second (one
// way). The rule lives in the receiver's namespace (INPUT chain), so the
// test process still reaches both.
func (n *Net) Cut(pairs [][2]*Host) error {
	from := map[*Host][]string{}
	var order []*Host
	for _, p := range pairs {
		if p[0] == p[1] {
			continue
		}
		if _, ok := from[p[1]]; !ok {
			order = append(order, p[1])
		}
		from[p[1]] = append(from[p[1]], p[0].IP)
	}
	for _, dst := range order {
		if _, err := inNS(dst.NS, "iptables", "-w", "-A", "INPUT", "-s", strings.Join(from[dst], ","), "-j", "DROP"); err != nil {
			return fmt.Errorf("jepsen: cut: %w", err)
		}
	}
	return nil
}

// Partition cuts every host of one group from every host of every other
// group, both ways. Hosts in no group are not cut.
func (n *Net) Partition(groups ...[]*Host) error {
	var pairs [][2]*Host
	for i, g := range groups {
		for j, o := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range o {
					pairs = append(pairs, [2]*Host{a, b})
				}
			}
		}
	}
	return n.Cut(pairs)
}

// HealPartitions removes every DROP rule from every host.
func (n *Net) HealPartitions() error {
	var errs []error
	for _, h := range n.hostList() {
		if _, err := inNS(h.NS, "iptables", "-w", "-F", "INPUT"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (n *Net) hostList() []*Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Host(nil), n.Hosts...)
}

// SlowMode reports how Slow slows the network: "netem" (delay with
// jitter), "tbf" (a bandwidth limit, when the kernel lacks sch_netem) or
// "" with the reason when neither works.
func (n *Net) SlowMode() (string, error) {
	n.slowOnce.Do(func() {
		hosts := n.hostList()
		if len(hosts) == 0 {
			n.slowErr = errors.New("no hosts")
			return
		}
		h := hosts[0]
		var errs []error
		for _, mode := range []string{"netem", "tbf"} {
			_, err := inNS(h.NS, append([]string{"tc", "qdisc", "replace", "dev", "eth0", "root"}, slowArgs(mode)...)...)
			if err == nil {
				_, _ = inNS(h.NS, "tc", "qdisc", "del", "dev", "eth0", "root")
				n.slowMode = mode
				return
			}
			errs = append(errs, err)
		}
		n.slowErr = errors.Join(errs...)
		n.logf("slow network unavailable: %v", n.slowErr)
	})
	return n.slowMode, n.slowErr
}

// slowArgs are the qdisc arguments of each slow mode: netem adds 40ms±20ms
// to every packet a host sends; tbf (no netem in the kernel) limits each
// host's outgoing bandwidth so that bursts queue up for up to 300ms.
func slowArgs(mode string) []string {
	if mode == "netem" {
		return []string{"netem", "delay", "40ms", "20ms", "distribution", "normal"}
	}
	return []string{"tbf", "rate", "512kbit", "burst", "8kb", "latency", "300ms"}
}

// Slow slows every host's outgoing traffic (see SlowMode).
func (n *Net) Slow() (string, error) {
	mode, err := n.SlowMode()
	if err != nil {
		return "", err
	}
	for _, h := range n.hostList() {
		if _, err := inNS(h.NS, append([]string{"tc", "qdisc", "replace", "dev", "eth0", "root"}, slowArgs(mode)...)...); err != nil {
			return mode, fmt.Errorf("jepsen: slow %s: %w", h, err)
		}
	}
	return mode, nil
}

// Unslow removes the qdiscs Slow added.
func (n *Net) Unslow() error {
	var errs []error
	for _, h := range n.hostList() {
		if out, err := inNS(h.NS, "tc", "qdisc", "del", "dev", "eth0", "root"); err != nil &&
			!strings.Contains(out, "No such file") && !strings.Contains(out, "Cannot delete qdisc with handle of zero") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
