package resp

// Glob patterns as Redis matches them (util.c stringmatchlen), for KEYS,
// SCAN MATCH and CONFIG GET:
//
//   - "*" matches any sequence of bytes (consecutive stars are one);
//   - "?" matches any one byte;
//   - "[abc]" one of the bytes, "[^abc]" none of them, "[a-z]" a range
//     (ends in either order; bytes compare as C's signed char, as Redis on
//     x86-64 does); "\x" inside a class is x itself; an unterminated class
//     runs to the end of the pattern;
//   - "\x" matches x itself;
//
// and Redis's corner cases: an empty string matches only the empty pattern
// (KEYS and SCAN treat the pattern "*" as "everything" before matching),
// and a pattern with more than 1000 star groups before its end never
// matches (Redis's recursion limit).
//
// The pattern is compiled into tokens once; matching backtracks only to the
// last star, so it takes O(len(pattern) * len(s)) time at worst: a
// client's pattern cannot make it exponential.
type glob struct {
	toks    []globTok
	empty   bool // the pattern is ""
	tooDeep bool // more than globMaxStars star groups before the end
	nocase  bool
}

type globTok struct {
	kind byte       // globStar, globAny, globByte, globClass
	b    byte       // globByte
	set  *[256]bool // globClass: the bytes that match
}

const (
	globStar = iota
	globAny
	globByte
	globClass
)

// globMaxStars is the star groups Redis's matcher recurses through before
// it gives up.
const globMaxStars = 1000

// compileGlob compiles pat; nocase folds ASCII letters (CONFIG GET).
func compileGlob(pat []byte, nocase bool) *glob {
	g := &glob{empty: len(pat) == 0, nocase: nocase}
	fold := func(c byte) byte {
		if nocase && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			for i+1 < len(pat) && pat[i+1] == '*' {
				i++
			}
			g.toks = append(g.toks, globTok{kind: globStar})
		case '?':
			g.toks = append(g.toks, globTok{kind: globAny})
		case '[':
			var set [256]bool
			i = compileClass(pat, i+1, &set, nocase)
			g.toks = append(g.toks, globTok{kind: globClass, set: &set})
		case '\\':
			if i+1 < len(pat) {
				i++
			}
			fallthrough
		default:
			g.toks = append(g.toks, globTok{kind: globByte, b: fold(pat[i])})
		}
	}
	stars := 0
	for i, t := range g.toks {
		if t.kind == globStar && i < len(g.toks)-1 {
			stars++
		}
	}
	g.tooDeep = stars > globMaxStars
	return g
}

// compileClass reads a class body starting at pat[i] (after '[') into set
// and returns the index of its last byte (the ']', or the pattern's last
// byte when the class is not closed).
func compileClass(pat []byte, i int, set *[256]bool, nocase bool) int {
	lower := func(c int) int {
		if nocase && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	not := i < len(pat) && pat[i] == '^'
	if not {
		i++
	}
	for {
		if i < len(pat) && pat[i] == '\\' && len(pat)-i >= 2 {
			i++
			set[pat[i]] = true // compared exactly, even with nocase
		} else if i < len(pat) && pat[i] == ']' {
			break
		} else if i >= len(pat) {
			i-- // not closed: the class ends with the pattern
			break
		} else if len(pat)-i >= 3 && pat[i+1] == '-' {
			start, end := int(int8(pat[i])), int(int8(pat[i+2]))
			if start > end {
				start, end = end, start
			}
			start, end = lower(start), lower(end)
			for b := range 256 {
				if c := lower(int(int8(b))); c >= start && c <= end {
					set[b] = true
				}
			}
			i += 2
		} else {
			for b := range 256 {
				if lower(b) == lower(int(pat[i])) {
					set[b] = true
				}
			}
		}
		i++
	}
	if not {
		for b := range set {
			set[b] = !set[b]
		}
	}
	return i
}

// match reports whether s matches the pattern.
func (g *glob) match(s []byte) bool {
	if len(s) == 0 {
		return g.empty
	}
	if g.tooDeep {
		return false
	}
	ti, si := 0, 0
	star, starS := -1, 0 // the last star token and where its match ends
	for si < len(s) {
		if ti < len(g.toks) {
			t := &g.toks[ti]
			if t.kind == globStar {
				star, starS = ti, si
				ti++
				continue
			}
			if t.matches(s[si], g.nocase) {
				ti++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		starS++
		ti, si = star+1, starS
	}
	for ti < len(g.toks) && g.toks[ti].kind == globStar {
		ti++
	}
	return ti == len(g.toks)
}

func (t *globTok) matches(c byte, nocase bool) bool {
	switch t.kind {
	case globAny:
		return true
	case globByte:
		if nocase && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return t.b == c
	case globClass:
		return t.set[c]
	}
	return false
}
