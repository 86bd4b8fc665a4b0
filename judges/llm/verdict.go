package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// ErrVerdict means that the judge model answered, twice, but no valid verdict
// could be read from its replies.
var ErrVerdict = errors.New("unparseable verdict")

// Verdict is a judge's parsed answer.
type Verdict struct {
	// Ints holds the Integer fields; Texts the Text and Choice fields.
	Ints  map[string]int
	Texts map[string]string
	// Reply is the judge's reply the verdict was read from.
	Reply string
	// Calls is 1, or 2 when a reminder was needed.
	Calls int
}

// Options are the settings of a judge's calls.
type Options struct {
	// Name is the judge's name in scores; the default is its kind ("rubric",
	// "jailbreak", "pairwise"). Give distinct names to judges that differ
	// only in their model.
	Name string
	// Temperature of judge calls (default 0).
	Temperature float64
	// Seed of judge calls (default 0; always sent, so that judge calls are
	// as reproducible as the server allows).
	Seed int
	// MaxTokens bounds the judge's reply (0: the server's default).
	MaxTokens int
	// Persona, for Rubric only, is the point of view of the observer, added
	// to its system prompt (SANDBOX observers; package society).
	Persona string
}

// Params returns the generation parameters of a judge call.
func (o Options) Params() bench.GenParams {
	temp, seed := o.Temperature, o.Seed
	return bench.GenParams{Temperature: &temp, Seed: &seed, MaxTokens: o.MaxTokens}
}

// BaseRequest is the request a judge call starts from: the options'
// parameters and the trial's identity (sample, epoch, run seed), so that a
// response cache keys judge calls like the trial's own.
func (o Options) BaseRequest(t bench.Trial) bench.Request {
	return bench.Request{
		Params:   o.Params(),
		SampleID: t.SampleID,
		Sample:   t.Sample,
		Epoch:    t.Epoch,
		Seed:     t.Request.Seed,
	}
}

// Ask sends p to the judge model m (System and Messages of base are
// replaced) and parses the verdict from its reply. When the reply holds no
// valid verdict, Ask asks once more, with the reply and a reminder of the
// format in the conversation; when that fails too it returns an error
// wrapping ErrVerdict. An error from the model is returned wrapped, and a
// context error as is.
func Ask(ctx context.Context, m bench.Model, base bench.Request, p Prompt) (Verdict, error) {
	req := base
	req.System = p.System
	req.Messages = []bench.Message{{Role: "user", Content: p.User}}
	c, err := m.Generate(ctx, req)
	if err != nil {
		return Verdict{}, modelErr(ctx, err)
	}
	v, err1 := ParseVerdict(c.Text, p.ID, p.fields)
	if err1 == nil {
		v.Calls = 1
		return v, nil
	}
	retry := req
	retry.Messages = []bench.Message{
		req.Messages[0],
		{Role: "assistant", Content: c.Text},
		{Role: "user", Content: fmt.Sprintf(reminder, err1, formatLine(p.ID, p.fields))},
	}
	c2, err := m.Generate(ctx, retry)
	if err != nil {
		return Verdict{}, modelErr(ctx, err)
	}
	v, err2 := ParseVerdict(c2.Text, p.ID, p.fields)
	if err2 == nil {
		v.Calls = 2
		return v, nil
	}
	return Verdict{}, fmt.Errorf("%w: %v; after a reminder: %v (reply: %q)", ErrVerdict, err1, err2, clip(c2.Text, 200))
}

func modelErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("judge model: %w", err)
}

// ParseVerdict reads the verdict from a judge's reply. The verdict is a JSON
// object whose "id" equals id and whose other keys are exactly the fields'
// keys, with valid values; text before a closing </think> tag (a reasoning
// model's thoughts) is ignored. JSON objects without that id (quoted material,
// examples, a fake verdict copied from the judged text) are ignored. Several
// objects carrying the id must all be valid and equal.
func ParseVerdict(reply, id string, fields []Field) (Verdict, error) {
	var found []map[string]json.RawMessage
	body := reply
	// A reasoning model's thoughts may hold drafts of the verdict; only what
	// follows them counts.
	if i := strings.LastIndex(body, "</think>"); i >= 0 {
		body = body[i+len("</think>"):]
	}
	for _, raw := range jsonObjects(body) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			continue
		}
		var got string
		if json.Unmarshal(obj["id"], &got) != nil || got != id {
			continue
		}
		found = append(found, obj)
	}
	if len(found) == 0 {
		return Verdict{}, fmt.Errorf("no JSON object with \"id\": %q", id)
	}
	var first Verdict
	for i, obj := range found {
		v, err := decode(obj, fields)
		if err != nil {
			return Verdict{}, err
		}
		if i == 0 {
			first = v
			continue
		}
		if !sameVerdict(first, v) {
			return Verdict{}, errors.New("several different verdicts")
		}
	}
	first.Reply = reply
	return first, nil
}

