package suites

import (
	"testing"
	"text/template"

	"github.com/mores-eval/mores/bench"
)

// TestADirectFieldPromptRendersAsTheTemplateDoes checks the shortcut for a
// prompt that is one field: the same text as running the template, and the
// template's own error for a missing field.
func TestADirectFieldPromptRendersAsTheTemplateDoes(t *testing.T) {
	for _, tc := range []struct {
		prompt string
		direct bool
	}{
		{"{{.input}}", true}, {"{{ .input }}", true}, {"{{- .input -}}", true}, {"{{.input}}!", false},
		{`{{.input | printf "%q"}}`, false}, {"{{$x := .input}}{{$x}}", false}, {"{{.}}", false}, {"{{.a.b}}", false},
	} {
		tm := template.Must(template.New("prompt").Option("missingkey=error").Parse(tc.prompt))
		if got := directField(tm) != ""; got != tc.direct {
			t.Errorf("%s: direct %v, want %v", tc.prompt, got, tc.direct)
		}
	}
	for _, prompt := range []string{"{{ .input }}", "{{.input}} "} { // the shortcut, and the template run
		s, err := Parse("d.yaml", []byte("name: d\nversion: 1\ndataset: {path: builtin:harmless}\nprompt: '"+prompt+"'\n"))
		if err != nil {
			t.Fatal(err)
		}
		in := "<b>x</b> & {{.y}} \u2028 \x00"
		req, err := s.Request(bench.Sample{ID: "1", Input: in})
		want := in
		if prompt == "{{.input}} " {
			want += " "
		}
		if err != nil || req.Messages[0].Content != want {
			t.Errorf("%s: %q, %v", prompt, req.Messages[0].Content, err)
		}
	}
	s, err := Parse("d.yaml", []byte("name: d\nversion: 1\ndataset: {path: builtin:harmless}\nprompt: '{{.missing}}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request(bench.Sample{ID: "1", Input: "x"}); err == nil {
		t.Error("a prompt naming a missing field rendered")
	}
}

// TestAConversationsSystemMessageJoinsTheSuites checks that a dataset
// conversation starting with its own system message reaches the model as
// one system prompt, the suite's first.
func TestAConversationsSystemMessageJoinsTheSuites(t *testing.T) {
	conv := []bench.Message{{Role: "system", Content: "Answer in French."}, {Role: "user", Content: "Hello?"}}
	for _, tc := range []struct{ suiteSystem, want string }{
		{"Be brief.", "Be brief.\n\nAnswer in French."},
		{"", "Answer in French."},
	} {
		src := "name: d\nversion: 1\ndataset: {path: builtin:harmless}\nprompt: '{{.input}}'\n"
		if tc.suiteSystem != "" {
			src += "system: " + tc.suiteSystem + "\n"
		}
		s, err := Parse("d.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		req, err := s.Request(bench.Sample{ID: "1", Messages: conv})
		if err != nil {
			t.Fatal(err)
		}
		if req.System != tc.want || len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.Messages[0].Content != "Hello?" {
			t.Errorf("suite system %q: system %q, messages %+v", tc.suiteSystem, req.System, req.Messages)
		}
	}
}
