package resp

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	table := newCommandTable()
	tests := []struct {
		args    []string
		wantCmd string // "" when lookup fails
		wantErr string
	}{
		{[]string{"GET", "k"}, "get", ""},
		{[]string{"get", "k"}, "get", ""},
		{[]string{"gEt", "k"}, "get", ""},
		{[]string{"RAFT.INFO"}, "raft.info", ""},
		{[]string{"SET", "k", "v", "NX"}, "set", ""}, // arity -3: at least 3
		{[]string{"PING"}, "ping", ""},
		{[]string{"PING", "a", "b"}, "ping", ""}, // arity -1; cmdPing checks the rest
		{[]string{"GET"}, "", "ERR wrong number of arguments for 'get' command"},
		{[]string{"GET", "a", "b"}, "", "ERR wrong number of arguments for 'get' command"},
		{[]string{"Set", "k"}, "", "ERR wrong number of arguments for 'set' command"},
		{[]string{"DBSIZE", "x"}, "", "ERR wrong number of arguments for 'dbsize' command"},
		{[]string{"foo", "a", "b"}, "", "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{[]string{"FOO"}, "", "ERR unknown command 'FOO', with args beginning with: "},
		{[]string{""}, "", "ERR unknown command '', with args beginning with: "},
		// Only ASCII letters fold, as in Redis: U+0130 lower-cases to 'i'
		// in Unicode but is not "I".
		{[]string{"\u0130NFO"}, "", "ERR unknown command '\u0130NFO', with args beginning with: "},
		{[]string{"P\u0130NG"}, "", "ERR unknown command 'P\u0130NG', with args beginning with: "},
		{[]string{strings.Repeat("G", 40)}, "", "ERR unknown command '" + strings.Repeat("G", 40) + "', with args beginning with: "},
	}
	for _, tt := range tests {
		cmd, errMsg := lookup(table, toArgs(tt.args))
		got := ""
		if cmd != nil {
			got = cmd.name
		}
		if got != tt.wantCmd || errMsg != tt.wantErr {
			t.Errorf("lookup(%q) = %q, %q; want %q, %q", tt.args, got, errMsg, tt.wantCmd, tt.wantErr)
		}
	}
}

// TestLookupArity checks every table row at its arity and one off.
func TestLookupArity(t *testing.T) {
	table := newCommandTable()
	for name, c := range table {
		n := max(c.arity, -c.arity)
		args := make([]string, n)
		args[0] = strings.ToUpper(name)
		for i := 1; i < n; i++ {
			args[i] = "x"
		}
		if got, msg := lookup(table, toArgs(args)); got != c {
			t.Errorf("lookup(%q) = %v, %q; want the %s row (arity %d)", args, got, msg, name, c.arity)
		}
		want := "ERR wrong number of arguments for '" + name + "' command"
		if n > 1 {
			if got, msg := lookup(table, toArgs(args[:n-1])); got != nil || msg != want {
				t.Errorf("lookup(%q) = %v, %q; want %q", args[:n-1], got, msg, want)
			}
		}
		more := append(args, "extra")
		got, msg := lookup(table, toArgs(more))
		if c.arity > 0 && (got != nil || msg != want) {
			t.Errorf("lookup(%q) = %v, %q; want %q", more, got, msg, want)
		}
		if c.arity < 0 && got != c {
			t.Errorf("lookup(%q) = %v, %q; want the %s row", more, got, msg, name)
		}
	}
}

// Reference: Redis server.c commandCheckExistence: the name is cut to 128
// bytes and the quoted arguments to a 128-byte budget.
func TestUnknownCommandText(t *testing.T) {
	a100, a128, a200 := strings.Repeat("a", 100), strings.Repeat("a", 128), strings.Repeat("a", 200)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"foo", "a", "b"}, "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{[]string{"foo", ""}, "ERR unknown command 'foo', with args beginning with: '' "},
		{[]string{a200}, "ERR unknown command '" + a128 + "', with args beginning with: "},
		{[]string{"foo", a200, "b"}, "ERR unknown command 'foo', with args beginning with: '" + a128 + "' "},
		{[]string{"foo", a100, a100, a100}, "ERR unknown command 'foo', with args beginning with: '" + a100 + "' '" + strings.Repeat("a", 25) + "' "},
		{[]string{"foo", a100, "bb", "c", "d"}, "ERR unknown command 'foo', with args beginning with: '" + a100 + "' 'bb' 'c' 'd' "},
		{append([]string{"foo"}, strings.Split(strings.Repeat("xyz ", 50), " ")...),
			"ERR unknown command 'foo', with args beginning with: " + strings.Repeat("'xyz' ", 21) + "'xy' "},
	}
	for _, tt := range tests {
		if got := unknownCommand(toArgs(tt.args)); got != tt.want {
			t.Errorf("unknownCommand(%.60q) =\n%q\nwant\n%q", tt.args, got, tt.want)
		}
	}
}

// globRef is a plain recursive glob with * and ?, exponential in the worst
// case; TestGlobMatch checks globMatch against it on small inputs. As in
// Redis, an empty name matches only the empty pattern.
func globRef(pat, name string) bool {
	if name == "" {
		return pat == ""
	}
	return globRefRec(pat, name)
}

func globRefRec(pat, name string) bool {
	if pat == "" {
		return name == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(name); i++ {
			if globRefRec(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	case '?':
		return name != "" && globRefRec(pat[1:], name[1:])
	}
	return name != "" && name[0] == pat[0] && globRefRec(pat[1:], name[1:])
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*", "maxmemory", true},
		{"*", "", false}, // Redis: an empty string matches only ""
		{"", "", true},
		{"", "a", false},
		{"max*", "maxmemory", true},
		{"*memory", "maxmemory", true},
		{"*mem*", "maxmemory", true},
		{"proto-max-bulk-le?", "proto-max-bulk-len", true},
		{"proto-max-bulk-le?", "proto-max-bulk-le", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyyd", false},
		{"a*b", "ab", true},
		{"a**b", "ab", true},
		{"?", "", false},
		{"*?", "", false},
		{"*a", "bab", false},
		{"*ab", "aab", true},
		{"save", "save", true},
		{"sav", "save", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.name); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(alphabet string, n int) string {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		pat, name := gen("ab*?", 7), gen("ab", 7)
		if got, want := globMatch(pat, name), globRef(pat, name); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, want %v", pat, name, got, want)
		}
	}
}

// TestGlobMatchPathological: CONFIG GET takes a client's pattern, so the
// match must not take exponential time.
func TestGlobMatchPathological(t *testing.T) {
	pats := []string{strings.Repeat("*", 40) + "z", strings.Repeat("*?", 30) + "z", strings.Repeat("*a", 30) + "z"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range pats {
			if globMatch(p, "proto-max-bulk-len") || globMatch(p, strings.Repeat("a", 200)) {
				t.Errorf("globMatch(%q, ...) = true, want false", p)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(ioTimeout):
		t.Fatalf("globMatch(%q, ...) did not finish within %v", pats, ioTimeout)
	}
}

func BenchmarkLookup(b *testing.B) {
	table := newCommandTable()
	reqs := [][][]byte{toArgs([]string{"GET", "k"}), toArgs([]string{"set", "k", "v"}), toArgs([]string{"IncrBy", "k", "1"})}
	b.ReportAllocs()
	for b.Loop() {
		for _, args := range reqs {
			if c, msg := lookup(table, args); c == nil {
				b.Fatalf("lookup(%q): %s", args, msg)
			}
		}
	}
}
