package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// Mapping names the dataset columns that fill the fields of a bench.Sample.
// An empty name leaves the field unused. Input or Messages must be set.
type Mapping struct {
	// ID names a column holding a unique sample id. When empty, the id is a
	// hash of the sample's content.
	ID string
	// Input names the column holding the user prompt.
	Input string
	// Messages names a column holding a conversation: a list of
	// {role, content} objects, or a string holding such a list as JSON.
	Messages string
	// Target names the column holding the expected answer or label.
	Target string
	// Choices names the column holding the options of a multiple-choice item:
	// a list, a string holding a JSON list, or a string of options separated
	// by newlines or, when it holds no newline, by "|".
	Choices string
	// Response names a column holding a recorded response.
	Response string
}

// Load reads the dataset at path (see ReadRows) and maps each row onto a
// bench.Sample:
//
//   - Input, Target and Response are the text of their columns; a number is
//     written without a needless fraction (1.0 → "1"), a list or object as
//     JSON.
//   - Messages and Choices are parsed as the Mapping describes.
//   - Fields holds every column as text, plus the sample's mapped fields
//     under the names "input", "target", "choices" (joined by "\n") and
//     "response", which take precedence over columns of the same name.
//   - ID is the ID column's text, which must be unique and not empty; with
//     no ID column it is the first 16 hex digits of the SHA-256 of the
//     input, messages, choices and target, and the second, third, ... sample
//     with the same content gets the suffix "-2", "-3", ... in file order.
//
// A mapped column missing from a row, a row with neither input nor messages,
// a malformed messages or choices value, a duplicate id and a file with no
// rows are *bench.InputError naming the file and line.
func Load(path string, m Mapping, opt Options) ([]bench.Sample, error) {
	if m.Input == "" && m.Messages == "" {
		return nil, &bench.InputError{File: path, Msg: "the field mapping names neither an input nor a messages column"}
	}
	var samples []bench.Sample
	idLine := make(map[string]int)
	hashes := make(map[string]int)
	err := ReadRows(path, opt, func(line int, r Row) error {
		s, err := m.sample(path, line, r)
		if err != nil {
			return err
		}
		if m.ID != "" {
			if first, dup := idLine[s.ID]; dup {
				return &bench.InputError{File: path, Line: line, Field: m.ID, Msg: fmt.Sprintf("duplicate id %q (first on line %d)", s.ID, first)}
			}
			idLine[s.ID] = line
		} else {
			h := contentHash(s)
			hashes[h]++
			if n := hashes[h]; n > 1 {
				h += "-" + strconv.Itoa(n)
			}
			s.ID = h
		}
		samples = append(samples, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, &bench.InputError{File: path, Msg: "the dataset has no rows"}
	}
	return samples, nil
}

// sample maps one row; the ID is left to Load unless an ID column is named.
func (m Mapping) sample(path string, line int, r Row) (bench.Sample, error) {
	var s bench.Sample
	fail := func(col, format string, args ...any) error {
		return &bench.InputError{File: path, Line: line, Field: col, Msg: fmt.Sprintf(format, args...)}
	}
	get := func(field, col string) (any, error) {
		v, ok := r[col]
		if !ok {
			return nil, fail(col, "column missing (mapped to %s); the row has columns: %s", field, columnList(r))
		}
		return v, nil
	}
	if m.ID != "" {
		v, err := get("id", m.ID)
		if err != nil {
			return s, err
		}
		if s.ID = Text(v); strings.TrimSpace(s.ID) == "" {
			return s, fail(m.ID, "empty id")
		}
	}
	if m.Input != "" {
		v, err := get("input", m.Input)
		if err != nil {
			return s, err
		}
		s.Input = Text(v)
	}
	if m.Messages != "" {
		v, err := get("messages", m.Messages)
		if err != nil {
			return s, err
		}
		msgs, problem := parseMessages(v)
		if problem != "" {
			return s, fail(m.Messages, "%s", problem)
		}
		s.Messages = msgs
	}
	if strings.TrimSpace(s.Input) == "" && len(s.Messages) == 0 {
		switch {
		case m.Input != "" && m.Messages != "":
			return s, fail(m.Input, "empty input, and no messages in column %q", m.Messages)
		case m.Input != "":
			return s, fail(m.Input, "empty input")
		default:
			return s, fail(m.Messages, "no messages")
		}
	}
	if m.Choices != "" {
		v, err := get("choices", m.Choices)
		if err != nil {
			return s, err
		}
		choices, problem := parseChoices(v)
		if problem != "" {
			return s, fail(m.Choices, "%s", problem)
		}
		s.Choices = choices
	}
	if m.Target != "" {
		v, err := get("target", m.Target)
		if err != nil {
			return s, err
		}
		s.Target = Text(v)
	}
	if m.Response != "" {
		v, err := get("response", m.Response)
		if err != nil {
			return s, err
		}
		s.Response = Text(v)
	}
	s.Fields = make(map[string]string, len(r)+4)
	for k, v := range r {
		s.Fields[k] = Text(v)
	}
	if m.Input != "" {
		s.Fields["input"] = s.Input
	}
	if m.Target != "" {
		s.Fields["target"] = s.Target
	}
	if m.Choices != "" {
		s.Fields["choices"] = strings.Join(s.Choices, "\n")
	}
	if m.Response != "" {
		s.Fields["response"] = s.Response
	}
	return s, nil
}

// columnList names the columns of a row, sorted, for error messages.
func columnList(r Row) string {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > 12 {
		names = append(names[:12], fmt.Sprintf("… (%d in all)", len(r)))
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// parseMessages reads a conversation: a list of {role, content} objects, or
// a string holding such a list as JSON. It returns a problem description
// when the value is not one.
func parseMessages(v any) ([]bench.Message, string) {
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, ""
		}
		var decoded any
		if err := json.Unmarshal([]byte(s), &decoded); err != nil {
			return nil, fmt.Sprintf("holds a string that is not a JSON list of {role, content} objects: %v", err)
		}
		v = decoded
	}
	if v == nil {
		return nil, ""
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Sprintf("holds %s, not a list of {role, content} objects", jsonKind(v))
	}
	msgs := make([]bench.Message, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("message %d is %s, not a {role, content} object", i+1, jsonKind(e))
		}
		role, _ := obj["role"].(string)
		if role == "" {
			return nil, fmt.Sprintf("message %d has no role", i+1)
		}
		content, ok := obj["content"].(string)
		if !ok && obj["content"] != nil {
			return nil, fmt.Sprintf("message %d has content that is %s, not text", i+1, jsonKind(obj["content"]))
		}
		msgs = append(msgs, bench.Message{Role: role, Content: content})
	}
	return msgs, ""
}

// parseChoices reads the options of a multiple-choice item.
func parseChoices(v any) ([]string, string) {
	switch x := v.(type) {
	case nil:
		return nil, ""
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = Text(e)
		}
		return out, ""
	case map[string]any:
		return nil, "holds an object, not a list of choices"
	case string:
		t := strings.TrimSpace(x)
		if t == "" {
			return nil, ""
		}
		if strings.HasPrefix(t, "[") {
			var list []any
			if err := json.Unmarshal([]byte(t), &list); err == nil {
				return parseChoices(list)
			}
		}
		sep := "|"
		if strings.Contains(t, "\n") {
			sep = "\n"
		}
		var out []string
		for _, c := range strings.Split(t, sep) {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
		return out, ""
	}
	return []string{Text(v)}, ""
}

// Text returns the text of a Row value: a string as is, a number without a
// needless fraction or exponent, a boolean as true or false, nil as "",
// and a list or object as JSON. Loaders and adapters use it for every cell
// they turn into text.
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return formatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// formatNumber writes f as JSON would, but without an exponent for the
// integers and decimals people write by hand: 1.0 → "1", 0.25 → "0.25".
func formatNumber(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// contentHash is the first 16 hex digits of the SHA-256 of a sample's input,
// messages, choices and target, encoded without ambiguity as the compact
// JSON array [input, messages, choices, target] (messages as
// [{"role", "content"}] or null, choices as a list or null; UTF-8 unescaped,
// as Python's json.dumps(..., separators=(",", ":"), ensure_ascii=False)
// writes it).
func contentHash(s bench.Sample) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode([]any{s.Input, s.Messages, s.Choices, s.Target})
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:8])
}
