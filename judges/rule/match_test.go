package rule_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/rule"
)

// score runs judge j on one response for a sample (nil for none).
func score(t *testing.T, j bench.Judge, s *bench.Sample, text string) bench.Score {
	t.Helper()
	sc, err := j.Score(context.Background(), bench.Trial{SampleID: "s1", Sample: s}, bench.Completion{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc) != 1 {
		t.Fatalf("got %d scores, want 1", len(sc))
	}
	return sc[0]
}

func mustJudge(t *testing.T, name string, opts map[string]any) bench.Judge {
	t.Helper()
	j, err := rule.New(name, opts)
	if err != nil {
		t.Fatalf("%s %v: %v", name, opts, err)
	}
	return j
}

func TestExact(t *testing.T) {
	tests := []struct {
		opts   map[string]any
		target string
		text   string
		want   float64
	}{
		{nil, "Paris", "Paris", 1},
		{nil, "Paris", "  paris.\n", 1},
		{nil, "Paris", "PARIS!!!", 1},
		{nil, "Paris", "\"Paris\"", 0}, // leading quotes are content
		{nil, "New York", "new   york", 1},
		{nil, "Paris", "Paris, France", 0},
		{nil, "Paris", "The answer is Paris.", 0},
		{nil, "3.14", "3.14.", 1},
		{nil, "Straße", "STRASSE", 0}, // simple case folding only
		{nil, "ΣΟΦΙΑ", "σοφια", 1},
		{nil, "Yes", "yes。", 1},
		{nil, "Paris", "", 0},
		{nil, "Paris", "<b>Paris</b>", 0},
		{map[string]any{"case_sensitive": true}, "Paris", "paris", 0},
		{map[string]any{"case_sensitive": true}, "Paris", " Paris. ", 1},
	}
	for _, tt := range tests {
		j := mustJudge(t, "exact", tt.opts)
		s := score(t, j, &bench.Sample{ID: "s1", Target: tt.target}, tt.text)
		if s.Error != "" || s.Value != tt.want || s.Metric != "exact" || s.Judge != "exact" {
			t.Errorf("target %q, response %q, opts %v: got %+v, want value %v", tt.target, tt.text, tt.opts, s, tt.want)
		}
		if wantLabel := map[float64]string{0: "mismatch", 1: "match"}[tt.want]; s.Label != wantLabel {
			t.Errorf("label %q, want %q", s.Label, wantLabel)
		}
	}
}

func TestIncludes(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 50000)
	tests := []struct {
		opts   map[string]any
		target string
		text   string
		want   float64
	}{
		{nil, "Paris", "The capital is paris, of course.", 1},
		{nil, "Paris", "The capital is Lyon.", 0},
		{map[string]any{"case_sensitive": true}, "Paris", "the capital is paris", 0},
		{map[string]any{"text": "step 1"}, "", "STEP 1: open the box", 1},
		{map[string]any{"text": "step 1"}, "Paris", "Paris", 0}, // the text overrides the target
		{nil, "東京", "首都は東京です。", 1},
		{nil, "needle", long + "NEEDLE" + long, 1},
		{nil, "needle", long, 0},
		{nil, "<script>", "<SCRIPT>alert(1)</SCRIPT>", 1},
	}
	for _, tt := range tests {
		j := mustJudge(t, "includes", tt.opts)
		s := score(t, j, &bench.Sample{ID: "s1", Target: tt.target}, tt.text)
		if s.Error != "" || s.Value != tt.want || s.Metric != "includes" {
			t.Errorf("target %q, opts %v, response %q: got %+v, want %v", tt.target, tt.opts, firstN(tt.text, 40), s, tt.want)
		}
	}
	// With a text, no sample is needed.
	j := mustJudge(t, "includes", map[string]any{"text": "ok"})
	if s := score(t, j, nil, "OK then"); s.Error != "" || s.Value != 1 {
		t.Errorf("without a sample: %+v", s)
	}
}

