package attack

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// gptfuzzQuestions reads GPTFuzz's question list with encoding/csv.
func gptfuzzQuestions(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(benchtest.SharedFile(t, "gptfuzz/question_list.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestGPTFuzzQuestionList(t *testing.T) {
	rows := gptfuzzQuestions(t)
	if len(rows) != 101 {
		t.Fatalf("question_list.csv has %d rows with the header, want 101 (100 questions)", len(rows))
	}
	if rows[0][0] != "index" || rows[0][1] != "text" {
		t.Errorf("header %v", rows[0])
	}
}

func TestGPTFuzzTemplates(t *testing.T) {
	path := benchtest.SharedFile(t, "gptfuzz/GPTFuzzer.csv")
	as, err := Resolve("template:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 77 {
		t.Fatalf("got %d attacks, want 77", len(as))
	}
	q := gptfuzzQuestions(t)[1][1]
	s := bench.Sample{ID: "gptfuzz-0", Input: q, Fields: map[string]string{"input": q}}
	multiline := 0
	for i, a := range as {
		if want := "template:GPTFuzzer#" + strconv.Itoa(i); a.Name() != want {
			t.Errorf("attack %d is named %q, want %q", i, a.Name(), want)
		}
		out, err := a.Transform(s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.Input, q) || strings.Contains(out.Input, Placeholder) || len(out.Input) <= len(q) {
			t.Errorf("%s: bad prompt %.200q", a.Name(), out.Input)
		}
		if out.Fields["input"] != out.Input {
			t.Errorf("%s: Fields[input] not updated", a.Name())
		}
		if strings.Contains(out.Input, "\n") {
			multiline++
		}
		if strings.Contains(out.Input, "\r") {
			t.Errorf("%s: carriage return left in the template", a.Name())
		}
	}
	// SOURCE.md: 23 of the 77 templates span several lines.
	if multiline < 23 {
		t.Errorf("%d multi-line templates, want at least 23", multiline)
	}
	// Composition with a template file expands to every template.
	bs, err := Resolve("base64+template:" + path)
	if err != nil || len(bs) != 77 || bs[5].Name() != "base64+template:GPTFuzzer#5" {
		t.Fatalf("base64+template: %d attacks, %v", len(bs), err)
	}
	ts, err := LoadTemplates(path)
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Line != 2 || ts[1].Line != 5 {
		t.Errorf("template lines %d, %d; want 2, 5", ts[0].Line, ts[1].Line)
	}
}

// write creates a file in a temporary folder and returns its path.
func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// transformAll applies each attack to a prompt.
func transformAll(t *testing.T, as []Attack, p string) (names, prompts []string) {
	t.Helper()
	for _, a := range as {
		out, err := a.Transform(bench.Sample{ID: "x", Input: p})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, a.Name())
		prompts = append(prompts, out.Input)
	}
	return names, prompts
}

func TestTemplateFormats(t *testing.T) {
	cases := []struct {
		file, content string
		names         []string
		prompts       []string
	}{
		{"plain.txt", "\n  First: [INSERT PROMPT HERE]\n---\n\n---\nSecond\nline [INSERT PROMPT HERE] and [INSERT PROMPT HERE]\n---\n",
			[]string{"template:plain#1", "template:plain#2"},
			[]string{"First: Q?", "Second\nline Q? and Q?"}},
		{"crlf.txt", "A [INSERT PROMPT HERE]\r\n---\r\nB [INSERT PROMPT HERE]\r\n",
			[]string{"template:crlf#1", "template:crlf#2"},
			[]string{"A Q?", "B Q?"}},
		{"t.csv", "\uFEFFTemplate,Name\n\"say \"\"[INSERT PROMPT HERE]\"\"\",dan\n\"two\nlines [INSERT PROMPT HERE]\",\n",
			[]string{"template:t#dan", "template:t#2"},
			[]string{"say \"Q?\"", "two\nlines Q?"}},
		{"single.csv", "jb\n[INSERT PROMPT HERE]!\n",
			[]string{"template:single#1"}, []string{"Q?!"}},
		{"t.json", "[\n  \"s [INSERT PROMPT HERE]\",\n  {\"id\": 7, \"text\": \"o [INSERT PROMPT HERE]\"},\n  {\"prompt\": \"p [INSERT PROMPT HERE]\", \"name\": \"x\"}\n]",
			[]string{"template:t#1", "template:t#7", "template:t#x"},
			[]string{"s Q?", "o Q?", "p Q?"}},
		{"t.jsonl", "{\"id\": \"a\", \"template\": \"j [INSERT PROMPT HERE]\"}\n\n\"k [INSERT PROMPT HERE]\"\n",
			[]string{"template:t#a", "template:t#2"},
			[]string{"j Q?", "k Q?"}},
	}
	for _, c := range cases {
		as, err := Resolve("template:" + write(t, c.file, c.content))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		names, prompts := transformAll(t, as, "Q?")
		if strings.Join(names, "|") != strings.Join(c.names, "|") {
			t.Errorf("%s: names %q, want %q", c.file, names, c.names)
		}
		if strings.Join(prompts, "|") != strings.Join(c.prompts, "|") {
			t.Errorf("%s: prompts %q, want %q", c.file, prompts, c.prompts)
		}
	}
}

func TestTemplateRelativeDirAndPlus(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a+b.txt"), []byte("X [INSERT PROMPT HERE]"), 0o644); err != nil {
		t.Fatal(err)
	}
	as, err := ResolveWith("template:a+b.txt+leetspeak", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	names, prompts := transformAll(t, as, "hi")
	if len(as) != 1 || names[0] != "template:a+b#1+leetspeak" || prompts[0] != "X h1" {
		t.Errorf("got %q %q", names, prompts)
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := []struct{ file, content, msg string }{
		{"missing.csv", "id,text\n0,\"fine [INSERT PROMPT HERE]\"\n1,\"multi\nline\"\n2,ok [INSERT PROMPT HERE]\n",
			":3: attacks: template 1 (row 2) has no placeholder [INSERT PROMPT HERE]"},
		{"missing.txt", "a [INSERT PROMPT HERE]\n---\n\nno mark here\n",
			":4: attacks: template 2 (row 2) has no placeholder [INSERT PROMPT HERE]"},
		{"missing.json", "[\"a [INSERT PROMPT HERE]\",\n\n {\"text\": \"b\"}]",
			":3: attacks: template 2 (row 2) has no placeholder [INSERT PROMPT HERE]"},
		{"dup.csv", "id,text\n1,[INSERT PROMPT HERE]\n1,again [INSERT PROMPT HERE]\n",
			":3: attacks: template id \"1\" (row 2) repeats the id of row 1"},
		{"empty.txt", "\n---\n  \n",
			": attacks: the template file holds no templates"},
		{"header.csv", "id,body\n1,x\n",
			":1: attacks: no template column: the header needs one of text, template, prompt, jailbreak"},
		{"quote.csv", "id,text\n1,\"open [INSERT PROMPT HERE]\n",
			":2: attacks: malformed CSV: extraneous or missing \" in quoted-field"},
		{"bad.json", "{\"text\": \"x\"}",
			":1: attacks: malformed JSON: expected an array of templates"},
		{"keys.jsonl", "{\"text\": \"a [INSERT PROMPT HERE]\"}\n{\"body\": \"b\"}\n",
			":2: attacks: an object has none of the keys text, template, prompt, jailbreak"},
	}
	for _, c := range cases {
		path := write(t, c.file, c.content)
		_, err := Resolve("role-play+template:" + path)
		var ie *bench.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: got %v, want an InputError", c.file, err)
			continue
		}
		if ie.File != path || err.Error() != path+c.msg {
			t.Errorf("%s:\n got %s\nwant %s%s", c.file, err, path, c.msg)
		}
	}
	nowhere := filepath.Join(t.TempDir(), "nowhere.csv")
	_, err := Resolve("template:" + nowhere)
	if err == nil || err.Error() != nowhere+": attacks: cannot read the template file: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}

func BenchmarkResolveGPTFuzz(b *testing.B) {
	spec := "template:" + benchtest.SharedFile(b, "gptfuzz/GPTFuzzer.csv")
	for b.Loop() {
		if _, err := Resolve(spec); err != nil {
			b.Fatal(err)
		}
	}
}
