package openai

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// conversations used by the format tests.
var (
	single = bench.Request{System: "Be kind.", Messages: []bench.Message{{Role: "user", Content: "How do I apologise?"}}}
	multi  = bench.Request{System: "Be kind.", Messages: []bench.Message{
		{Role: "user", Content: "My friend is upset."},
		{Role: "assistant", Content: "What happened?"},
		{Role: "user", Content: "I forgot her birthday."},
	}}
)

// TestPromptFormatsOnTheWire checks the exact prompt text and stop
// sequences that arrive at a completions endpoint for each format, for one
// turn and for three.
func TestPromptFormatsOnTheWire(t *testing.T) {
	cases := []struct {
		format      string
		single      string
		multi       string
		defaultStop []string
	}{
		{"", "System: Be kind.\n\nUser: How do I apologise?\n\nAssistant:",
			"System: Be kind.\n\nUser: My friend is upset.\n\nAssistant: What happened?\n\nUser: I forgot her birthday.\n\nAssistant:",
			[]string{"\n\nUser:"}},
		{"alpaca",
			"Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nHow do I apologise?\n\n### Response:",
			"Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nI forgot her birthday.\n\n### Input:\nUser: My friend is upset.\n\nAssistant: What happened?\n\n### Response:",
			[]string{"### Instruction:"}},
		{"chatml",
			"<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHow do I apologise?<|im_end|>\n<|im_start|>assistant\n",
			"<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nMy friend is upset.<|im_end|>\n<|im_start|>assistant\nWhat happened?<|im_end|>\n<|im_start|>user\nI forgot her birthday.<|im_end|>\n<|im_start|>assistant\n",
			[]string{"<|im_end|>"}},
		{"llama2",
			"[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHow do I apologise? [/INST]",
			"[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nMy friend is upset. [/INST] What happened? </s><s>[INST] I forgot her birthday. [/INST]",
			[]string{"</s>", "[INST]"}},
		{"{{.System}}\n\nUSER: {{.Prompt}}\nASSISTANT:",
			"Be kind.\n\nUSER: How do I apologise?\nASSISTANT:",
			"Be kind.\n\nUSER: I forgot her birthday.\nASSISTANT:",
			nil},
		{"{{range .Messages}}<{{.Role}}>{{.Content}}\n{{end}}<assistant>",
			"<user>How do I apologise?\n<assistant>",
			"<user>My friend is upset.\n<assistant>What happened?\n<user>I forgot her birthday.\n<assistant>",
			nil},
	}
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(benchtest.ChatRequest) string { return "Say sorry." }})
	for _, tc := range cases {
		name := tc.format
		if name == "" {
			name = "default"
		}
		t.Run(strings.Fields(name)[0], func(t *testing.T) {
			m := newModel(t, s, func(c *Config) { c.Completions = true; c.PromptFormat = tc.format })
			for _, step := range []struct {
				req  bench.Request
				want string
			}{{single, tc.single}, {multi, tc.multi}} {
				c, err := m.Generate(context.Background(), step.req)
				if err != nil {
					t.Fatal(err)
				}
				rec, _ := s.LastRequest()
				if rec.Chat.Endpoint != "completions" || len(rec.Chat.Prompt) != 1 {
					t.Fatalf("endpoint %q, prompt %q", rec.Chat.Endpoint, rec.Chat.Prompt)
				}
				if got := rec.Chat.Prompt[0]; got != step.want {
					t.Errorf("prompt on the wire:\n%q\nwant\n%q", got, step.want)
				}
				if fmt.Sprint([]string(rec.Chat.Stop)) != fmt.Sprint(tc.defaultStop) {
					t.Errorf("stop = %q, want the format's %q", rec.Chat.Stop, tc.defaultStop)
				}
				if c.Text != "Say sorry." {
					t.Errorf("text %q", c.Text)
				}
			}
			// A stop set by the user replaces the format's.
			req := single
			req.Params.Stop = []string{"END"}
			if _, err := m.Generate(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if rec, _ := s.LastRequest(); fmt.Sprint([]string(rec.Chat.Stop)) != "[END]" {
				t.Errorf("stop = %q, want the user's [END]", rec.Chat.Stop)
			}
		})
	}
}

// TestFormatStopCutsTheAnswer checks that the alpaca stop sequence ends a
// base model that runs on into the next instruction.
func TestFormatStopCutsTheAnswer(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(benchtest.ChatRequest) string {
		return " Say you are sorry and mean it.\n\n### Instruction:\nWrite a poem."
	}})
	m := newModel(t, s, func(c *Config) { c.Completions = true; c.PromptFormat = "alpaca" })
	c, err := m.Generate(context.Background(), single)
	if err != nil {
		t.Fatal(err)
	}
	if c.Text != " Say you are sorry and mean it.\n\n" {
		t.Errorf("text %q", c.Text)
	}
}

func TestBadPromptFormats(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"vicuna", `unknown prompt format "vicuna" (known: alpaca, chatml, llama2, plain`},
		{"{{.Prompt", "does not parse"},
		{"{{.Question}}", "can't evaluate field Question"},
	} {
		_, err := New(Config{Model: "m", Completions: true, PromptFormat: tc.format})
		var ie *bench.InputError
		if !errors.As(err, &ie) || ie.Field != "prompt_format" || !strings.Contains(ie.Msg, tc.want) {
			t.Errorf("format %q: error %v, want an input error on prompt_format containing %q", tc.format, err, tc.want)
		}
	}
}

