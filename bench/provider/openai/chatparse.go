package openai

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parseChat decodes a chat completion into cr without reflection: a
// well-formed answer costs a few hundred nanoseconds instead of the
// microseconds of encoding/json. It reports false, leaving cr in any
// state, whenever the body is anything but well-formed JSON whose members
// it fully understands (content given as an array of parts, a member
// spelled in another case, a number where a string belongs, invalid UTF-8,
// nesting deeper than maxDepth); the caller then decodes the body with
// encoding/json, which gives the same result or the exact error. When it
// reports true, cr is what json.Unmarshal would have produced (fuzzed
// against it in chatparse_test.go).
func parseChat(body []byte, cr *chatResponse) bool {
	p := jparser{b: body}
	p.ws()
	if !p.chatResponse(cr) {
		return false
	}
	p.ws()
	return p.i == len(p.b)
}

// maxDepth bounds the nesting parseChat follows; deeper bodies go to
// encoding/json.
const maxDepth = 200

// jparser reads JSON from b at i.
type jparser struct {
	b     []byte
	i     int
	depth int
}

func (p *jparser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *jparser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// lit consumes the literal s.
func (p *jparser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// null consumes a null if one comes next.
func (p *jparser) null() bool {
	return p.peek() == 'n' && p.lit("null")
}

// object reads an object, calling member for each key with the parser at
// its value; member reads the value and reports whether it could.
func (p *jparser) object(member func(key []byte) bool) bool {
	if p.peek() != '{' {
		return false
	}
	p.depth++
	if p.depth > maxDepth {
		return false
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		p.depth--
		return true
	}
	for {
		if p.peek() != '"' {
			return false
		}
		key, ok := p.str()
		if !ok || p.peek() != ':' {
			return false
		}
		p.i++
		if !member(key) {
			return false
		}
		switch p.peek() {
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

// array reads an array, calling elem for each element.
func (p *jparser) array(elem func(n int) bool) bool {
	if p.peek() != '[' {
		return false
	}
	p.depth++
	if p.depth > maxDepth {
		return false
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		p.depth--
		return true
	}
	for n := 0; ; n++ {
		if !elem(n) {
			return false
		}
		switch p.peek() {
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

// skip reads any value, checking its syntax.
func (p *jparser) skip() bool {
	switch c := p.peek(); {
	case c == '{':
		return p.object(func([]byte) bool { return p.skip() })
	case c == '[':
		return p.array(func(int) bool { return p.skip() })
	case c == '"':
		_, ok := p.str()
		return ok
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	default:
		_, ok := p.number()
		return ok
	}
}

// number reads a number and returns its text.
func (p *jparser) number() (string, bool) {
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

// integer reads an integer value (or null, leaving *v) into *v.
func (p *jparser) integer(v *int64) bool {
	if p.null() {
		return true
	}
	s, ok := p.number()
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

// text reads a string value (or null, leaving *v) into *v.
func (p *jparser) text(v *string) bool {
	if p.null() {
		return true
	}
	if p.peek() != '"' {
		return false
	}
	s, ok := p.str()
	if ok {
		*v = string(s)
	}
	return ok
}

// str reads a string; the parser is at its opening quote. The bytes
// returned are the body's own when the string has no escape. Invalid UTF-8
// fails (encoding/json replaces it, so it decides).
func (p *jparser) str() ([]byte, bool) {
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
func (p *jparser) escaped(start int) ([]byte, bool) {
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

// known reports whether key is one of names, and fails (by returning
// ok=false) when it is one of them in another case, which encoding/json
// would match.
func known(key []byte, names ...string) (match string, ok bool) {
	for _, n := range names {
		if string(key) == n {
			return n, true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return "", false
		}
	}
	return "", true
}

// chatResponse reads the top-level object.
func (p *jparser) chatResponse(cr *chatResponse) bool {
	if p.null() {
		return true
	}
	seen := false
	return p.object(func(key []byte) bool {
		k, ok := known(key, "choices", "usage")
		switch {
		case !ok:
			return false
		case k == "choices":
			if seen {
				return false // encoding/json reuses the elements of the first
			}
			seen = true
			if p.null() {
				cr.Choices = nil
				return true
			}
			cr.Choices = cr.Choices[:0]
			return p.array(func(n int) bool {
				cr.Choices = append(cr.Choices, chatChoice{})
				return p.choice(&cr.Choices[n])
			})
		case k == "usage":
			if p.null() {
				return true
			}
			return p.object(func(key []byte) bool {
				k, ok := known(key, "prompt_tokens", "completion_tokens")
				switch {
				case !ok:
					return false
				case k == "prompt_tokens":
					return p.integer(&cr.Usage.PromptTokens)
				case k == "completion_tokens":
					return p.integer(&cr.Usage.CompletionTokens)
				}
				return p.skip()
			})
		}
		return p.skip()
	})
}

// choice reads one element of choices.
func (p *jparser) choice(ch *chatChoice) bool {
	if p.null() {
		return true
	}
	return p.object(func(key []byte) bool {
		k, ok := known(key, "message", "finish_reason")
		switch {
		case !ok:
			return false
		case k == "finish_reason":
			return p.text(&ch.FinishReason)
		case k == "message":
			if p.null() {
				return true
			}
			return p.object(func(key []byte) bool {
				k, ok := known(key, "content", "refusal")
				switch {
				case !ok:
					return false
				case k == "content":
					// null empties it (chatContent.UnmarshalJSON); an
					// array of parts goes to encoding/json.
					if p.null() {
						ch.Message.Content = ""
						return true
					}
					return p.text((*string)(&ch.Message.Content))
				case k == "refusal":
					return p.text(&ch.Message.Refusal)
				}
				return p.skip()
			})
		}
		return p.skip()
	})
}
