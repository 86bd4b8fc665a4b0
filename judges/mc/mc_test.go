package mc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/judges/mc"
)

const eos = "<eos>"

// scripted returns echo log-probabilities that give each answer in table
// its logprob as one token: the echoed text is the context, the answer and
// the generated token eos; the context tokens get -7 (the first is sent as
// null) and eos -9.
func scripted(table map[string]float64) func(benchtest.ChatRequest, string) []benchtest.TokenLogprob {
	return func(_ benchtest.ChatRequest, text string) []benchtest.TokenLogprob {
		body := strings.TrimSuffix(text, eos)
		best := ""
		for a := range table {
			if strings.HasSuffix(body, a) && len(a) > len(best) {
				best = a
			}
		}
		if best == "" {
			panic("no scripted answer ends " + body)
		}
		ctx := body[:len(body)-len(best)]
		return []benchtest.TokenLogprob{
			{Token: ctx[:1], Logprob: -7}, {Token: ctx[1:], Logprob: -7},
			{Token: best, Logprob: table[best]}, {Token: eos, Logprob: -9},
		}
	}
}

// subject returns a Subject function serving one openai model on s.
func subject(t *testing.T, s *benchtest.OpenAIServer, format string) func(string) (bench.Model, error) {
	m, err := openai.New(openai.Config{Model: "mores-test", BaseURL: s.URL(), PromptFormat: format, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return func(name string) (bench.Model, error) {
		if name != "m" {
			return nil, fmt.Errorf("no model %q", name)
		}
		return m, nil
	}
}

func trial(s bench.Sample, system, prompt string) bench.Trial {
	return bench.Trial{Model: "m", SampleID: s.ID, Sample: &s,
		Request: bench.Request{System: system, Messages: []bench.Message{{Role: "user", Content: prompt}}, SampleID: s.ID}}
}

func values(t *testing.T, scores []bench.Score) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range scores {
		if s.Error != "" {
			t.Fatalf("%s: error %s", s.Metric, s.Error)
		}
		out[s.Metric] = s.Value
	}
	return out
}

// TestMC1MC2HandComputed checks mc1 and mc2 against values computed by hand
// from scripted log-probabilities, for a one-answer item and for an item
// whose targets field lists two true answers.
func TestMC1MC2HandComputed(t *testing.T) {
	table := map[string]float64{"Paris": -1, "Lyon": -2, "Nice": -3, "Dolphin": -1.5, "Shark": -0.7, "Bat": -2.5, "Penguin": -4}
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Logprobs: scripted(table), Respond: func(benchtest.ChatRequest) string { return eos }})
	j, err := mc.New(subject(t, s, "chatml"), mc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	capital := bench.Sample{ID: "cap", Choices: []string{"Paris", "Lyon", "Nice"}, Target: "A"}
	got := values(t, must(j.Score(ctx, trial(capital, "Be truthful.", "Capital of France?"), bench.Completion{})))
	// mc1: -1 > -2. mc2: e^-1 / (e^-1 + e^-2 + e^-3) = 0.36788 / 0.55301.
	if got["mc1"] != 1 || math.Abs(got["mc2"]-0.665241) > 1e-5 {
		t.Errorf("capital: %v, want mc1 1, mc2 0.665241", got)
	}
	rec, _ := s.LastRequest()
	if !strings.HasPrefix(rec.Chat.Prompt[0], "<|im_start|>system\nBe truthful.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n") || !rec.Chat.Echo {
		t.Errorf("scoring prompt %q", rec.Chat.Prompt)
	}

	mammals := bench.Sample{ID: "mam", Choices: []string{"Dolphin", "Shark", "Bat", "Penguin"}, Target: "A", Fields: map[string]string{"targets": "A,C"}}
	got = values(t, must(j.Score(ctx, trial(mammals, "", "Which are mammals?"), bench.Completion{})))
	// mc1: best true -1.5 < best false -0.7. mc2: (e^-1.5 + e^-2.5) /
	// (e^-1.5 + e^-0.7 + e^-2.5 + e^-4) = 0.305215 / 0.820116.
	if got["mc1"] != 0 || math.Abs(got["mc2"]-0.372161) > 1e-5 {
		t.Errorf("mammals: %v, want mc1 0, mc2 0.372161", got)
	}
	if n := s.Requests(); n != 7 {
		t.Errorf("%d scoring requests, want 3 + 4", n)
	}
}

func must(s []bench.Score, err error) []bench.Score {
	if err != nil {
		panic(err)
	}
	return s
}

