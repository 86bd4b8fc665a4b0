package jsontext

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting a Reader follows; deeper input fails.
const maxDepth = 200

// Reader reads JSON without reflection, for decoders that know the shape
// they expect and hand anything else to encoding/json: every method reports
// false on input it does not accept (a syntax error, invalid UTF-8 in a
// string, nesting deeper than maxDepth), and never accepts what
// encoding/json rejects. What it accepts, it decodes as encoding/json does.
type Reader struct {
	b     []byte
	i     int
	depth int
}

// NewReader returns a Reader at the start of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// End skips white space and reports whether the input ends there.
func (p *Reader) End() bool {
	p.WS()
	return p.i == len(p.b)
}

// WS skips white space.
func (p *Reader) WS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space, or 0 at the end.
func (p *Reader) Peek() byte {
	p.WS()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// lit consumes the literal s.
func (p *Reader) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// Null consumes a null if one comes next.
func (p *Reader) Null() bool {
	return p.Peek() == 'n' && p.lit("null")
}

// Object reads an object, calling member for each key with the parser at
// its value; member reads the value and reports whether it could.
func (p *Reader) Object(member func(key []byte) bool) bool {
	if p.Peek() != '{' {
		return false
	}
	p.depth++
	if p.depth > maxDepth {
		return false
	}
	p.i++
	if p.Peek() == '}' {
		p.i++
		p.depth--
		return true
	}
	for {
		if p.Peek() != '"' {
			return false
		}
		key, ok := p.String()
		if !ok || p.Peek() != ':' {
			return false
		}
		p.i++
		if !member(key) {
			return false
		}
		switch p.Peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return true
		default:
			return false
		}
	}
}

// Array reads an array, calling elem for each element.
func (p *Reader) Array(elem func(n int) bool) bool {
	if p.Peek() != '[' {
		return false
	}
	p.depth++
	if p.depth > maxDepth {
		return false
	}
	p.i++
	if p.Peek() == ']' {
		p.i++
		p.depth--
		return true
	}
	for n := 0; ; n++ {
		if !elem(n) {
			return false
		}
		switch p.Peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return true
		default:
			return false
		}
	}
}

// Skip reads any value, checking its syntax.
func (p *Reader) Skip() bool {
	switch c := p.Peek(); {
	case c == '{':
		return p.Object(func([]byte) bool { return p.Skip() })
	case c == '[':
		return p.Array(func(int) bool { return p.Skip() })
	case c == '"':
		_, ok := p.String()
		return ok
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	default:
		_, ok := p.Number()
		return ok
	}
}

// Number reads a number and returns its text.
func (p *Reader) Number() (string, bool) {
	b, start := p.b, p.i
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return string(b[start:i]), true
}

// Integer reads an integer value (or null, leaving *v) into *v.
func (p *Reader) Integer(v *int64) bool {
	if p.Null() {
		return true
	}
	s, ok := p.Number()
	if !ok || strings.ContainsAny(s, ".eE") {
		return false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return false
	}
	*v = n
	return true
}

// Text reads a string value (or null, leaving *v) into *v.
func (p *Reader) Text(v *string) bool {
	if p.Null() {
		return true
	}
	if p.Peek() != '"' {
		return false
	}
	s, ok := p.String()
	if ok {
		*v = string(s)
	}
	return ok
}

// String reads a string; the parser is at its opening quote. The bytes
// returned are the body's own when the string has no escape. Invalid UTF-8
// fails (encoding/json replaces it, so it decides).
func (p *Reader) String() ([]byte, bool) {
	b := p.b
	start := p.i + 1
	i := start
	ascii := true
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[start:i]) {
				return nil, false
			}
			p.i = i + 1
			return b[start:i], true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		i++
	}
	return nil, false
}

// escaped reads a string with escapes from start, just after its opening
// quote.
func (p *Reader) escaped(start int) ([]byte, bool) {
	b := p.b
	var sb bytes.Buffer
	sb.Grow(min(len(b)-start, 1<<10))
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return sb.Bytes(), true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if i+1 >= len(b) {
				return nil, false
			}
			i++
			switch b[i] {
			case '"', '\\', '/':
				sb.WriteByte(b[i])
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r, ok := hex4(b, i+1)
				if !ok {
					return nil, false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A valid pair makes one rune; anything else is
					// U+FFFD, as encoding/json decodes it.
					r2, ok2 := rune(-1), false
					if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						r2, ok2 = hex4(b, i+3)
					}
					if ok2 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							sb.WriteRune(dec)
							i += 6
							break
						}
					}
					r = utf8.RuneError
				}
				sb.WriteRune(r)
			default:
				return nil, false
			}
			i++
		default:
			n := i
			for n < len(b) && b[n] != '"' && b[n] != '\\' && b[n] >= 0x20 {
				n++
			}
			if !utf8.Valid(b[i:n]) {
				return nil, false
			}
			sb.Write(b[i:n])
			i = n
		}
	}
	return nil, false
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Number is the text of a JSON number, as Value returns it.
type Number string

// Value reads any value as encoding/json decodes it into an interface with
// UseNumber: map[string]any, []any, string, Number, bool or nil.
func (p *Reader) Value() (any, bool) {
	switch c := p.Peek(); {
	case c == '{':
		m := map[string]any{}
		ok := p.Object(func(key []byte) bool {
			v, ok := p.Value()
			m[string(key)] = v
			return ok
		})
		return m, ok
	case c == '[':
		a := []any{}
		ok := p.Array(func(int) bool {
			v, ok := p.Value()
			a = append(a, v)
			return ok
		})
		return a, ok
	case c == '"':
		s, ok := p.String()
		return string(s), ok
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	default:
		n, ok := p.Number()
		return Number(n), ok
	}
}
