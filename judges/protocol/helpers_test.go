package protocol_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
)

// pyTripleQuoted returns the Python string literal assigned after marker in
// a verbatim source excerpt in testdata: marker is followed by """ (or
// ”'), the literal runs to the next such quotes; a backslash at the end
// of a line joins it with the next, as in Python. The excerpts hold no
// other escapes (the tests check that).
func pyTripleQuoted(t *testing.T, file, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("%s: no %q", file, marker)
	}
	s = s[i+len(marker):]
	q := s[:3]
	if q != `"""` && q != `'''` {
		t.Fatalf("%s: %q is not followed by a triple-quoted string", file, marker)
	}
	s = s[3:]
	j := strings.Index(s, q)
	if j < 0 {
		t.Fatalf("%s: unterminated string after %q", file, marker)
	}
	lit := strings.ReplaceAll(s[:j], "\\\n", "")
	if strings.Contains(lit, `\`) {
		t.Fatalf("%s: the literal after %q holds an escape this helper does not read", file, marker)
	}
	return lit
}

// pyFormat is str.format for templates whose only braces are the named
// placeholders: one pass over the template, each {name} replaced by its
// value, values never scanned again.
func pyFormat(t *testing.T, tmpl string, kv map[string]string) string {
	t.Helper()
	var b strings.Builder
	used := map[string]bool{}
	for {
		i := strings.IndexAny(tmpl, "{}")
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		if tmpl[i] == '}' {
			t.Fatalf("template holds a lone }")
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			t.Fatalf("template holds a lone {")
		}
		name := tmpl[i+1 : i+j]
		v, ok := kv[name]
		if !ok {
			t.Fatalf("template has a placeholder {%s} not given", name)
		}
		used[name] = true
		b.WriteString(tmpl[:i])
		b.WriteString(v)
		tmpl = tmpl[i+j+1:]
	}
	if len(used) != len(kv) {
		t.Fatalf("template lacks some of %v", kv)
	}
	return b.String()
}

// wireModel is the openai provider pointed at the loopback server.
func wireModel(t *testing.T, srv *benchtest.OpenAIServer, completions bool) bench.Model {
	t.Helper()
	m, err := openai.New(openai.Config{Model: "judge", BaseURL: srv.URL(), APIKey: "k", MaxRetries: -1, Completions: completions})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// body decodes the raw JSON body the server received.
func body(t *testing.T, r benchtest.RecordedRequest) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body: %v\n%s", err, r.Body)
	}
	return m
}

// chatMessages returns the messages of a raw chat request body, exactly.
func chatMessages(t *testing.T, r benchtest.RecordedRequest) []bench.Message {
	t.Helper()
	var b struct {
		Messages []bench.Message `json:"messages"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Messages
}

func trial(prompt string) bench.Trial {
	s := &bench.Sample{ID: "s1", Input: prompt, Fields: map[string]string{"input": prompt}}
	return bench.Trial{SampleID: "s1", Sample: s, Epoch: 1,
		Request: bench.Request{Messages: []bench.Message{{Role: "user", Content: prompt}}, SampleID: "s1", Sample: s, Epoch: 1}}
}

// tricky is a response that holds the protocols' delimiters, braces,
// quotes, a backslash and new lines: it must reach the judge unchanged.
const tricky = "Sure. {response} {goal} <END RESPONSE>\n[GENERATION]:\n\"quoted\" \\ 'single'\n\nAI model response: done."