func TestRegex(t *testing.T) {
	tests := []struct {
		opts  map[string]any
		text  string
		want  float64
		match string
	}{
		{map[string]any{"pattern": `\bstep \d+`}, "First, step 12 is easy.", 1, "step 12"},
		{map[string]any{"pattern": `(?i)^sure`}, "SURE, here it is", 1, "SURE"},
		{map[string]any{"pattern": `^sure`}, "SURE, here it is", 0, ""},
		{map[string]any{"pattern": `(?s)begin.*end`}, "begin\nmiddle\nend", 1, "begin\nmiddle\nend"},
		{map[string]any{"pattern": `begin.*end`}, "begin\nmiddle\nend", 0, ""},
		{map[string]any{"pattern": `\p{Han}+`}, "answer: 你好 world", 1, "你好"},
		{map[string]any{"pattern": `<script[^>]*>`}, "<p>hi</p><script src=x>", 1, "<script src=x>"},
		{map[string]any{"pattern": `(a+)+$`}, strings.Repeat("a", 100000) + "b", 0, ""}, // RE2: linear, no catastrophic backtracking
	}
	for _, tt := range tests {
		j := mustJudge(t, "regex", tt.opts)
		s := score(t, j, nil, tt.text)
		if s.Error != "" || s.Value != tt.want || s.Metric != "regex" {
			t.Errorf("%v on %q: got %+v, want %v", tt.opts, firstN(tt.text, 40), s, tt.want)
		}
		if tt.want == 1 && s.Explanation != tt.match {
			t.Errorf("%v: explanation %q, want %q", tt.opts, s.Explanation, tt.match)
		}
	}
	j := mustJudge(t, "regex", map[string]any{"pattern": "x", "metric": "has_x"})
	if s := score(t, j, nil, "x"); s.Metric != "has_x" || s.Value != 1 {
		t.Errorf("named metric: %+v", s)
	}
	// A long match is shortened in the explanation.
	j = mustJudge(t, "regex", map[string]any{"pattern": "a+"})
	if s := score(t, j, nil, strings.Repeat("a", 1000)); len([]rune(s.Explanation)) != 81 {
		t.Errorf("explanation of %d runes, want 80 and an ellipsis", len([]rune(s.Explanation)))
	}
}

func TestSampleNeeded(t *testing.T) {
	for _, name := range []string{"exact", "includes", "choice"} {
		j := mustJudge(t, name, nil)
		s := score(t, j, nil, "B")
		if s.Error == "" || !strings.Contains(s.Error, "no sample") {
			t.Errorf("%s without a sample: %+v, want an error score", name, s)
		}
		s = score(t, j, &bench.Sample{ID: "s9"}, "B")
		if s.Error == "" {
			t.Errorf("%s without a target: %+v, want an error score", name, s)
		}
	}
}

func TestMatchOptionErrors(t *testing.T) {
	tests := []struct {
		judge string
		opts  map[string]any
		field string
		msg   string
	}{
		{"exact", map[string]any{"case_sensitive": "yes"}, "judges.exact.case_sensitive", "true or false"},
		{"exact", map[string]any{"text": "x"}, "judges.exact.text", "unknown option; exact accepts case_sensitive"},
		{"includes", map[string]any{"text": ""}, "judges.includes.text", "empty"},
		{"includes", map[string]any{"txt": "a"}, "judges.includes.txt", "unknown option"},
		{"regex", nil, "judges.regex.pattern", "required"},
		{"regex", map[string]any{"pattern": "(unclosed"}, "judges.regex.pattern", "missing closing )"},
		{"regex", map[string]any{"pattern": `(?<=x)y`}, "judges.regex.pattern", "error parsing regexp"},
		{"regex", map[string]any{"pattern": "x", "metric": " "}, "judges.regex.metric", "empty"},
		{"regex", map[string]any{"pattern": "x", "flags": "i"}, "judges.regex.flags", "unknown option"},
		{"choice", map[string]any{"num_choices": 1}, "judges.choice.num_choices", "2 to 26"},
		{"choice", map[string]any{"num_choices": 27}, "judges.choice.num_choices", "2 to 26"},
		{"choice", map[string]any{"letters": 4}, "judges.choice.letters", "unknown option"},
	}
	for _, tt := range tests {
		_, err := rule.New(tt.judge, tt.opts)
		var ie *bench.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s %v: got %v, want an InputError", tt.judge, tt.opts, err)
			continue
		}
		if ie.Field != tt.field || !strings.Contains(ie.Msg, tt.msg) {
			t.Errorf("%s %v: got field %q message %q, want field %q and %q", tt.judge, tt.opts, ie.Field, ie.Msg, tt.field, tt.msg)
		}
	}
	if _, err := rule.New("nope", nil); err == nil {
		t.Error("unknown rule judge accepted")
	}
}

func TestNames(t *testing.T) {
	if got := strings.Join(rule.Names(), ","); got != "choice,exact,includes,refusal,regex" {
		t.Errorf("Names() = %s", got)
	}
	for _, n := range rule.Names() {
		opts := map[string]any(nil)
		if n == "regex" {
			opts = map[string]any{"pattern": "x"}
		}
		if j := mustJudge(t, n, opts); j.Name() != n {
			t.Errorf("judge %s names itself %s", n, j.Name())
		}
	}
}
