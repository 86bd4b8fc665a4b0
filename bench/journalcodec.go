package bench

import (
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench/jsontext"
)

// The journal codec: journal lines are the JSON encoding of an Entry, the
// same bytes encoding/json writes (with HTML escaping off), but encoded and
// decoded by the hand-written code below, which knows the Entry schema and
// needs no reflection. It is several times faster than encoding/json, which
// was most of the cost of writing Parquet from a large journal.
//
// The decoder takes a fast path only for lines in exactly the shape the
// encoder writes (known keys, spelled exactly; strings, numbers and
// literals of the expected types). Anything else — an unknown or
// differently cased key, a null, a number where a string belongs, invalid
// JSON — is handed to encoding/json, so every line decodes to what
// json.Unmarshal gives, errors included.

// appendEntry appends the JSON encoding of e, without a newline.
func appendEntry(b []byte, e *Entry) ([]byte, error) {
	if !finiteEntry(e) || e.Batch != nil {
		// encoding/json refuses NaN and ±Inf; let it say so.
		out, err := json.Marshal(e)
		return append(b, out...), err
	}
	b = append(b, `{"k":`...)
	b = jsontext.AppendString(b, e.Kind)
	b = append(b, `,"i":`...)
	b = strconv.AppendInt(b, e.Index, 10)
	b = append(b, `,"suite":`...)
	b = jsontext.AppendString(b, e.Suite)
	b = append(b, `,"sample_id":`...)
	b = jsontext.AppendString(b, e.SampleID)
	b = append(b, `,"model":`...)
	b = jsontext.AppendString(b, e.Model)
	b = append(b, `,"attack":`...)
	b = jsontext.AppendString(b, e.Attack)
	b = append(b, `,"epoch":`...)
	b = strconv.AppendInt(b, int64(e.Epoch), 10)
	if e.Prompt != "" {
		b = append(b, `,"prompt":`...)
		b = jsontext.AppendString(b, e.Prompt)
	}
	if e.System != "" {
		b = append(b, `,"system":`...)
		b = jsontext.AppendString(b, e.System)
	}
	if len(e.Messages) > 0 {
		b = append(b, `,"messages":[`...)
		for i, m := range e.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"role":`...)
			b = jsontext.AppendString(b, m.Role)
			b = append(b, `,"content":`...)
			b = jsontext.AppendString(b, m.Content)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if c := e.Result; c != nil {
		b = append(b, `,"c":`...)
		b = appendCompletion(b, c)
	}
	if e.Error != "" {
		b = append(b, `,"error":`...)
		b = jsontext.AppendString(b, e.Error)
	}
	if e.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(e.Attempts), 10)
	}
	if len(e.Scores) > 0 {
		b = append(b, `,"scores":[`...)
		for i := range e.Scores {
			s := &e.Scores[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"judge":`...)
			b = jsontext.AppendString(b, s.Judge)
			b = append(b, `,"metric":`...)
			b = jsontext.AppendString(b, s.Metric)
			b = append(b, `,"value":`...)
			b = jsontext.AppendFloat(b, s.Value)
			for _, f := range [...]struct{ key, v string }{
				{`,"label":`, s.Label}, {`,"explanation":`, s.Explanation}, {`,"error":`, s.Error},
				{`,"rater":`, s.Rater}, {`,"version":`, s.Version},
			} {
				if f.v != "" {
					b = append(b, f.key...)
					b = jsontext.AppendString(b, f.v)
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendCompletion appends the JSON encoding of c as encoding/json writes
// it (HTML escaping off). c.Logprob must be finite.
func appendCompletion(b []byte, c *Completion) []byte {
	b = append(b, `{"text":`...)
	b = jsontext.AppendString(b, c.Text)
	if c.FinishReason != "" {
		b = append(b, `,"finish_reason":`...)
		b = jsontext.AppendString(b, c.FinishReason)
	}
	if c.PromptTokens != 0 {
		b = append(b, `,"prompt_tokens":`...)
		b = strconv.AppendInt(b, c.PromptTokens, 10)
	}
	if c.CompletionTokens != 0 {
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, c.CompletionTokens, 10)
	}
	if c.Latency != 0 {
		b = append(b, `,"latency":`...)
		b = strconv.AppendInt(b, int64(c.Latency), 10)
	}
	if c.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(c.Attempts), 10)
	}
	if c.Cached {
		b = append(b, `,"cached":true`...)
	}
	if c.Logprob != nil {
		b = append(b, `,"logprob":`...)
		b = jsontext.AppendFloat(b, *c.Logprob)
	}
	if c.LogprobTokens != 0 {
		b = append(b, `,"logprob_tokens":`...)
		b = strconv.AppendInt(b, int64(c.LogprobTokens), 10)
	}
	if c.CostUSD != 0 {
		b = append(b, `,"cost_usd":`...)
		b = jsontext.AppendFloat(b, c.CostUSD)
	}
	if c.Batch {
		b = append(b, `,"batch":true`...)
	}
	return append(b, '}')
}

func finiteEntry(e *Entry) bool {
	if c := e.Result; c != nil && ((c.Logprob != nil && (math.IsNaN(*c.Logprob) || math.IsInf(*c.Logprob, 0))) || math.IsNaN(c.CostUSD) || math.IsInf(c.CostUSD, 0)) {
		return false
	}
	for i := range e.Scores {
		if v := e.Scores[i].Value; math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// entryDecoder decodes journal lines. It interns the short strings that
// repeat from line to line (suite, model, attack, judge, metric, label …):
// each such field has a slot holding the last two values it took, so a
// scan allocates them only when they change. It is not safe for concurrent
// use.
type entryDecoder struct {
	slots [slotScores + slotsPerScore*maxScoreSlots][2]string
}

// Intern slots: one per repeating field; scores beyond the eighth share the
// eighth's slots.
const (
	slotNone = iota - 1
	slotKind
	slotSuite
	slotModel
	slotAttack
	slotSystem
	slotRole
	slotFinish
	slotScores // then slotsPerScore for each score
)

// Offsets of a score's fields within its slots.
const (
	slotJudge = iota
	slotMetric
	slotLabel
	slotExplanation
	slotRater
	slotVersion
	slotsPerScore
)

const maxScoreSlots = 8

func scoreSlot(i, field int) int { return slotScores + slotsPerScore*min(i, maxScoreSlots-1) + field }

// maxInterned is the longest string interned.
const maxInterned = 64

func newEntryDecoder() *entryDecoder { return &entryDecoder{} }

// intern returns b as a string, reusing the slot's recent values.
func (d *entryDecoder) intern(slot int, b []byte) string {
	sl := &d.slots[slot]
	switch string(b) {
	case sl[0]:
		return sl[0]
	case sl[1]:
		return sl[1]
	}
	v := string(b)
	sl[1], sl[0] = sl[0], v
	return v
}

// decode decodes one line (with or without its newline) into e, which
// must be zero.
func (d *entryDecoder) decode(line []byte, e *Entry) error {
	p := parser{b: line, d: d}
	if p.entry(e) {
		p.ws()
		if p.i == len(p.b) {
			return nil
		}
	}
	*e = Entry{}
	return json.Unmarshal(line, e)
}

// parser is a cursor over one line. Its methods report false when the
// input leaves the fast path; the caller then starts again with
// encoding/json.
type parser struct {
	b []byte
	i int
	d *entryDecoder
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, consuming
// it if so.
func (p *parser) next(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// Byte classes inside a JSON string.
const (
	plainByte    = iota // printable ASCII other than " and \
	quoteByte           // "
	escapeByte          // \ or a control character
	nonASCIIByte        // the start or continuation of a multi-byte character
)

var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '"':
			t[c] = quoteByte
		case c == '\\' || c < 0x20:
			t[c] = escapeByte
		case c >= utf8.RuneSelf:
			t[c] = nonASCIIByte
		}
	}
	return t
}()

// rawString returns the bytes between the quotes of a string with no
// escape, no control character and valid UTF-8.
func (p *parser) rawString() ([]byte, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.b); j++ {
		switch byteClass[p.b[j]] {
		case plainByte:
		case quoteByte:
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.i = j + 1
			return s, true
		case escapeByte:
			return nil, false
		default:
			ascii = false
		}
	}
	return nil, false
}

// str decodes a string value, interned in slot unless slot is slotNone;
// escapes are decoded by encoding/json.
func (p *parser) str(slot int) (string, bool) {
	p.ws()
	save := p.i
	if s, ok := p.rawString(); ok {
		if slot != slotNone && len(s) <= maxInterned {
			return p.d.intern(slot, s), true
		}
		return string(s), true
	}
	// A string with escapes: find its end, then let encoding/json decode it.
	p.i = save
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '\\':
			j++
		case c == '"':
			var s string
			if err := json.Unmarshal(p.b[p.i:j+1], &s); err != nil {
				return "", false
			}
			p.i = j + 1
			return s, true
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// number returns the bytes of a JSON number.
func (p *parser) number() ([]byte, bool) {
	p.ws()
	b, i := p.b, p.i
	start := i
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
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	p.i = i
	return b[start:i], true
}

func (p *parser) int(bits int) (int64, bool) {
	n, ok := p.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(string(n), 10, bits)
	return v, err == nil
}

func (p *parser) float() (float64, bool) {
	n, ok := p.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(n), 64)
	return v, err == nil
}

func (p *parser) boolean() (bool, bool) {
	p.ws()
	switch {
	case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
		p.i += 4
		return true, true
	case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
		p.i += 5
		return false, true
	}
	return false, false
}

// object parses an object whose values field parses, given each key.
func (p *parser) object(field func(key []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		k, ok := p.rawString()
		if !ok || !p.next(':') || !field(k) {
			return false
		}
		if p.next(',') {
			continue
		}
		return p.next('}')
	}
}

// first reports whether bit is not yet set in seen, and sets it. A key
// given twice leaves the fast path: encoding/json merges repeated values in
// ways not worth copying.
func first(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// array parses an array whose elements elem parses.
func (p *parser) array(elem func() bool) bool {
	if !p.next('[') {
		return false
	}
	if p.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.next(',') {
			continue
		}
		return p.next(']')
	}
}

func (p *parser) entry(e *Entry) bool {
	var seen uint32
	return p.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "k":
			ok = first(&seen, 1<<0)
			e.Kind, ok = p.strIf(ok, slotKind)
		case "i":
			if first(&seen, 1<<1) {
				e.Index, ok = p.int(64)
			}
		case "suite":
			ok = first(&seen, 1<<2)
			e.Suite, ok = p.strIf(ok, slotSuite)
		case "sample_id":
			ok = first(&seen, 1<<3)
			e.SampleID, ok = p.strIf(ok, slotNone)
		case "model":
			ok = first(&seen, 1<<4)
			e.Model, ok = p.strIf(ok, slotModel)
		case "attack":
			ok = first(&seen, 1<<5)
			e.Attack, ok = p.strIf(ok, slotAttack)
		case "epoch":
			if first(&seen, 1<<6) {
				var v int64
				v, ok = p.int(strconv.IntSize)
				e.Epoch = int(v)
			}
		case "prompt":
			ok = first(&seen, 1<<7)
			e.Prompt, ok = p.strIf(ok, slotNone)
		case "system":
			ok = first(&seen, 1<<8)
			e.System, ok = p.strIf(ok, slotSystem)
		case "messages":
			ok = first(&seen, 1<<9) && p.array(func() bool {
				var m Message
				var seen uint32
				if !p.object(func(k []byte) bool {
					switch string(k) {
					case "role":
						ok := first(&seen, 1<<0)
						m.Role, ok = p.strIf(ok, slotRole)
						return ok
					case "content":
						ok := first(&seen, 1<<1)
						m.Content, ok = p.strIf(ok, slotNone)
						return ok
					}
					return false
				}) {
					return false
				}
				e.Messages = append(e.Messages, m)
				return true
			})
			if e.Messages == nil {
				e.Messages = []Message{} // as encoding/json decodes []
			}
		case "c":
			c := &Completion{}
			e.Result = c
			var cs uint32
			ok = first(&seen, 1<<10) && p.object(func(k []byte) bool {
				var ok bool
				switch string(k) {
				case "text":
					ok = first(&cs, 1<<0)
					c.Text, ok = p.strIf(ok, slotNone)
				case "finish_reason":
					ok = first(&cs, 1<<1)
					c.FinishReason, ok = p.strIf(ok, slotFinish)
				case "prompt_tokens":
					if first(&cs, 1<<2) {
						c.PromptTokens, ok = p.int(64)
					}
				case "completion_tokens":
					if first(&cs, 1<<3) {
						c.CompletionTokens, ok = p.int(64)
					}
				case "latency":
					if first(&cs, 1<<4) {
						var v int64
						v, ok = p.int(64)
						c.Latency = time.Duration(v)
					}
				case "attempts":
					if first(&cs, 1<<5) {
						var v int64
						v, ok = p.int(strconv.IntSize)
						c.Attempts = int(v)
					}
				case "cached":
					if first(&cs, 1<<6) {
						c.Cached, ok = p.boolean()
					}
				case "cost_usd":
					if first(&cs, 1<<9) {
						c.CostUSD, ok = p.float()
					}
				case "batch":
					if first(&cs, 1<<10) {
						c.Batch, ok = p.boolean()
					}
				}
				return ok
			})
		case "error":
			ok = first(&seen, 1<<11)
			e.Error, ok = p.strIf(ok, slotNone)
		case "attempts":
			if first(&seen, 1<<13) {
				var v int64
				v, ok = p.int(strconv.IntSize)
				e.Attempts = int(v)
			}
		case "scores":
			ok = first(&seen, 1<<12) && p.array(func() bool {
				var sc Score
				var ss uint32
				si := len(e.Scores)
				if !p.object(func(k []byte) bool {
					var ok bool
					switch string(k) {
					case "judge":
						ok = first(&ss, 1<<0)
						sc.Judge, ok = p.strIf(ok, scoreSlot(si, slotJudge))
					case "metric":
						ok = first(&ss, 1<<1)
						sc.Metric, ok = p.strIf(ok, scoreSlot(si, slotMetric))
					case "value":
						if first(&ss, 1<<2) {
							sc.Value, ok = p.float()
						}
					case "label":
						ok = first(&ss, 1<<3)
						sc.Label, ok = p.strIf(ok, scoreSlot(si, slotLabel))
					case "explanation":
						ok = first(&ss, 1<<4)
						sc.Explanation, ok = p.strIf(ok, scoreSlot(si, slotExplanation))
					case "error":
						ok = first(&ss, 1<<5)
						sc.Error, ok = p.strIf(ok, slotNone)
					case "rater":
						ok = first(&ss, 1<<6)
						sc.Rater, ok = p.strIf(ok, scoreSlot(si, slotRater))
					case "version":
						ok = first(&ss, 1<<7)
						sc.Version, ok = p.strIf(ok, scoreSlot(si, slotVersion))
					}
					return ok
				}) {
					return false
				}
				e.Scores = append(e.Scores, sc)
				return true
			})
			if e.Scores == nil {
				e.Scores = []Score{}
			}
		}
		return ok
	})
}