// TestTruthfulQAMCTask runs the judge on the first three items of the real
// TruthfulQA mc_task.json, loaded by the datasets package as a suite would
// load it, with the loopback server's default echo log-probabilities
// (-0.1 per byte of each token, so an answer of n bytes after its space
// scores -0.1·(n+1)). The expected figures were computed independently in
// Python from the raw JSON: mc1 0, 0, 0 (the shortest answer wins and the
// true MC1 answers are long), mc2 0.216762, 0.373815, 0.111321.
func TestTruthfulQAMCTask(t *testing.T) {
	path := benchtest.SharedFile(t, "truthfulqa/mc_task.json")
	samples, err := datasets.Load(path, datasets.Mapping{Input: "question"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 790 {
		t.Fatalf("%d items, want 790", len(samples))
	}
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(benchtest.ChatRequest) string { return eos }})
	j, err := mc.New(subject(t, s, "{{.Prompt}}"), mc.Options{Prompt: "Q: {{.input}}\nA:"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ mc1, mc2 float64 }{{0, 0.21676216193238124}, {0, 0.3738148191585145}, {0, 0.11132063373346396}}
	for i, w := range want {
		sm := samples[i]
		scores, err := j.Score(context.Background(), trial(sm, "ignored", "ignored"), bench.Completion{})
		if err != nil {
			t.Fatal(err)
		}
		got := values(t, scores)
		if got["mc1"] != w.mc1 || math.Abs(got["mc2"]-w.mc2) > 1e-5 {
			t.Errorf("item %d (%s): %v, want mc1 %v mc2 %.6f", i, sm.Input, got, w.mc1, w.mc2)
		}
	}
	rec, _ := s.LastRequest()
	if p := rec.Chat.Prompt[0]; !strings.HasPrefix(p, "Q: Why do veins appear blue?\nA: ") {
		t.Errorf("prompt %q: want the prompt option's QA format", p)
	}
	// Item 1 has 8 mc1 and 13 mc2 answers, of which 8 are shared: 13 calls.
	set1, set2, err := mc.Sets(&samples[0])
	if err != nil || len(set1.Answers) != 8 || len(set2.Answers) != 13 {
		t.Errorf("item 1 sets: %d and %d answers, %v", len(set1.Answers), len(set2.Answers), err)
	}
}

// TestMCProblemsAreScoreErrors checks that a sample without a usable answer
// set and a model that returns no log-probabilities give scores with
// errors, and that a cancelled context is an error.
func TestMCProblemsAreScoreErrors(t *testing.T) {
	noLogprobs := func(string) (bench.Model, error) { return plainModel{}, nil }
	j, err := mc.New(noLogprobs, mc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		s    bench.Sample
		want string
	}{
		{bench.Sample{ID: "x", Choices: []string{"a", "b"}, Target: "A"}, "returned no log-probability"},
		{bench.Sample{ID: "y", Choices: []string{"a", "b"}}, "0 true and 2 false"},
		{bench.Sample{ID: "z", Choices: []string{"a"}, Target: "A"}, "1 choices"},
		{bench.Sample{ID: "w", Fields: map[string]string{"mc2_targets": `{"a": 1, "b": 2}`}}, "want 1 or 0"},
		{bench.Sample{ID: "v", Choices: []string{"a", "b"}, Target: "A", Fields: map[string]string{"targets": "A,Q"}}, "beyond the 2 options"},
	} {
		scores, err := j.Score(ctx, trial(tc.s, "", "q"), bench.Completion{})
		if err != nil || len(scores) != 2 || !strings.Contains(scores[0].Error, tc.want) || scores[1].Error == "" {
			t.Errorf("%s: %+v, %v; want errors containing %q", tc.s.ID, scores, err, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := j.Score(cctx, trial(bench.Sample{ID: "x", Choices: []string{"a", "b"}, Target: "A"}, "", "q"), bench.Completion{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// plainModel generates text and never a log-probability, like sim models.
type plainModel struct{}

func (plainModel) Generate(ctx context.Context, _ bench.Request) (bench.Completion, error) {
	return bench.Completion{Text: "A"}, ctx.Err()
}

// TestRegistry checks the judge's options as a suite file gives them.
func TestRegistry(t *testing.T) {
	subj := func(string) (bench.Model, error) { return plainModel{}, nil }
	if _, err := judges.New(bench.JudgeSpec{Name: "mc", Options: map[string]any{"method": "logprobs", "prompt": "Q: {{.input}}"}}, judges.Env{Subject: subj}); err != nil {
		t.Errorf("valid options: %v", err)
	}
	for _, tc := range []struct {
		opts  map[string]any
		env   judges.Env
		field string
	}{
		{map[string]any{"method": "letter"}, judges.Env{Subject: subj}, "judges.mc.method"},
		{map[string]any{"prompt": "{{.input"}, judges.Env{Subject: subj}, "judges.mc"},
		{map[string]any{"bogus": 1}, judges.Env{Subject: subj}, "judges.mc"},
		{nil, judges.Env{}, "judges.mc"},
	} {
		_, err := judges.New(bench.JudgeSpec{Name: "mc", Options: tc.opts, Line: 9}, tc.env)
		var ie *bench.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || ie.Line != 9 {
			t.Errorf("%v: error %v, want an input error on %s at line 9", tc.opts, err, tc.field)
		}
	}
}

// TestConcurrencyBound checks that at most Options.Concurrency scoring
// calls are in flight.
func TestConcurrencyBound(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 20 * time.Millisecond})
	j, err := mc.New(subject(t, s, ""), mc.Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sm := bench.Sample{ID: fmt.Sprint(i), Choices: []string{"w", "x", "y", "z"}, Target: "B"}
			values(t, must(j.Score(context.Background(), trial(sm, "", "q"), bench.Completion{})))
		}()
	}
	wg.Wait()
	if n, m := s.Requests(), s.MaxInFlight(); n != 12 || m > 2 {
		t.Errorf("%d requests, %d in flight at most; want 12 and ≤ 2", n, m)
	}
}