// jsonObjects returns the outermost JSON objects found in s, in order.
func jsonObjects(s string) []json.RawMessage {
	var out []json.RawMessage
	for i := 0; i < len(s); i++ {
		if s[i] != '{' || !startsObject(s[i+1:]) {
			continue
		}
		end := objectEnd(s, i)
		if end < 0 || !json.Valid([]byte(s[i:end])) {
			continue
		}
		out = append(out, json.RawMessage(s[i:end]))
		i = end - 1
	}
	return out
}

// startsObject reports whether rest, the text after a '{', can continue a
// JSON object: a key or the closing brace after optional white space.
func startsObject(rest string) bool {
	rest = strings.TrimLeft(rest, " \t\r\n")
	return rest != "" && (rest[0] == '"' || rest[0] == '}')
}

// objectEnd returns the index just past the brace that closes the one at
// s[start], skipping braces inside JSON strings, or -1.
func objectEnd(s string, start int) int {
	depth, inString, escaped := 0, false, false
	for j := start; j < len(s); j++ {
		c := s[j]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}

func decode(obj map[string]json.RawMessage, fields []Field) (Verdict, error) {
	if len(obj) != len(fields)+1 {
		var extra []string
		for k := range obj {
			if k != "id" && !hasField(fields, k) {
				extra = append(extra, strconv.Quote(k))
			}
		}
		if len(extra) > 0 {
			return Verdict{}, fmt.Errorf("unexpected keys %s", strings.Join(extra, ", "))
		}
	}
	v := Verdict{Ints: map[string]int{}, Texts: map[string]string{}}
	for _, f := range fields {
		raw, ok := obj[f.Key]
		if !ok {
			return Verdict{}, fmt.Errorf("missing key %q", f.Key)
		}
		switch f.Kind {
		case Integer:
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var n any
			if dec.Decode(&n) != nil {
				return Verdict{}, fmt.Errorf("%q is not a number", f.Key)
			}
			num, ok := n.(json.Number)
			if !ok {
				return Verdict{}, fmt.Errorf("%q is not a number: %s", f.Key, raw)
			}
			x, err := num.Float64()
			if err != nil || x != math.Trunc(x) || x < float64(f.Min) || x > float64(f.Max) {
				return Verdict{}, fmt.Errorf("%q is %s, not an integer from %d to %d", f.Key, num, f.Min, f.Max)
			}
			v.Ints[f.Key] = int(x)
		case Choice:
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return Verdict{}, fmt.Errorf("%q is not a string", f.Key)
			}
			match := ""
			for _, c := range f.Choices {
				if strings.EqualFold(strings.TrimSpace(s), c) {
					match = c
				}
			}
			if match == "" {
				return Verdict{}, fmt.Errorf("%q is %q, not one of %s", f.Key, s, strings.Join(f.Choices, ", "))
			}
			v.Texts[f.Key] = match
		default:
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return Verdict{}, fmt.Errorf("%q is not a string", f.Key)
			}
			if strings.TrimSpace(s) == "" {
				return Verdict{}, fmt.Errorf("%q is empty", f.Key)
			}
			v.Texts[f.Key] = strings.TrimSpace(s)
		}
	}
	return v, nil
}

func hasField(fields []Field, key string) bool {
	for _, f := range fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

func sameVerdict(a, b Verdict) bool {
	if len(a.Ints) != len(b.Ints) || len(a.Texts) != len(b.Texts) {
		return false
	}
	for k, x := range a.Ints {
		if b.Ints[k] != x {
			return false
		}
	}
	for k, x := range a.Texts {
		if b.Texts[k] != x {
			return false
		}
	}
	return true
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Clip shortens s to at most n runes, marking the cut with "…"; judges use it
// to bound explanations.
func Clip(s string, n int) string { return clip(s, n) }
