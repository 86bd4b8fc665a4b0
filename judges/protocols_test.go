package judges_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/judges"
)

// TestProtocolJudgesRegistered builds each published protocol from its
// name, with a judge model of the right endpoint, and checks the errors a
// user meets: no judge model, the wrong endpoint, an unknown option — each
// a *bench.InputError naming the option.
func TestProtocolJudgesRegistered(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	model := func(completions bool) judges.Env {
		return judges.Env{Model: func(string) (bench.Model, error) {
			return openai.New(openai.Config{Model: "m", BaseURL: srv.URL(), APIKey: "k", Completions: completions})
		}}
	}
	for _, tc := range []struct {
		name        string
		completions bool
		opts        map[string]any
	}{
		{"jailbreakbench", false, map[string]any{"refusal": true}},
		{"harmbench", true, map[string]any{"behavior": "goal"}},
		{"llamaguard", false, nil},
		{"strongreject", false, map[string]any{"temperature": 0.0}},
	} {
		j, err := judges.New(bench.JudgeSpec{Name: tc.name, Options: tc.opts}, model(tc.completions))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if jj, ok := j.(bench.Judge); !ok || jj.Name() != tc.name {
			t.Errorf("%s: built %T", tc.name, j)
		}
		var ie *bench.InputError
		if _, err := judges.New(bench.JudgeSpec{Name: tc.name}, judges.Env{}); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "judge model") {
			t.Errorf("%s without a judge model: %v", tc.name, err)
		}
		if _, err := judges.New(bench.JudgeSpec{Name: tc.name, Options: map[string]any{"nope": 1}}, model(tc.completions)); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "nope") {
			t.Errorf("%s with an unknown option: %v", tc.name, err)
		}
	}
	var ie *bench.InputError
	if _, err := judges.New(bench.JudgeSpec{Name: "harmbench"}, model(false)); !errors.As(err, &ie) || ie.Field != "judges.harmbench.model" {
		t.Errorf("harmbench on a chat model: %v, want an input error on judges.harmbench.model", err)
	}
	if _, err := judges.New(bench.JudgeSpec{Name: "llamaguard"}, model(true)); !errors.As(err, &ie) || ie.Field != "judges.llamaguard.model" {
		t.Errorf("llamaguard on a completions model: %v, want an input error on judges.llamaguard.model", err)
	}
}
