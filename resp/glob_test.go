package resp

import (
	"strings"
	"testing"
	"time"
)

// redisGlob is a line-by-line port of Redis's stringmatchlen (util.c)
// without its skipLongerMatches shortcut: exponential on some patterns,
// so only for short inputs. Bytes past the pattern read as NUL, as in C.
func redisGlob(pattern, str []byte, nocase bool) bool {
	return redisGlobImpl(pattern, str, nocase, 0)
}

func redisGlobImpl(pattern, str []byte, nocase bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	at := func(i int) byte {
		if i < len(pattern) {
			return pattern[i]
		}
		return 0
	}
	tolower := func(c int) int {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	p, s := 0, 0
loop:
	for len(pattern)-p > 0 && len(str)-s > 0 {
		switch at(p) {
		case '*':
			for len(pattern)-p > 0 && at(p+1) == '*' {
				p++
			}
			if len(pattern)-p == 1 {
				return true
			}
			for ; s < len(str); s++ {
				if redisGlobImpl(pattern[p+1:], str[s:], nocase, nesting+1) {
					return true
				}
			}
			return false
		case '?':
			s++
		case '[':
			p++
			not := at(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if at(p) == '\\' && len(pattern)-p >= 2 {
					p++
					if at(p) == str[s] {
						match = true
					}
				} else if at(p) == ']' {
					break
				} else if len(pattern)-p == 0 {
					p--
					break
				} else if len(pattern)-p >= 3 && at(p+1) == '-' {
					start, end, c := int(int8(at(p))), int(int8(at(p+2))), int(int8(str[s]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = tolower(start), tolower(end), tolower(c)
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if (!nocase && at(p) == str[s]) || (nocase && tolower(int(at(p))) == tolower(int(str[s]))) {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pattern)-p >= 2 {
				p++
			}
			fallthrough
		default:
			if (!nocase && at(p) != str[s]) || (nocase && tolower(int(at(p))) != tolower(int(str[s]))) {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for at(p) == '*' {
				p++
			}
			break loop
		}
	}
	return len(pattern)-p == 0 && s == len(str)
}

// Reference: https://redis.io/docs/latest/commands/keys/ (glob-style
// patterns); the cases marked "redis" were checked against redis-server.
func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "hllo", true},
		{"h*llo", "heeeello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, // ends in either order
		{"h[a-b]llo", "hcllo", false},
		{`h\[llo`, "h[llo", true},
		{`h\*llo`, "hxllo", false},
		{`h\*llo`, "h*llo", true},
		{`[\]]`, "]", true},
		{`[a-]`, "]", true}, // "a-]" is the range a..']' (redis)
		{"[abc", "b", true}, // an open class runs to the end
		{"[abc", "bx", false},
		{"[", "[", false}, // an empty class matches nothing
		{"[^", "x", true}, // an empty negated class matches anything
		{"*", "", false},  // redis: "" matches only ""
		{"", "", true},
		{"**", "", false},
		{"a*", "a", true},
		{"a*b", "a", false},
		{`\`, `\`, true}, // a trailing backslash is itself
		{"[\x00-\xff]", "\x80", false},
		{"[\x00-\xff]", "\xff", true}, // signed char: \xff is -1, in [-1, 0]
		{"[\x80-\x7f]", "\x90", true},
		{"abc", "ab", false},
		{"?", "\x00", true},
	}
	for _, tt := range tests {
		if got := compileGlob([]byte(tt.pat), false).match([]byte(tt.s)); got != tt.want {
			t.Errorf("glob %q matching %q = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
		if ref := redisGlob([]byte(tt.pat), []byte(tt.s), false); ref != tt.want {
			t.Errorf("reference: glob %q matching %q = %v, want %v (the table is wrong)", tt.pat, tt.s, ref, tt.want)
		}
	}
	// nocase (CONFIG GET): letters fold, in classes too, except escaped.
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"MAX*", "maxmemory", true},
		{"[M]ax", "max", true},
		{"[A-Z]ax", "max", true},
		{`[\M]ax`, "max", false},
	} {
		if got := compileGlob([]byte(tt.pat), true).match([]byte(tt.s)); got != tt.want {
			t.Errorf("nocase glob %q matching %q = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// TestGlobStarLimit: like Redis, a pattern needing more than 1000 star
// groups before its end never matches (checked against redis-server).
func TestGlobStarLimit(t *testing.T) {
	s := []byte(strings.Repeat("a", 1001))
	for _, tt := range []struct {
		pat  string
		want bool
	}{
		{strings.Repeat("*a", 1000) + "*", true},
		{strings.Repeat("*a", 1001) + "*", false},
		{strings.Repeat("*a", 1001), false},
		{strings.Repeat("*a", 999) + "*a", true},
	} {
		if got := compileGlob([]byte(tt.pat), false).match(s); got != tt.want {
			t.Errorf("glob of %d bytes matching 1001 a's = %v, want %v", len(tt.pat), got, tt.want)
		}
	}
}

// TestGlobLinear: patterns that make a naive matcher exponential take
// linear-ish time.
func TestGlobLinear(t *testing.T) {
	s := []byte(strings.Repeat("a", 5000))
	start := time.Now()
	for _, p := range []string{strings.Repeat("*a", 500) + "b", strings.Repeat("*?", 400) + "b", "*[a-z]*[a-z]*[a-z]*b"} {
		if compileGlob([]byte(p), false).match(s) {
			t.Errorf("glob %.30q... matched %d a's, want no match", p, len(s))
		}
	}
	if d := time.Since(start); d > ioTimeout {
		t.Errorf("3 matches took %v", d)
	}
}

// FuzzGlob: the compiled matcher agrees with the port of Redis's matcher
// on every (short) pattern and string, case-sensitive or not.
func FuzzGlob(f *testing.F) {
	f.Add([]byte("h[a-e]*o"), []byte("hello"), false)
	f.Add([]byte(`[^\]a-]x*?`), []byte("]xyz"), true)
	f.Add([]byte("[\xff-a"), []byte("\x80"), false)
	f.Fuzz(func(t *testing.T, pat, s []byte, nocase bool) {
		if len(pat) > 24 || len(s) > 24 || strings.Count(string(pat), "*") > 6 {
			return // the reference is exponential
		}
		got := compileGlob(pat, nocase).match(s)
		if want := redisGlob(pat, s, nocase); got != want {
			t.Fatalf("glob %q matching %q (nocase %v) = %v, Redis's algorithm says %v", pat, s, nocase, got, want)
		}
	})
}
