package resp

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// clientLine matches one CLIENT LIST / CLIENT INFO line in Redis 7.2's
// format.
var clientLine = regexp.MustCompile(`^id=(\d+) addr=(\S+) laddr=(\S+) fd=(\d+) name=(\S*) age=(\d+) idle=(\d+) flags=(N|x?r?) db=0 ` +
	`sub=0 psub=0 ssub=0 multi=-?\d+ watch=\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ ` +
	`omem=\d+ tot-mem=\d+ events=r cmd=(\S+) user=default redir=-1 resp=([23]) lib-name=\S* lib-ver=\S*$`)

// clientFields parses the lines of a CLIENT LIST reply into field maps.
func clientFields(t *testing.T, list string) []map[string]string {
	t.Helper()
	if list != "" && !strings.HasSuffix(list, "\n") {
		t.Errorf("CLIENT LIST = %q: does not end in a newline", list)
	}
	var out []map[string]string
	for _, l := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
		if l == "" {
			continue
		}
		if !clientLine.MatchString(l) {
			t.Errorf("CLIENT LIST line %q is not in Redis's format", l)
		}
		m := map[string]string{}
		for _, f := range strings.Fields(l) {
			k, v, _ := strings.Cut(f, "=")
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

// TestClientListState: CLIENT LIST shows another connection's READONLY
// (flags r), MULTI (flags x, multi= queued commands) and WATCH (watch=).
func TestClientListState(t *testing.T) {
	ts := startServer(t, nil)
	a, b := dialRaw(t, ts), dialRaw(t, ts)
	a.roundTrip("CLIENT SETNAME conn-a\r\n", "+OK\r\n")
	lineOfA := func() map[string]string {
		t.Helper()
		b.send("CLIENT LIST\r\n")
		raw, err := b.reply()
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw[strings.Index(string(raw), "\r\n")+2 : len(raw)-2])
		for _, f := range clientFields(t, body) {
			if f["name"] == "conn-a" {
				return f
			}
		}
		t.Fatalf("CLIENT LIST %q has no conn-a", body)
		return nil
	}
	if f := lineOfA(); f["flags"] != "N" || f["multi"] != "-1" || f["watch"] != "0" {
		t.Errorf("idle connection: flags=%s multi=%s watch=%s; want N -1 0", f["flags"], f["multi"], f["watch"])
	}
	a.roundTrip("READONLY\r\n", "+OK\r\n")
	a.roundTrip("WATCH k1 k2\r\n", "+OK\r\n")
	a.roundTrip("MULTI\r\n", "+OK\r\n")
	a.roundTrip("SET k1 v\r\n", "+QUEUED\r\n")
	if f := lineOfA(); f["flags"] != "xr" || f["multi"] != "1" || f["watch"] != "2" {
		t.Errorf("READONLY, WATCH k1 k2, MULTI, SET: flags=%s multi=%s watch=%s; want xr 1 2", f["flags"], f["multi"], f["watch"])
	}
	a.roundTrip("DISCARD\r\n", "+OK\r\n")
	a.roundTrip("READWRITE\r\n", "+OK\r\n")
	if f := lineOfA(); f["flags"] != "N" || f["multi"] != "-1" || f["watch"] != "0" {
		t.Errorf("after DISCARD and READWRITE: flags=%s multi=%s watch=%s; want N -1 0", f["flags"], f["multi"], f["watch"])
	}
}

// Reference: https://redis.io/docs/latest/commands/client-list/,
// client-info/ (the line format, TYPE, ID, cmd= with the subcommand)
func TestClientListFormat(t *testing.T) {
	ts := startServer(t, nil)
	a, b := dialRaw(t, ts), dialRaw(t, ts)
	a.roundTrip("CLIENT SETNAME conn-a\r\n", "+OK\r\n")
	b.roundTrip("SET k v\r\n", "+OK\r\n")
	a.send("CLIENT INFO\r\n")
	info, err := a.reply()
	if err != nil {
		t.Fatal(err)
	}
	body := string(info[strings.Index(string(info), "\r\n")+2 : len(info)-2])
	f := clientFields(t, body)
	if len(f) != 1 || f[0]["name"] != "conn-a" || f[0]["cmd"] != "client|info" || f[0]["addr"] != a.conn.LocalAddr().String() ||
		f[0]["laddr"] != ts.addr || f[0]["fd"] == "0" {
		t.Errorf("CLIENT INFO = %q; want one line: name=conn-a cmd=client|info addr=%s laddr=%s and a real fd", body, a.conn.LocalAddr(), ts.addr)
	}
	idA := f[0]["id"]

	list := func(args ...string) []map[string]string {
		t.Helper()
		req := fmt.Sprintf("*%d\r\n", 2+len(args)) + "$6\r\nCLIENT\r\n$4\r\nLIST\r\n"
		for _, x := range args {
			req += fmt.Sprintf("$%d\r\n%s\r\n", len(x), x)
		}
		a.send(req)
		r, err := a.reply()
		if err != nil || r[0] != '$' {
			t.Fatalf("CLIENT LIST %q = %q, %v", args, r, err)
		}
		return clientFields(t, string(r[strings.Index(string(r), "\r\n")+2:len(r)-2]))
	}
	all := list()
	if len(all) != 2 || all[0]["id"] != idA || all[1]["cmd"] != "set" {
		t.Errorf("CLIENT LIST = %v; want conn-a (id %s) then the connection that sent SET", all, idA)
	}
	if got := list("TYPE", "normal"); len(got) != 2 {
		t.Errorf("CLIENT LIST TYPE normal = %v; want both connections", got)
	}
	if got := list("TYPE", "pubsub"); len(got) != 0 {
		t.Errorf("CLIENT LIST TYPE pubsub = %v; want none", got)
	}
	if got := list("ID", idA, "999999", idA); len(got) != 2 || got[0]["id"] != idA || got[1]["id"] != idA {
		t.Errorf("CLIENT LIST ID %s 999999 %s = %v; want conn-a twice", idA, idA, got)
	}
	a.roundTrip("CLIENT LIST TYPE foo\r\n", "-ERR Unknown client type 'foo'\r\n")
	a.roundTrip("CLIENT LIST ID x\r\n", "-ERR Invalid client ID\r\n")
	a.roundTrip("CLIENT LIST FOO\r\n", "-ERR syntax error\r\n")
	a.roundTrip("CLIENT LIST ID\r\n", "-ERR syntax error\r\n")
}

// Reference: https://redis.io/docs/latest/commands/client-kill/ (the old
// form and the filters of the new one, SKIPME, the replies and errors)
func TestClientKill(t *testing.T) {
	ts := startServer(t, nil)
	me := dialRaw(t, ts)
	victim := func() (*rawConn, string) {
		c := dialRaw(t, ts)
		c.send("CLIENT ID\r\n")
		r, err := c.reply()
		if err != nil {
			t.Fatal(err)
		}
		return c, strings.TrimSuffix(strings.TrimPrefix(string(r), ":"), "\r\n")
	}

	// Old form: by address; OK, or an error when nothing matched.
	v, _ := victim()
	me.roundTrip("CLIENT KILL "+v.conn.LocalAddr().String()+"\r\n", "+OK\r\n")
	v.expectClosed("(killed by CLIENT KILL addr)")
	me.roundTrip("CLIENT KILL 127.0.0.1:1\r\n", "-ERR No such client\r\n")

	// New form: every filter must match; the reply counts the kills.
	v, id := victim()
	me.roundTrip("CLIENT KILL ID "+id+" ADDR 127.0.0.1:1\r\n", ":0\r\n")
	me.roundTrip("CLIENT KILL ID "+id+" TYPE pubsub\r\n", ":0\r\n")
	me.roundTrip("CLIENT KILL ID "+id+" LADDR "+ts.addr+" USER default TYPE normal\r\n", ":1\r\n")
	v.expectClosed("(killed by CLIENT KILL ID)")
	v, _ = victim()
	me.roundTrip("CLIENT KILL ADDR "+v.conn.LocalAddr().String()+"\r\n", ":1\r\n")
	v.expectClosed("(killed by CLIENT KILL ADDR)")

	// LADDR with SKIPME (default yes): every other connection to the server.
	v1, _ := victim()
	v2, _ := victim()
	me.roundTrip("CLIENT KILL LADDR "+ts.addr+"\r\n", ":2\r\n")
	v1.expectClosed("(killed by CLIENT KILL LADDR)")
	v2.expectClosed("(killed by CLIENT KILL LADDR)")
	me.roundTrip("PING\r\n", "+PONG\r\n")

	// Errors.
	for req, want := range map[string]string{
		"CLIENT KILL ID 0":             "-ERR client-id should be greater than 0",
		"CLIENT KILL ID abc":           "-ERR client-id should be greater than 0",
		"CLIENT KILL ID 1 ID":          "-ERR syntax error",
		"CLIENT KILL FOO bar":          "-ERR syntax error",
		"CLIENT KILL SKIPME maybe":     "-ERR syntax error",
		"CLIENT KILL TYPE foo":         "-ERR Unknown client type 'foo'",
		"CLIENT KILL USER nobody":      "-ERR No such user 'nobody'",
		"CLIENT KILL":                  "-ERR wrong number of arguments for 'client|kill' command",
		"CLIENT KILL MAXAGE 10 FOO 10": "-ERR syntax error",
	} {
		me.roundTrip(req+"\r\n", want+"\r\n")
	}

	// A connection may kill itself: with the old form, or SKIPME no. The
	// reply comes first, then the connection closes; what was pipelined
	// after it is not run.
	self := dialRaw(t, ts)
	in := "CLIENT KILL " + self.conn.LocalAddr().String() + "\r\nSET after-kill 1\r\n"
	self.roundTrip(in, "+OK\r\n")
	self.expectClosed(in)
	self2, id2 := victim()
	in = "CLIENT KILL ID " + id2 + " SKIPME no\r\n"
	self2.roundTrip(in, ":1\r\n")
	self2.expectClosed(in)
	me.roundTrip("EXISTS after-kill\r\n", ":0\r\n")
}