func TestPromptFormatInCacheKey(t *testing.T) {
	keys := map[string]string{}
	for _, f := range []string{"", "alpaca", "chatml", "llama2", "{{.Prompt}}", "{{.Prompt}}\n"} {
		m, err := New(Config{Model: "m", BaseURL: "http://h/v1", Completions: true, PromptFormat: f})
		if err != nil {
			t.Fatal(err)
		}
		k := m.CacheKey()
		if prev, dup := keys[k]; dup {
			t.Errorf("formats %q and %q share the cache key %q", prev, f, k)
		}
		keys[k] = f
	}
	a, _ := New(Config{Model: "m", Completions: true, PromptFormat: "plain"})
	b, _ := New(Config{Model: "m", Completions: true})
	if a.CacheKey() != b.CacheKey() {
		t.Errorf("plain and the default format have different keys: %q, %q", a.CacheKey(), b.CacheKey())
	}
}

// TestScoreContinuation scores two continuations with echo and checks the
// request on the wire and the sums against hand-computed values of the
// server's default echo log-probabilities (-0.1 per byte of each token).
func TestScoreContinuation(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	m := newModel(t, s, func(c *Config) { c.PromptFormat = "{{.Prompt}}" })
	score := func(cont string) bench.Completion {
		t.Helper()
		req := bench.Request{Messages: []bench.Message{{Role: "user", Content: "Q: Capital of France?\nA:"}, {Role: "assistant", Content: cont}},
			Params: bench.GenParams{ScoreContinuation: true}}
		c, err := m.Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := score("Paris")
	rec, _ := s.LastRequest()
	q := rec.Chat
	if q.Endpoint != "completions" || !q.Echo || !q.Logprobs || q.TopLogprobs == nil || *q.TopLogprobs != 1 || q.MaxTokens == nil || *q.MaxTokens != 1 {
		t.Errorf("scoring request on the wire: %s", rec.Body)
	}
	if len(q.Prompt) != 1 || q.Prompt[0] != "Q: Capital of France?\nA: Paris" {
		t.Errorf("prompt %q: want the context and the continuation with a space between", q.Prompt)
	}
	// Tokens "Q:", " Capital", " of", " France?", "\nA:", " Paris", then the
	// generated " Canned": only " Paris" (6 bytes) counts.
	if c.Logprob == nil || math.Abs(*c.Logprob-(-0.6)) > 1e-6 || c.LogprobTokens != 1 || c.Text != "Paris" {
		t.Errorf("Paris: %+v (logprob %v)", c, c.Logprob)
	}
	c = score("The city of Lyon")
	if c.Logprob == nil || math.Abs(*c.Logprob-(-0.4-0.5-0.3-0.5)) > 1e-6 || c.LogprobTokens != 4 {
		t.Errorf("Lyon: %+v (logprob %v)", c, c.Logprob)
	}

	// A request that does not end with the continuation is refused before
	// any call.
	before := s.Requests()
	_, err := m.Generate(context.Background(), bench.Request{Messages: []bench.Message{{Role: "user", Content: "x"}}, Params: bench.GenParams{ScoreContinuation: true}})
	var me *bench.ModelError
	if !errors.As(err, &me) || me.Kind != bench.Fatal || !strings.Contains(err.Error(), "must end with an assistant message") {
		t.Errorf("error %v", err)
	}
	if s.Requests() != before {
		t.Errorf("a malformed scoring request reached the server")
	}
}

// TestScoreWithScriptedLogprobs gives every token a scripted logprob and
// checks that a token straddling the context boundary counts, and that an
// answer without log-probabilities is an error, not a score of 0.
func TestScoreWithScriptedLogprobs(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Logprobs: func(req benchtest.ChatRequest, text string) []benchtest.TokenLogprob {
		if strings.Contains(text, "none") {
			return nil
		}
		// "### Response:" and " Yes" are tokenised as "### Response: Y" and "es".
		i := strings.Index(text, " Yes")
		// The first token's logprob is sent as null.
		return []benchtest.TokenLogprob{{Token: text[:5], Logprob: -9}, {Token: text[5 : i+2], Logprob: -2}, {Token: text[i+2:], Logprob: -0.25}}
	}})
	m := newModel(t, s, func(c *Config) { c.PromptFormat = "alpaca" })
	req := bench.Request{Messages: []bench.Message{{Role: "user", Content: "Is honesty good?"}, {Role: "assistant", Content: "Yes"}},
		Params: bench.GenParams{ScoreContinuation: true}}
	c, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Logprob == nil || *c.Logprob != -2.25 || c.LogprobTokens != 2 {
		t.Errorf("logprob %v over %d tokens, want -2.25 over 2", c.Logprob, c.LogprobTokens)
	}
	rec, _ := s.LastRequest()
	if !strings.HasSuffix(rec.Chat.Prompt[0], "### Response: Yes") {
		t.Errorf("prompt %q", rec.Chat.Prompt)
	}
	req.Messages[0].Content = "none"
	if _, err := m.Generate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "no log-probabilities") {
		t.Errorf("no logprobs: error %v", err)
	}
}

// Only alpaca has no place for a system prompt; the model says so, for the
// completions endpoint it renders prompts for.
func TestDropsSystem(t *testing.T) {
	for _, f := range []string{"", "plain", "alpaca", "chatml", "llama2", "{{.Prompt}}"} {
		pf, err := ParsePromptFormat(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.DropsSystem(); got != (f == "alpaca") {
			t.Errorf("%q: DropsSystem = %v", f, got)
		}
	}
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	if m := newModel(t, s, func(c *Config) { c.Completions = true; c.PromptFormat = "alpaca" }); !m.DropsSystem() {
		t.Error("an alpaca completions model keeps the system prompt?")
	}
	if m := newModel(t, s, func(c *Config) { c.PromptFormat = "alpaca" }); m.DropsSystem() {
		t.Error("a chat model drops the system prompt?")
	}
}
