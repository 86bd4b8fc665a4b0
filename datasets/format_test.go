package datasets_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

func asInputError(err error, target **bench.InputError) bool {
	return errors.As(err, target)
}

// write writes content to a file named name in a new temporary directory.
func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// gzipped returns data compressed with gzip.
func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type pqMessage struct {
	Role    string `parquet:"role"`
	Content string `parquet:"content"`
}

type pqMeta struct {
	Source string `parquet:"source"`
	Year   int32  `parquet:"year"`
}

type pqRow struct {
	ID       string      `parquet:"id"`
	Prompt   string      `parquet:"prompt"`
	Choices  []string    `parquet:"choices,list"`
	Tags     []string    `parquet:"tags"` // a bare repeated field
	Messages []pqMessage `parquet:"messages,list"`
	Label    int64       `parquet:"label"`
	Score    *float64    `parquet:"score,optional"`
	Ok       bool        `parquet:"ok"`
	Meta     pqMeta      `parquet:"meta"`
	Big      int64       `parquet:"big"`
	F32      float32     `parquet:"f32"`
	When     time.Time   `parquet:"when,timestamp(millisecond)"`
}

func writeParquet(t *testing.T, rows []pqRow) []byte {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[pqRow](&b, parquet.MaxRowsPerRowGroup(2))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParquet(t *testing.T) {
	half := 0.5
	in := []pqRow{
		{ID: "a", Prompt: "Is honesty a virtue?", Choices: []string{"yes", "no"}, Tags: []string{"ethics"},
			Messages: []pqMessage{{"system", "Be brief."}, {"user", "Is honesty a virtue?"}}, Label: 1, Score: &half, Ok: true,
			Meta: pqMeta{"mine", 2024}, Big: 1<<53 + 1, F32: 1.1, When: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)},
		{ID: "b", Prompt: "Pick one", Choices: nil, Tags: nil, Messages: nil, Label: 0, Score: nil, Meta: pqMeta{"x", 1}, Big: 7},
		{ID: "c", Prompt: "bad \xff byte", Choices: []string{"only"}, Tags: []string{"p", "q", "r"},
			Messages: []pqMessage{{"user", "hi"}}, Label: 2, Meta: pqMeta{"y", 2}, Big: -3},
	}
	data := writeParquet(t, in)
	dir := t.TempDir()
	plain := filepath.Join(dir, "rows.parquet")
	packed := filepath.Join(dir, "rows.parquet.gz")
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packed, gzipped(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []datasets.Row{
		{"id": "a", "prompt": "Is honesty a virtue?", "choices": []any{"yes", "no"}, "tags": []any{"ethics"},
			"messages": []any{map[string]any{"role": "system", "content": "Be brief."}, map[string]any{"role": "user", "content": "Is honesty a virtue?"}},
			"label":    1.0, "score": 0.5, "ok": true, "meta": map[string]any{"source": "mine", "year": 2024.0}, "big": "9007199254740993",
			"f32": 1.1, "when": "2024-05-06T07:08:09.123Z"},
		{"id": "b", "prompt": "Pick one", "choices": []any{}, "tags": []any{}, "messages": []any{},
			"label": 0.0, "score": nil, "ok": false, "meta": map[string]any{"source": "x", "year": 1.0}, "big": 7.0,
			"f32": 0.0, "when": "0001-01-01T00:00:00Z"},
		{"id": "c", "prompt": "bad \uFFFD byte", "choices": []any{"only"}, "tags": []any{"p", "q", "r"},
			"messages": []any{map[string]any{"role": "user", "content": "hi"}},
			"label":    2.0, "score": nil, "ok": false, "meta": map[string]any{"source": "y", "year": 2.0}, "big": -3.0,
			"f32": 0.0, "when": "0001-01-01T00:00:00Z"},
	}
	for _, path := range []string{plain, packed} {
		var warned []string
		lines, rows := readAll(t, path, datasets.Options{Warn: func(f string, a ...any) { warned = append(warned, f) }})
		if !slices.Equal(lines, []int{1, 2, 3}) {
			t.Errorf("%s: lines %v", path, lines)
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%s: rows\n%#v\nwant\n%#v", path, rows, want)
		}
		if len(warned) != 1 {
			t.Errorf("%s: %d warnings, want 1 for the invalid byte", path, len(warned))
		}
	}

	samples, err := datasets.Load(plain, datasets.Mapping{ID: "id", Messages: "messages", Input: "prompt", Choices: "choices", Target: "label"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := samples[0]
	if s.ID != "a" || !slices.Equal(s.Choices, []string{"yes", "no"}) || s.Target != "1" ||
		!slices.Equal(s.Messages, []bench.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Is honesty a virtue?"}}) ||
		s.Fields["choices"] != "yes\nno" || s.Fields["meta"] != `{"source":"mine","year":2024}` || s.Fields["score"] != "0.5" {
		t.Errorf("sample a = %+v", s)
	}
	if b := samples[1]; b.Input != "Pick one" || len(b.Messages) != 0 || len(b.Choices) != 0 || b.Target != "0" || b.Fields["score"] != "" {
		t.Errorf("sample b = %+v", samples[1])
	}
}

func TestGzipCSVAndJSON(t *testing.T) {
	csvText := "id,text,label\n1,\"two\nlines, with comma\",1.0\n2,plain,0\n"
	jsonText := `[
  {"id": 1, "text": "two\nlines, with comma", "label": 1.0},
  {"id": 2, "text": "plain", "label": 0}
]`
	dir := t.TempDir()
	for name, content := range map[string]string{"d.csv": csvText, "d.json": jsonText} {
		plain := filepath.Join(dir, name)
		packed := filepath.Join(dir, strings.ToUpper(name)+".GZ") // suffixes are case-insensitive
		if err := os.WriteFile(plain, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(packed, gzipped(t, []byte(content)), 0o644); err != nil {
			t.Fatal(err)
		}
		l1, r1 := readAll(t, plain, datasets.Options{})
		l2, r2 := readAll(t, packed, datasets.Options{})
		if !reflect.DeepEqual(r1, r2) || !slices.Equal(l1, l2) || len(r1) != 2 {
			t.Errorf("%s: plain %v %v, gzip %v %v", name, l1, r1, l2, r2)
		}
		if r1[0]["text"] != "two\nlines, with comma" {
			t.Errorf("%s: text %q", name, r1[0]["text"])
		}
		// A JSON number 1.0 is written "1"; a CSV cell is text and is kept as is.
		wantTarget := map[string]string{"d.csv": "1.0", "d.json": "1"}[name]
		samples, err := datasets.Load(packed, datasets.Mapping{ID: "id", Input: "text", Target: "label"}, datasets.Options{})
		if err != nil || len(samples) != 2 || samples[0].ID != "1" || samples[0].Target != wantTarget || samples[1].Target != "0" {
			t.Errorf("%s: Load %+v, %v", name, samples, err)
		}
		sum, err := datasets.Checksum(packed)
		raw, _ := os.ReadFile(packed)
		h := sha256.Sum256(raw)
		if err != nil || sum != hex.EncodeToString(h[:]) {
			t.Errorf("%s: Checksum %s, %v", name, sum, err)
		}
	}
	// A truncated gzip stream is bad input too.
	cut := gzipped(t, []byte(strings.Repeat(csvText, 200)))
	trunc := filepath.Join(dir, "cut.csv.gz")
	if err := os.WriteFile(trunc, cut[:len(cut)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	err := datasets.ReadRows(trunc, datasets.Options{}, func(int, datasets.Row) error { return nil })
	var ie *bench.InputError
	if !errors.As(err, &ie) || err.Error() != trunc+": corrupt or truncated gzip data: unexpected EOF" {
		t.Errorf("truncated gzip: %v", err)
	}
	// CSV record lines: the record after a two-line field starts on line 4.
	l, _ := readAll(t, filepath.Join(dir, "d.csv"), datasets.Options{})
	if !slices.Equal(l, []int{2, 4}) {
		t.Errorf("CSV lines %v, want [2 4]", l)
	}
	// JSON array elements are numbered by index.
	l, _ = readAll(t, filepath.Join(dir, "d.json"), datasets.Options{})
	if !slices.Equal(l, []int{1, 2}) {
		t.Errorf("JSON lines %v, want [1 2]", l)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name, file, content string
		m                   datasets.Mapping
		opt                 datasets.Options
		want                string // the error text after the path
	}{
		{"malformed JSONL line", "d.jsonl", "{\"q\":\"a\"}\n{\"q\":\"b\"}\n{\"q\": oops}\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: invalid JSON: invalid character 'o' looking for beginning of value"},
		{"JSONL line not an object", "d.jsonl", "{\"q\":\"a\"}\n\n[1,2]\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: the line holds an array, not a JSON object"},
		{"JSONL extra data", "d.jsonl", "{\"q\":\"a\"} {\"q\":\"b\"}\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":1: invalid JSON: extra data after the object"},
		{"ragged CSV", "d.csv", "q,a\nx,1\ny,2,3\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: row has 3 fields, but the header has 2"},
		{"ragged headerless CSV", "d.csv", "x,1\ny\n", datasets.Mapping{Input: "0"}, datasets.Options{Header: ptr(false)},
			":2: row has 1 fields, but the first row has 2"},
		{"headerless CSV with Columns", "d.csv", "x,1,2\n", datasets.Mapping{Input: "q"}, datasets.Options{Header: ptr(false), Columns: []string{"q", "a"}},
			":1: row has 3 fields, but the column names given has 2"},
		{"bare quote", "d.csv", "q,a\nx,1\nthe \"q\" word,2\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: malformed CSV: bare \" in non-quoted-field (at byte 5 of the line)"},
		{"duplicate header", "d.csv", "q,a,q\n1,2,3\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":1: column \"q\" appears twice in the header"},
		{"duplicate id", "d.jsonl", "{\"id\":\"a\",\"q\":\"1\"}\n{\"id\":\"b\",\"q\":\"2\"}\n{\"id\":\"a\",\"q\":\"3\"}\n", datasets.Mapping{ID: "id", Input: "q"}, datasets.Options{},
			":3: id: duplicate id \"a\" (first on line 1)"},
		{"duplicate numeric id in CSV", "d.csv", "id,q\n7,x\n7.0,y\n", datasets.Mapping{ID: "id", Input: "q"}, datasets.Options{},
			""}, // "7" and "7.0" are different texts in a CSV: no error
		{"missing column", "d.jsonl", "{\"q\":\"1\"}\n{\"text\":\"2\"}\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":2: q: column missing (mapped to input); the row has columns: text"},
		{"missing target column", "d.csv", "q,a\nx,1\n", datasets.Mapping{Input: "q", Target: "label"}, datasets.Options{},
			":2: label: column missing (mapped to target); the row has columns: a, q"},
		{"empty input", "d.csv", "q,a\nx,1\n  ,2\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: q: empty input"},
		{"empty input and messages", "d.jsonl", "{\"q\":\"\",\"m\":[]}\n", datasets.Mapping{Input: "q", Messages: "m"}, datasets.Options{},
			":1: q: empty input, and no messages in column \"m\""},
		{"bad messages", "d.jsonl", "{\"m\":[{\"content\":\"hi\"}]}\n", datasets.Mapping{Messages: "m"}, datasets.Options{},
			":1: m: message 1 has no role"},
		{"messages string not JSON", "d.csv", "m\nhello\n", datasets.Mapping{Messages: "m"}, datasets.Options{},
			":2: m: holds a string that is not a JSON list of {role, content} objects: invalid character 'h' looking for beginning of value"},
		{"empty id", "d.csv", "id,q\n,x\n", datasets.Mapping{ID: "id", Input: "q"}, datasets.Options{},
			":2: id: empty id"},
		{"JSON array bad element", "d.json", "[\n {\"q\": \"a\"},\n {\"q\": tru},\n {\"q\": \"c\"}\n]\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":3: invalid JSON: invalid character '}' in literal true (expecting 'e')"},
		{"JSON array element not an object", "d.json", "[\n {\"q\": \"a\"},\n\n \"b\"\n]", datasets.Mapping{Input: "q"}, datasets.Options{},
			":4: element 2 holds a string, not a JSON object"},
		{"JSON object, not array", "d.json", "{\"q\": \"a\"}\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			":1: the file holds an object; want a JSON array of objects (for one object per line, name the file .jsonl)"},
		{"truncated JSON array", "d.json", "[{\"q\": \"a\"},\n{\"q\": \"b\"", datasets.Mapping{Input: "q"}, datasets.Options{},
			":2: invalid JSON: unexpected EOF"},
		{"unknown suffix", "d.txt", "hello\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			": unknown dataset format (suffix \".txt\"); want .jsonl, .ndjson, .json, .csv, .tsv or .parquet, optionally followed by .gz, or builtin:NAME"},
		{"not gzip", "d.csv.gz", "question,answer\nx,y\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			": not gzip data: gzip: invalid header"},
		{"not parquet", "d.parquet", "q\nx\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			""}, // checked below: the message comes from parquet-go
		{"empty dataset", "d.csv", "q,a\n", datasets.Mapping{Input: "q"}, datasets.Options{},
			": the dataset has no rows"},
		{"no input mapping", "d.csv", "q,a\nx,y\n", datasets.Mapping{Target: "a"}, datasets.Options{},
			": the field mapping names neither an input nor a messages column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := write(t, c.file, c.content)
			_, err := datasets.Load(path, c.m, c.opt)
			if c.name == "duplicate numeric id in CSV" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ie *bench.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want a *bench.InputError", err, err)
			}
			if ie.File != path {
				t.Errorf("File = %q, want %q", ie.File, path)
			}
			if c.want == "" {
				if !strings.HasPrefix(err.Error(), path+": not a readable Parquet file: ") {
					t.Errorf("error %q", err)
				}
				return
			}
			if got := strings.TrimPrefix(err.Error(), path); got != c.want {
				t.Errorf("error\n%s%s\nwant\n%s%s", path, got, path, c.want)
			}
		})
	}
}

// TestCallbackError checks that an error of the callback stops the reading
// and comes back unchanged.
func TestCallbackError(t *testing.T) {
	path := write(t, "d.jsonl", "{\"q\":1}\n{\"q\":2}\n{\"q\":3}\n")
	stop := errors.New("stop")
	n := 0
	err := datasets.ReadRows(path, datasets.Options{}, func(int, datasets.Row) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("err %v after %d rows, want stop after 2", err, n)
	}
}

func TestMapping(t *testing.T) {
	path := write(t, "d.jsonl", strings.Join([]string{
		`{"q":"What is 2+2?","opts":["3","4"],"ans":4.0,"out":"4","n":12345678901234567890}`,
		`{"q":"Pick","opts":"[\"a\", \"b\"]","ans":true,"out":null,"n":1e3}`,
		`{"q":"Pick","opts":"red\nblue\n\n green ","ans":"blue","out":"","n":-0.25}`,
		`{"q":"Pick","opts":"x | y|z","ans":0,"out":"","n":0}`,
		`{"q":"Pick","opts":"x | y|z","ans":0,"out":"other","n":0}`,
		`{"q":"Pick","opts":"x | y|z","ans":0,"out":"","n":0}`,
		`{"q":"","msgs":"[{\"role\":\"user\",\"content\":\"Hi <b>\"}]","opts":null,"ans":"","out":"","n":0}`,
	}, "\n"))
	samples, err := datasets.Load(path, datasets.Mapping{Input: "q", Messages: "msgs", Choices: "opts", Target: "ans", Response: "out"}, datasets.Options{})
	if err == nil || !strings.HasSuffix(err.Error(), ":1: msgs: column missing (mapped to messages); the row has columns: ans, n, opts, out, q") {
		t.Fatalf("err %v, want a missing msgs column on line 1", err)
	}
	samples, err = datasets.Load(path, datasets.Mapping{Input: "q", Choices: "opts", Target: "ans", Response: "out"}, datasets.Options{})
	if err == nil || !strings.HasSuffix(err.Error(), ":7: q: empty input") {
		t.Fatalf("err %v, want empty input on line 7", err)
	}
	lines := strings.Split(string(must(os.ReadFile(path))), "\n")
	for i := range 6 {
		lines[i] = strings.Replace(lines[i], `"q"`, `"msgs":null,"q"`, 1)
	}
	path = write(t, "e.jsonl", strings.Join(lines, "\n"))
	samples, err = datasets.Load(path, datasets.Mapping{Input: "q", Messages: "msgs", Choices: "opts", Target: "ans", Response: "out"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantChoices := [][]string{{"3", "4"}, {"a", "b"}, {"red", "blue", "green"}, {"x", "y", "z"}, {"x", "y", "z"}, {"x", "y", "z"}, nil}
	wantTarget := []string{"4", "true", "blue", "0", "0", "0", ""}
	wantN := []string{"12345678901234567890", "1000", "-0.25", "0", "0", "0", "0"}
	for i, s := range samples {
		if !slices.Equal(s.Choices, wantChoices[i]) || s.Target != wantTarget[i] || s.Fields["n"] != wantN[i] {
			t.Errorf("sample %d: choices %q target %q n %q", i, s.Choices, s.Target, s.Fields["n"])
		}
	}
	if f := samples[0].Fields; f["opts"] != `["3","4"]` || f["choices"] != "3\n4" || f["input"] != "What is 2+2?" || f["response"] != "4" || f["target"] != "4" {
		t.Errorf("fields of sample 0: %v", f)
	}
	if m := samples[6].Messages; len(m) != 1 || m[0] != (bench.Message{Role: "user", Content: "Hi <b>"}) || samples[6].Input != "" {
		t.Errorf("sample 6: %+v", samples[6])
	}
	// Content ids: rows 4 and 6 repeat row 4's content (the response is not
	// part of the hash, so row 5 repeats it too): -2 and -3 in file order.
	base := samples[3].ID
	if len(base) != 16 || samples[4].ID != base+"-2" || samples[5].ID != base+"-3" {
		t.Errorf("ids %s %s %s", samples[3].ID, samples[4].ID, samples[5].ID)
	}
	// The content hash is part of the file contract (ids key caches and
	// resumed runs): pin it. The values were computed with Python:
	// hashlib.sha256(json.dumps([input, messages, choices, target],
	// separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()[:16].
	if samples[0].ID != "7924b338e6338df8" || samples[6].ID != "35c1fd296716d45b" {
		t.Errorf("content ids %s and %s, want 7924b338e6338df8 and 35c1fd296716d45b; changing the hash changes every stored sample id",
			samples[0].ID, samples[6].ID)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCSVOptions(t *testing.T) {
	// A byte order mark is dropped, an empty header name is named by its
	// position, and CRLF line ends do not leak into fields.
	path := write(t, "d.csv", "\xef\xbb\xbf,name,score\r\n0,ann,1\r\n1,bob,2\r\n")
	_, rows := readAll(t, path, datasets.Options{})
	if !reflect.DeepEqual(rows[0], datasets.Row{"0": "0", "name": "ann", "score": "1"}) || rows[1]["score"] != "2" {
		t.Errorf("rows %v", rows)
	}
	_, rows = readAll(t, path, datasets.Options{Columns: []string{"i", "n", "s"}})
	if !reflect.DeepEqual(rows[1], datasets.Row{"i": "1", "n": "bob", "s": "2"}) {
		t.Errorf("renamed rows %v", rows)
	}
	err := datasets.ReadRows(path, datasets.Options{Columns: []string{"i"}}, func(int, datasets.Row) error { return nil })
	if err == nil || err.Error() != path+":1: the header has 3 columns but the options name 1" {
		t.Errorf("err %v", err)
	}
	tsv := write(t, "d.tsv", "a\tb\n\"x\ty\"\tz\n")
	_, rows = readAll(t, tsv, datasets.Options{})
	if !reflect.DeepEqual(rows, []datasets.Row{{"a": "x\ty", "b": "z"}}) {
		t.Errorf("TSV rows %v", rows)
	}
}

func TestBuiltin(t *testing.T) {
	names := datasets.BuiltinNames()
	if !slices.Contains(names, "quickstart") || !slices.IsSorted(names) {
		t.Fatalf("BuiltinNames() = %v", names)
	}
	for _, name := range names {
		disk := must(os.ReadFile(filepath.Join("builtin", name+".jsonl")))
		_, rows := readAll(t, "builtin:"+name, datasets.Options{})
		if want := bytes.Count(bytes.TrimSpace(disk), []byte("\n")) + 1; len(rows) != want {
			t.Errorf("builtin:%s: %d rows, the file has %d lines", name, len(rows), want)
		}
		h := sha256.Sum256(disk)
		if sum, err := datasets.Checksum("builtin:" + name); err != nil || sum != hex.EncodeToString(h[:]) {
			t.Errorf("Checksum(builtin:%s) = %s, %v", name, sum, err)
		}
	}
	samples, err := datasets.Load("builtin:quickstart", datasets.Mapping{ID: "id", Input: "input", Target: "harmful"}, datasets.Options{})
	if err != nil || len(samples) == 0 || samples[0].Input == "" || (samples[0].Target != "true" && samples[0].Target != "false") {
		t.Fatalf("Load(builtin:quickstart): %v, %v", samples, err)
	}
	for _, bad := range []string{"builtin:nope", "builtin:../doc", "builtin:"} {
		_, err := datasets.Load(bad, datasets.Mapping{Input: "input"}, datasets.Options{})
		want := bad + ": no such built-in dataset; known: " + strings.Join(names, ", ")
		if err == nil || err.Error() != want {
			t.Errorf("Load(%s): %v, want %q", bad, err, want)
		}
		if _, err := datasets.Checksum(bad); err == nil {
			t.Errorf("Checksum(%s) succeeded", bad)
		}
	}
}
