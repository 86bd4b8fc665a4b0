package attack

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// Template is one jailbreak template of a template file.
type Template struct {
	// ID is the template's id from the file, or its 1-based position.
	ID string
	// Text holds the template, with at least one Placeholder.
	Text string
	// Line is the line of the file where the template starts.
	Line int
}

// templateColumns and idColumns are the column (or JSON key) names that hold
// a template and its id, in order of preference.
var (
	templateColumns = []string{"text", "template", "prompt", "jailbreak"}
	idColumns       = []string{"id", "index", "name"}
)

// LoadTemplates reads a file of jailbreak templates, each holding the
// placeholder "[INSERT PROMPT HERE]". The layout follows the extension:
//
//   - .csv: a header row, then one template per row. The template column
//     is "text" (as in GPTFuzz's GPTFuzzer.csv), "template", "prompt" or
//     "jailbreak", or the only column; the id column, if any, is "id",
//     "index" or "name".
//   - .json: an array whose elements are strings or objects with the same
//     keys as the CSV columns; .jsonl: one such element per line.
//   - anything else (.txt): templates separated by a line holding only
//     "---"; blank sections are skipped.
//
// A template without an id gets its 1-based position among the file's
// templates. Every problem is a *bench.InputError that names the file and
// the line (a template without the placeholder, a duplicate id, a malformed
// file, a file without templates).
func LoadTemplates(path string) ([]Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &bench.InputError{File: path, Field: "attacks", Msg: fmt.Sprintf("cannot read the template file: %v", unwrapPath(err))}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var ts []Template
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		ts, err = parseCSV(path, data)
	case ".json":
		ts, err = parseJSON(path, data)
	case ".jsonl":
		ts, err = parseJSONL(path, data)
	default:
		ts = parseText(data)
	}
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &bench.InputError{File: path, Field: "attacks", Msg: "the template file holds no templates"}
	}
	seen := make(map[string]int, len(ts))
	for i := range ts {
		t := &ts[i]
		if t.ID == "" {
			t.ID = strconv.Itoa(i + 1)
		}
		if !strings.Contains(t.Text, Placeholder) {
			return nil, &bench.InputError{File: path, Line: t.Line, Field: "attacks",
				Msg: fmt.Sprintf("template %s (row %d) has no placeholder %s", t.ID, i+1, Placeholder)}
		}
		if prev, dup := seen[t.ID]; dup {
			return nil, &bench.InputError{File: path, Line: t.Line, Field: "attacks",
				Msg: fmt.Sprintf("template id %q (row %d) repeats the id of row %d", t.ID, i+1, prev)}
		}
		seen[t.ID] = i + 1
	}
	return ts, nil
}

// unwrapPath drops the path from an *os.PathError, which the InputError
// already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// column returns the index of the first of names in header, or -1.
func column(header []string, names []string) int {
	for _, n := range names {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), n) {
				return i
			}
		}
	}
	return -1
}

// parseCSV reads a CSV file with a header row.
func parseCSV(path string, data []byte) ([]Template, error) {
	r := csv.NewReader(bytes.NewReader(data))
	bad := func(err error) error {
		line := 0
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line, err = pe.StartLine, pe.Err
		}
		return &bench.InputError{File: path, Line: line, Field: "attacks", Msg: fmt.Sprintf("malformed CSV: %v", err)}
	}
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, bad(err)
	}
	textCol := column(header, templateColumns)
	if textCol < 0 && len(header) == 1 {
		textCol = 0
	}
	if textCol < 0 {
		return nil, &bench.InputError{File: path, Line: 1, Field: "attacks",
			Msg: fmt.Sprintf("no template column: the header needs one of %s", strings.Join(templateColumns, ", "))}
	}
	idCol := column(header, idColumns)
	var ts []Template
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return ts, nil
		}
		if err != nil {
			return nil, bad(err)
		}
		line, _ := r.FieldPos(0)
		t := Template{Text: rec[textCol], Line: line}
		if idCol >= 0 {
			t.ID = strings.TrimSpace(rec[idCol])
		}
		ts = append(ts, t)
	}
}

// jsonTemplate decodes one JSON element: a string or an object.
func jsonTemplate(raw json.RawMessage) (Template, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return Template{Text: s}, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Template{}, errors.New("an element is neither a string nor an object")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	var t Template
	if i := column(keys, templateColumns); i >= 0 {
		s, ok := obj[keys[i]].(string)
		if !ok {
			return Template{}, fmt.Errorf("%q is not a string", keys[i])
		}
		t.Text = s
	} else {
		return Template{}, fmt.Errorf("an object has none of the keys %s", strings.Join(templateColumns, ", "))
	}
	if i := column(keys, idColumns); i >= 0 {
		switch v := obj[keys[i]].(type) {
		case string:
			t.ID = strings.TrimSpace(v)
		case float64:
			t.ID = strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
		default:
			return Template{}, fmt.Errorf("%q is neither a string nor a number", keys[i])
		}
	}
	return t, nil
}

// lineAt returns the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// parseJSON reads a JSON array of templates.
func parseJSON(path string, data []byte) ([]Template, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	bad := func(off int64, msg string) error {
		return &bench.InputError{File: path, Line: lineAt(data, min(off, int64(len(data)))), Field: "attacks", Msg: msg}
	}
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, bad(dec.InputOffset(), "malformed JSON: expected an array of templates")
	}
	var ts []Template
	for dec.More() {
		// Skip the separator and spaces so the offset is the element's start.
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bad(off, fmt.Sprintf("malformed JSON: %v", err))
		}
		t, err := jsonTemplate(raw)
		if err != nil {
			return nil, bad(off, err.Error())
		}
		t.Line = lineAt(data, off)
		ts = append(ts, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(dec.InputOffset(), fmt.Sprintf("malformed JSON: %v", err))
	}
	return ts, nil
}

// parseJSONL reads one template (a JSON string or object) per line; blank
// lines are skipped.
func parseJSONL(path string, data []byte) ([]Template, error) {
	var ts []Template
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		t, err := jsonTemplate(json.RawMessage(line))
		if err != nil {
			if !json.Valid([]byte(line)) {
				err = errors.New("malformed JSON")
			}
			return nil, &bench.InputError{File: path, Line: i + 1, Field: "attacks", Msg: err.Error()}
		}
		t.Line = i + 1
		ts = append(ts, t)
	}
	return ts, nil
}

// parseText reads templates separated by lines holding only "---". Each
// template is trimmed of surrounding blank space; blank sections are
// skipped. Line is the first non-blank line of a template.
func parseText(data []byte) []Template {
	var ts []Template
	var cur []string
	start := 1
	flush := func() {
		text := strings.TrimSpace(strings.Join(cur, "\n"))
		if text != "" {
			// Count the blank lines trimmed from the top.
			lead := 0
			for lead < len(cur) && strings.TrimSpace(cur[lead]) == "" {
				lead++
			}
			ts = append(ts, Template{Text: text, Line: start + lead})
		}
		cur = cur[:0]
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "---" {
			flush()
			start = i + 2
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return ts
}