// strIf decodes a string value when ok.
func (p *parser) strIf(ok bool, slot int) (string, bool) {
	if !ok {
		return "", false
	}
	return p.str(slot)
}

// parseRef reads what WriteResults needs of a journal line without
// decoding the rest: the kind, plan index and key hash. It reports false
// when the line is off the fast path; the caller then decodes it whole.
func parseRef(line []byte, seed maphash.Seed) (journalRef, bool) {
	p := parser{b: line}
	var kind, suite, sample, model, attack []byte
	var index, epoch int64
	var seen uint32
	ok := p.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "k":
			if first(&seen, 1<<0) {
				kind, ok = p.rawString()
			}
		case "i":
			if first(&seen, 1<<1) {
				index, ok = p.int(64)
			}
		case "suite":
			if first(&seen, 1<<2) {
				suite, ok = p.rawString()
			}
		case "sample_id":
			if first(&seen, 1<<3) {
				sample, ok = p.rawString()
			}
		case "model":
			if first(&seen, 1<<4) {
				model, ok = p.rawString()
			}
		case "attack":
			if first(&seen, 1<<5) {
				attack, ok = p.rawString()
			}
		case "epoch":
			if first(&seen, 1<<6) {
				epoch, ok = p.int(strconv.IntSize)
			}
		case "prompt", "system", "messages", "c", "error", "attempts", "scores":
			ok = p.skip(0)
		}
		return ok
	})
	p.ws()
	if !ok || p.i != len(p.b) {
		return journalRef{}, false
	}
	r := journalRef{index: index, n: uint32(len(line)), trial: string(kind) == EntryTrial}
	if r.trial {
		var h maphash.Hash
		h.SetSeed(seed)
		for _, s := range [...][]byte{suite, sample, model, attack} {
			h.Write(s)
			h.WriteByte(0)
		}
		var b [8]byte
		for i := range b {
			b[i] = byte(int(epoch) >> (8 * i))
		}
		h.Write(b[:])
		r.hash = h.Sum64()
	}
	return r, true
}

// skip passes over one JSON value, checking its structure but not every
// detail (string escapes and number forms); the caller decodes the line
// whole later, which does check them. Nesting deeper than 64 leaves the
// fast path.
func (p *parser) skip(depth int) bool {
	if depth > 64 {
		return false
	}
	p.ws()
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		for j := p.i + 1; j < len(p.b); j++ {
			switch p.b[j] {
			case '\\':
				j++
			case '"':
				p.i = j + 1
				return true
			}
		}
		return false
	case c == '{':
		return p.object(func([]byte) bool { return p.skip(depth + 1) })
	case c == '[':
		return p.array(func() bool { return p.skip(depth + 1) })
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := p.number()
		return ok
	case c == 't' || c == 'f':
		_, ok := p.boolean()
		return ok
	case c == 'n':
		if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
			p.i += 4
			return true
		}
	}
	return false
}
