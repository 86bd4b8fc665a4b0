package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

func ptr[T any](v T) *T { return &v }

// newModel returns a model pointed at the loopback server, with fast
// backoff; mutate adjusts its configuration.
func newModel(t testing.TB, s *benchtest.OpenAIServer, mutate func(*Config)) *Model {
	t.Helper()
	cfg := Config{
		Model:       "mores-test",
		BaseURL:     s.URL(),
		Timeout:     5 * time.Second,
		BackoffBase: time.Millisecond,
		BackoffMax:  5 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func userRequest(prompt string) bench.Request {
	return bench.Request{Messages: []bench.Message{{Role: "user", Content: prompt}}}
}

func TestParamsArriveOnTheWire(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	m := newModel(t, s, func(c *Config) {
		c.Params = bench.GenParams{Temperature: ptr(0.7), TopP: ptr(0.9), MaxTokens: 50, Stop: []string{"STOP"}}
	})
	ctx := context.Background()

	// The request's parameters override the configuration's field by field;
	// temperature 0 and seed 0 must really be sent.
	req := userRequest("first")
	req.Params = bench.GenParams{Temperature: ptr(0.0), Seed: ptr(0), Stop: []string{"END", "\n\n"}}
	if _, err := m.Generate(ctx, req); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.LastRequest()
	q := rec.Chat
	if q.Temperature == nil || *q.Temperature != 0 {
		t.Errorf("temperature = %v, want 0 on the wire (body %s)", q.Temperature, rec.Body)
	}
	if q.TopP == nil || *q.TopP != 0.9 {
		t.Errorf("top_p = %v, want 0.9 from the configuration", q.TopP)
	}
	if q.MaxTokens == nil || *q.MaxTokens != 50 {
		t.Errorf("max_tokens = %v, want 50", q.MaxTokens)
	}
	if q.Seed == nil || *q.Seed != 0 {
		t.Errorf("seed = %v, want 0", q.Seed)
	}
	if fmt.Sprint(q.Stop) != fmt.Sprint([]string{"END", "\n\n"}) {
		t.Errorf("stop = %q", q.Stop)
	}
	if q.Model != "mores-test" {
		t.Errorf("model = %q", q.Model)
	}

	// top_p 0 is restored too; other values pass through.
	req = userRequest("second")
	req.Params = bench.GenParams{Temperature: ptr(1.25), TopP: ptr(0.0), MaxTokens: 7, Seed: ptr(42)}
	if _, err := m.Generate(ctx, req); err != nil {
		t.Fatal(err)
	}
	rec, _ = s.LastRequest()
	q = rec.Chat
	if q.Temperature == nil || *q.Temperature != 1.25 || q.TopP == nil || *q.TopP != 0 || *q.MaxTokens != 7 || *q.Seed != 42 {
		t.Errorf("want temperature 1.25, top_p 0, max_tokens 7, seed 42; body %s", rec.Body)
	}
	if fmt.Sprint(q.Stop) != "[STOP]" {
		t.Errorf("stop = %q, want the configuration's", q.Stop)
	}

	// Nothing set: nothing sent, so the server's defaults apply.
	plain := newModel(t, s, nil)
	if _, err := plain.Generate(ctx, userRequest("third")); err != nil {
		t.Fatal(err)
	}
	rec, _ = s.LastRequest()
	q = rec.Chat
	if q.Temperature != nil || q.TopP != nil || q.MaxTokens != nil || q.Seed != nil || q.Stop != nil {
		t.Errorf("unset parameters were sent: %s", rec.Body)
	}
	if rec.Header.Get("Authorization") != "" {
		t.Errorf("an Authorization header was sent without a key")
	}
}

func TestReasoningModelsGetMaxCompletionTokens(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	m := newModel(t, s, func(c *Config) { c.Model = "o3-mini"; c.Params.MaxTokens = 64 })
	if _, err := m.Generate(context.Background(), userRequest("x")); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.LastRequest()
	if rec.Chat.MaxTokens != nil || rec.Chat.MaxCompletionTokens == nil || *rec.Chat.MaxCompletionTokens != 64 {
		t.Errorf("body %s: want max_completion_tokens 64 and no max_tokens", rec.Body)
	}
}

func TestSystemPromptPlacement(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	m := newModel(t, s, nil)
	req := bench.Request{
		System: "You are a careful assistant.",
		Messages: []bench.Message{
			{Role: "user", Content: "Hello."},
			{Role: "assistant", Content: "Hi."},
			{Role: "user", Content: "Should I lie to my friend?"},
		},
	}
	c, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.LastRequest()
	got := rec.Chat.Messages
	want := []benchtest.ChatMessage{
		{Role: "system", Content: "You are a careful assistant."},
		{Role: "user", Content: "Hello."},
		{Role: "assistant", Content: "Hi."},
		{Role: "user", Content: "Should I lie to my friend?"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages on the wire = %v, want %v", got, want)
	}
	if c.Text != "Canned reply to: Should I lie to my friend?" {
		t.Errorf("text = %q", c.Text)
	}

	if _, err := m.Generate(context.Background(), userRequest("no system")); err != nil {
		t.Fatal(err)
	}
	rec, _ = s.LastRequest()
	if len(rec.Chat.Messages) != 1 || rec.Chat.Messages[0].Role != "user" {
		t.Errorf("without a system prompt, messages = %v", rec.Chat.Messages)
	}
}

func TestCompletionFields(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Respond: func(r benchtest.ChatRequest) string { return "I can't help with that, but here is why it matters." },
	})
	m := newModel(t, s, nil)
	c, err := m.Generate(context.Background(), userRequest("How do I pick a lock?"))
	if err != nil {
		t.Fatalf("a refusal must be a completion, got %v", err)
	}
	pt, ct := s.Usage()
	if c.Text != "I can't help with that, but here is why it matters." || c.FinishReason != "stop" || c.Attempts != 1 {
		t.Errorf("completion = %+v", c)
	}
	if c.PromptTokens != pt || c.CompletionTokens != ct || c.PromptTokens != 6 || c.CompletionTokens != 11 {
		t.Errorf("usage %d/%d, server reported %d/%d, want 6/11", c.PromptTokens, c.CompletionTokens, pt, ct)
	}
	if c.Latency <= 0 {
		t.Errorf("latency = %v", c.Latency)
	}

	req := userRequest("again")
	req.Params.MaxTokens = 3
	c, err = m.Generate(context.Background(), req)
	if err != nil || c.Text != "I can't help" || c.FinishReason != "length" || c.CompletionTokens != 3 {
		t.Errorf("with max_tokens 3: %+v, %v", c, err)
	}
}

func TestCompletionsEndpoint(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Respond: func(r benchtest.ChatRequest) string { return "continued text" },
	})
	m := newModel(t, s, func(c *Config) { c.Completions = true; c.Params.Temperature = ptr(0.0) })
	req := bench.Request{System: "Answer briefly.", Messages: []bench.Message{{Role: "user", Content: "Is it fair?"}}}
	c, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.LastRequest()
	if rec.Chat.Endpoint != "completions" || !strings.HasSuffix(rec.Path, "/v1/completions") {
		t.Errorf("endpoint %q, path %q", rec.Chat.Endpoint, rec.Path)
	}
	if want := "System: Answer briefly.\n\nUser: Is it fair?\n\nAssistant:"; len(rec.Chat.Prompt) != 1 || rec.Chat.Prompt[0] != want {
		t.Errorf("prompt = %q, want %q", rec.Chat.Prompt, want)
	}
	if rec.Chat.Temperature == nil || *rec.Chat.Temperature != 0 {
		t.Errorf("temperature 0 missing from the completions body %s", rec.Body)
	}
	if c.Text != "continued text" || c.FinishReason != "stop" || c.CompletionTokens != 2 {
		t.Errorf("completion = %+v", c)
	}
	if got := RenderPrompt("", []bench.Message{{Role: "user", Content: "alone"}}); got != "alone" {
		t.Errorf("a lone user message renders as %q", got)
	}
}

// TestEachFaultIsRetried checks that every transient fault kind is retried
// until the request succeeds, with one request per attempt.
func TestEachFaultIsRetried(t *testing.T) {
	for _, kind := range benchtest.TransientFaults() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
				FailFirst: 2, Kinds: []benchtest.FaultKind{kind}, SlowDelay: 10 * time.Second, RetryAfterHeader: "0",
			}})
			m := newModel(t, s, func(c *Config) { c.MaxRetries = 2; c.Timeout = 300 * time.Millisecond })
			c, err := m.Generate(context.Background(), userRequest("q"))
			if err != nil {
				t.Fatalf("after two %v faults and two retries: %v", kind, err)
			}
			if c.Attempts != 3 || c.Text != "Canned reply to: q" {
				t.Errorf("completion = %+v, want 3 attempts", c)
			}
			if s.Requests() != 3 || s.AnsweredCounts()["q"] != 1 || s.FaultCounts()[kind] != 2 {
				t.Errorf("server saw %d requests, answered %v, faults %v", s.Requests(), s.AnsweredCounts(), s.FaultCounts())
			}
		})
	}
}

// TestRetriesExhausted checks the kind, status and attempt count of the
// error when every attempt fails.
func TestRetriesExhausted(t *testing.T) {
	cases := []struct {
		kind   benchtest.FaultKind
		want   bench.ErrorKind
		status int
	}{
		{benchtest.FaultServerError, bench.Transient, 500},
		{benchtest.FaultUnavailable, bench.Transient, 503},
		{benchtest.FaultRateLimit, bench.RateLimited, 429},
		{benchtest.FaultTruncated, bench.Transient, 200},
		{benchtest.FaultEmptyChoices, bench.Transient, 200},
		{benchtest.FaultDrop, bench.Transient, 0},
		{benchtest.FaultSlow, bench.Transient, 0},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
				FailFirst: 1000, Kinds: []benchtest.FaultKind{tc.kind}, SlowDelay: 10 * time.Second, RetryAfterHeader: "0",
			}})
			m := newModel(t, s, func(c *Config) { c.MaxRetries = 2; c.Timeout = 200 * time.Millisecond })
			c, err := m.Generate(context.Background(), userRequest("q"))
			var me *bench.ModelError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *bench.ModelError", err)
			}
			if me.Kind != tc.want || me.Status != tc.status {
				t.Errorf("kind %v, status %d, want %v and %d (%v)", me.Kind, me.Status, tc.want, tc.status, err)
			}
			if c.Attempts != 3 || s.Requests() != 3 {
				t.Errorf("attempts %d, server requests %d, want 3 and 3", c.Attempts, s.Requests())
			}
			if !strings.Contains(err.Error(), "3 attempts") {
				t.Errorf("error %q does not say how many attempts were made", err)
			}
		})
	}

	t.Run("no-retries", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{FailFirst: 1000, Kinds: []benchtest.FaultKind{benchtest.FaultServerError}}})
		m := newModel(t, s, func(c *Config) { c.MaxRetries = -1 })
		c, err := m.Generate(context.Background(), userRequest("q"))
		if bench.KindOf(err) != bench.Transient || c.Attempts != 1 || s.Requests() != 1 {
			t.Errorf("err %v, attempts %d, requests %d: want one attempt", err, c.Attempts, s.Requests())
		}
	})
}

func TestFatalErrorsAreNotRetried(t *testing.T) {
	t.Run("400", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{FailFirst: 1, Kinds: []benchtest.FaultKind{benchtest.FaultBadRequest}}})
		m := newModel(t, s, nil)
		c, err := m.Generate(context.Background(), userRequest("q"))
		var me *bench.ModelError
		if !errors.As(err, &me) || me.Kind != bench.Fatal || me.Status != 400 {
			t.Fatalf("err = %v, want a fatal 400", err)
		}
		if c.Attempts != 1 || s.Requests() != 1 {
			t.Errorf("a 400 was retried: %d attempts, %d requests", c.Attempts, s.Requests())
		}
		var apiErr *goopenai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 400 {
			t.Errorf("the go-openai error is not in the chain: %v", err)
		}
	})
	t.Run("404", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Models: []string{"other"}})
		m := newModel(t, s, nil)
		_, err := m.Generate(context.Background(), userRequest("q"))
		var me *bench.ModelError
		if !errors.As(err, &me) || me.Kind != bench.Fatal || me.Status != 404 || s.Requests() != 1 {
			t.Errorf("err = %v after %d requests, want one fatal 404", err, s.Requests())
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		// A closed port is transient (a server starting up): it is retried
		// until the retries run out.
		s := benchtest.NewOpenAIServer(benchtest.ServerOptions{})
		url := s.URL()
		s.Close()
		m, err := New(Config{Model: "m", BaseURL: url, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, MaxRetries: 3})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Generate(context.Background(), userRequest("q"))
		if bench.KindOf(err) != bench.Transient || c.Attempts != 4 {
			t.Errorf("err %v, attempts %d: want transient after 4 attempts", err, c.Attempts)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
		FailFirst: 1, Kinds: []benchtest.FaultKind{benchtest.FaultRateLimit}, RetryAfter: time.Second,
	}})
	// The backoff alone would wait at most 1 ms.
	m := newModel(t, s, func(c *Config) { c.BackoffMax = time.Millisecond })
	c, err := m.Generate(context.Background(), userRequest("q"))
	if err != nil {
		t.Fatal(err)
	}
	recs := s.Recorded()
	if c.Attempts != 2 || len(recs) != 2 || recs[0].Status != 429 {
		t.Fatalf("attempts %d, recorded %d", c.Attempts, len(recs))
	}
	if gap := recs[1].Received.Sub(recs[0].Received); gap < time.Second {
		t.Errorf("the retry came %v after the 429, want at least the Retry-After of 1s", gap)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After": "0"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "3600"}, MaxRetryAfter},
		{map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		{map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{map[string]string{"Retry-After": now.Add(time.Hour).Format(http.TimeFormat)}, MaxRetryAfter},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{map[string]string{}, 0},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := parseRetryAfter(h, now); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	m, err := New(Config{Model: "m", BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 70; n++ {
		ceiling := min(time.Second, 100*time.Millisecond<<min(n-1, 20))
		for range 50 {
			if d := m.backoff(n, 0); d < 0 || d >= ceiling {
				t.Fatalf("retry %d waited %v, want [0, %v)", n, d, ceiling)
			}
		}
	}
	if d := m.backoff(1, 5*time.Second); d != 5*time.Second {
		t.Errorf("a Retry-After of 5s gave %v (it may exceed BackoffMax)", d)
	}
	if d := m.backoff(1, 10*time.Minute); d != MaxRetryAfter {
		t.Errorf("a Retry-After of 10m gave %v, want the cap %v", d, MaxRetryAfter)
	}
}

func TestAPIKeyNeverLeaks(t *testing.T) {
	const secret = "sk-test-SECRET-0123456789abcdef"
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{RequireKey: "sk-the-right-one"})
	m := newModel(t, s, func(c *Config) { c.APIKey = secret })
	c, err := m.Generate(context.Background(), userRequest("q"))
	var me *bench.ModelError
	if !errors.As(err, &me) || me.Kind != bench.Fatal || me.Status != 401 {
		t.Fatalf("err = %v, want a fatal 401", err)
	}
	if c.Attempts != 1 || s.Requests() != 1 {
		t.Errorf("a 401 was retried")
	}
	if msg := err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, "[redacted]") {
		t.Errorf("error message %q: want the echoed key redacted", msg)
	}
	var apiErr *goopenai.APIError
	if errors.As(err, &apiErr) && strings.Contains(apiErr.Error(), secret) {
		t.Errorf("the wrapped go-openai error still holds the key: %q", apiErr.Error())
	}
	for _, s := range []string{m.CacheKey(), m.String(), fmt.Sprintf("%+v", me)} {
		if strings.Contains(s, secret) {
			t.Errorf("%q holds the key", s)
		}
	}

	good := newModel(t, s, func(c *Config) { c.APIKey = "sk-the-right-one" })
	if _, err := good.Generate(context.Background(), userRequest("q")); err != nil {
		t.Fatalf("with the right key: %v", err)
	}
	if rec, _ := s.LastRequest(); rec.Header.Get("Authorization") != "[present]" {
		t.Errorf("no Authorization header was sent")
	}
}

func TestRPMLimitSpacesRequests(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	const rpm, n = 1200, 8 // one request per 50 ms
	m := newModel(t, s, func(c *Config) { c.RPM = rpm })
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Generate(context.Background(), userRequest(fmt.Sprint("p", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	recs := s.Recorded()
	if len(recs) != n {
		t.Fatalf("%d requests, want %d", len(recs), n)
	}
	first, last := recs[0].Received, recs[0].Received
	for _, r := range recs {
		if r.Received.Before(first) {
			first = r.Received
		}
		if r.Received.After(last) {
			last = r.Received
		}
	}
	span := last.Sub(first)
	want := time.Duration(n-1) * time.Minute / rpm
	if span < want-15*time.Millisecond {
		t.Errorf("%d requests at %d RPM arrived within %v, want at least about %v", n, rpm, span, want)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 20 * time.Millisecond})
	m := newModel(t, s, func(c *Config) { c.Concurrency = 3 })
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Generate(context.Background(), userRequest(fmt.Sprint("p", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := s.MaxInFlight(); got > 3 || got < 2 {
		t.Errorf("the server saw %d requests in flight at once, want at most 3 (and more than 1)", got)
	}
	if s.Requests() != 24 {
		t.Errorf("%d requests, want 24", s.Requests())
	}
}

func TestTimeoutOnSlowResponse(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
		FailFirst: 1000, Kinds: []benchtest.FaultKind{benchtest.FaultSlow}, SlowDelay: 30 * time.Second,
	}})
	m := newModel(t, s, func(c *Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 1 })
	c, err := m.Generate(context.Background(), userRequest("q"))
	if bench.KindOf(err) != bench.Transient || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("err = %v, want a transient timeout", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("a per-attempt timeout reported as a cancellation: %v", err)
	}
	if c.Attempts != 2 || s.Requests() != 2 {
		t.Errorf("attempts %d, requests %d", c.Attempts, s.Requests())
	}
}

func TestCancellation(t *testing.T) {
	t.Run("during-a-request", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
			FailFirst: 1000, Kinds: []benchtest.FaultKind{benchtest.FaultSlow}, SlowDelay: 30 * time.Second,
		}})
		m := newModel(t, s, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := m.Generate(ctx, userRequest("q"))
		if !errors.Is(err, context.Canceled) || bench.KindOf(err) != bench.Fatal {
			t.Errorf("err = %v, want a fatal error that is context.Canceled", err)
		}
		if s.Requests() != 1 {
			t.Errorf("%d requests after a cancellation, want 1", s.Requests())
		}
	})
	t.Run("before-the-call", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
		m := newModel(t, s, func(c *Config) { c.Concurrency = 1; c.RPM = 1 })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c, err := m.Generate(ctx, userRequest("q"))
		if !errors.Is(err, context.Canceled) || c.Attempts != 0 || s.Requests() != 0 {
			t.Errorf("err %v, attempts %d, requests %d: want a cancellation and no call", err, c.Attempts, s.Requests())
		}
	})
	t.Run("waiting-for-the-rate-limit", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
		m := newModel(t, s, func(c *Config) { c.RPM = 0.5 }) // one request per 2 minutes
		if _, err := m.Generate(context.Background(), userRequest("first")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c, err := m.Generate(ctx, userRequest("second"))
		if !errors.Is(err, context.DeadlineExceeded) || bench.KindOf(err) != bench.Fatal || c.Attempts != 0 || s.Requests() != 1 {
			t.Errorf("err %v, attempts %d, requests %d: want a deadline error and no second call", err, c.Attempts, s.Requests())
		}
	})
	t.Run("during-backoff", func(t *testing.T) {
		s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
			FailFirst: 1000, Kinds: []benchtest.FaultKind{benchtest.FaultServerError},
		}})
		m := newModel(t, s, func(c *Config) { c.BackoffBase = time.Minute; c.BackoffMax = time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := m.Generate(ctx, userRequest("q"))
		if !errors.Is(err, context.DeadlineExceeded) || bench.KindOf(err) != bench.Fatal {
			t.Errorf("err = %v, want a fatal context.DeadlineExceeded", err)
		}
	})
}

// TestMixedFaultsAtScale sends 500 distinct prompts at concurrency 32 to a
// server that fails 30% of attempts in every transient way, and checks that
// each request ends answered or with an error, and that no request is lost
// or duplicated.
func TestMixedFaultsAtScale(t *testing.T) {
	const n, workers = 500, 32
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Faults: benchtest.FaultPlan{Seed: 2024, Rate: 0.3, SlowDelay: 10 * time.Second},
	})
	m := newModel(t, s, func(c *Config) {
		c.Concurrency = workers
		c.MaxRetries = 4
		c.Timeout = time.Second
	})
	type result struct {
		c   bench.Completion
		err error
		got bool
	}
	results := make([]result, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				calls.Add(1)
				c, err := m.Generate(context.Background(), userRequest(fmt.Sprintf("prompt %03d", i)))
				results[i] = result{c: c, err: err, got: true}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	prompts, answered := s.PromptCounts(), s.AnsweredCounts()
	var ok, failed, attempts int
	for i, r := range results {
		p := fmt.Sprintf("prompt %03d", i)
		if !r.got {
			t.Fatalf("request %d was lost", i)
		}
		attempts += r.c.Attempts
		if prompts[p] != r.c.Attempts {
			t.Errorf("%s: the server saw %d requests, the client made %d attempts", p, prompts[p], r.c.Attempts)
		}
		if r.err != nil {
			failed++
			if k := bench.KindOf(r.err); k == bench.Fatal || answered[p] != 0 || r.c.Attempts != 5 {
				t.Errorf("%s: %v error after %d attempts, %d answers: %v", p, k, r.c.Attempts, answered[p], r.err)
			}
			continue
		}
		ok++
		if r.c.Text != "Canned reply to: "+p || answered[p] != 1 {
			t.Errorf("%s: text %q, answered %d times", p, r.c.Text, answered[p])
		}
	}
	if calls.Load() != n || ok+failed != n || len(prompts) != n {
		t.Errorf("calls %d, ok %d, failed %d, distinct prompts %d", calls.Load(), ok, failed, len(prompts))
	}
	if attempts != s.Requests() {
		t.Errorf("the client made %d attempts, the server saw %d requests", attempts, s.Requests())
	}
	// The server's in-flight count is not checked here: a slow response
	// stays in flight on the server for a moment after its client gave up
	// and freed its slot. TestConcurrencyLimit checks the limit.
	faults := s.FaultCounts()
	for _, k := range benchtest.TransientFaults() {
		if faults[k] == 0 {
			t.Errorf("no %v fault in the run: %v", k, faults)
		}
	}
	t.Logf("%d answered, %d failed, %d attempts; faults %v", ok, failed, attempts, faults)
}

func TestParseSpec(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://env.example/v1"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		spec        string
		env         func(string) string
		model, base string
		key         string
	}{
		{"openai:gpt-4o", getenv, "gpt-4o", "http://env.example/v1", "sk-env"},
		{"openai:gpt-4o", nil, "gpt-4o", DefaultBaseURL, ""},
		{"openai:llama3@http://127.0.0.1:8000/v1/", getenv, "llama3", "http://127.0.0.1:8000/v1", "sk-env"},
		{"openai:org@model@https://host/v1", nil, "org@model", "https://host/v1", ""},
		{"openai:@cf/meta/llama@https://host/v1", nil, "@cf/meta/llama", "https://host/v1", ""},
		{"openai:m@HTTPS://host/v1", nil, "m", "HTTPS://host/v1", ""},
		{"openai:m@http://user:pw@host:1/v1", nil, "m", "http://user:pw@host:1/v1", ""},
	}
	for _, tc := range cases {
		cfg, err := ParseSpec(tc.spec, tc.env)
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if cfg.Model != tc.model || cfg.BaseURL != tc.base || cfg.APIKey != tc.key {
			t.Errorf("%s: got %q %q %q, want %q %q %q", tc.spec, cfg.Model, cfg.BaseURL, cfg.APIKey, tc.model, tc.base, tc.key)
		}
	}
	for _, spec := range []string{"gpt-4o", "sim:baseline", "openai:", "openai:@http://host/v1", "openai: "} {
		_, err := ParseSpec(spec, getenv)
		var ie *bench.InputError
		if !errors.As(err, &ie) || ie.File != "--model" {
			t.Errorf("%q: err = %v, want a *bench.InputError", spec, err)
		}
	}
	_, err := ParseSpec("openai:m", func(k string) string {
		return map[string]string{"OPENAI_BASE_URL": "ftp://x"}[k]
	})
	var ie *bench.InputError
	if !errors.As(err, &ie) || ie.File != "OPENAI_BASE_URL" || !strings.Contains(ie.Msg, "ftp://x") {
		t.Errorf("a bad OPENAI_BASE_URL gave %v", err)
	}
}

// An '@' part that is not an http(s) URL is refused: it must never become
// part of a model name sent to the default endpoint (or OPENAI_BASE_URL).
// The message names the spec, what is wanted, and no credential.
func TestParseSpecRefusesAnAtPartThatIsNoURL(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://env.example/v1"}[k]
	}
	for _, spec := range []string{
		"openai:llama@localhost:8000/v1",
		"openai:team@name",
		"openai:m@ftp://host/v1",
		"openai:m@//host/v1",
		"openai:m@user:hunter2-secret@host:8000/v1",
		"openai:m@host/v1?api_key=hunter2-secret",
	} {
		_, err := ParseSpec(spec, env)
		var ie *bench.InputError
		if !errors.As(err, &ie) || ie.File != "--model" || ie.Field != "base_url" {
			t.Errorf("%q: err = %v, want an input error about the base URL", spec, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "openai:m") && !strings.Contains(msg, spec) {
			t.Errorf("%q: the message does not name the spec: %s", spec, msg)
		}
		if !strings.Contains(msg, "http://") || strings.Contains(msg, "hunter2") {
			t.Errorf("%q: want what is wanted (an http:// URL) and no secret: %s", spec, msg)
		}
	}
}

// Credentials in the base URL go on the wire (query parameters and basic
// authentication) but into no name, cache key or error message.
func TestBaseURLCredentialsReachTheWireOnly(t *testing.T) {
	const pass, qsecret = "pw-SECRET-4242", "q-SECRET-777777"
	var mu sync.Mutex
	var gotQuery, gotUser, gotPass []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		u, p, _ := r.BasicAuth()
		gotQuery, gotUser, gotPass = append(gotQuery, r.URL.Query().Get("api_key")), append(gotUser, u), append(gotPass, p)
		mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "chat") {
			// A careless server echoes the credentials.
			fmt.Fprintf(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"you sent %s and %s"},"finish_reason":"stop"}]}`, pass, qsecret)
			return
		}
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"error":{"message":"bad key %s at %s","type":"server_error"}}`, qsecret, r.URL.String())
	}))
	defer srv.Close()
	base := strings.Replace(srv.URL, "http://", "http://alice:"+pass+"@", 1) + "/v1?api_key=" + qsecret
	for _, completions := range []bool{false, true} {
		m, err := New(Config{Model: "m", BaseURL: base, Completions: completions, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Generate(context.Background(), userRequest("q"))
		var texts []string
		if completions {
			if err == nil {
				t.Fatal("completions: want the 500")
			}
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		} else {
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, c.Text)
		}
		texts = append(texts, m.String(), m.CacheKey())
		for _, s := range texts {
			if strings.Contains(s, pass) || strings.Contains(s, qsecret) {
				t.Errorf("completions=%v: %q holds a credential", completions, s)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range gotQuery {
		if gotQuery[i] != qsecret || gotUser[i] != "alice" || gotPass[i] != pass {
			t.Errorf("request %d: api_key=%q user=%q password=%q; want the URL's credentials on the wire", i, gotQuery[i], gotUser[i], gotPass[i])
		}
	}
	if len(gotQuery) != 2 {
		t.Errorf("%d requests, want 2", len(gotQuery))
	}
}

// Connection errors quote the URL; it must not hold the credentials.
func TestBaseURLCredentialsStayOutOfConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	m, err := New(Config{Model: "m", BaseURL: "http://bob:pw-SECRET-99@" + addr + "/v1?token=t-SECRET-99&sig=s-SECRET-99", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), userRequest("q"))
	if err == nil {
		t.Fatal("want a connection error")
	}
	if msg := err.Error(); strings.Contains(msg, "SECRET") || strings.Contains(msg, "bob") {
		t.Errorf("error message holds a credential: %s", msg)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Model: "m", BaseURL: "localhost:8000"},
		{Model: "m", Timeout: -time.Second},
		{Model: "m", Concurrency: -1},
		{Model: "m", RPM: -5},
	} {
		var ie *bench.InputError
		if _, err := New(cfg); !errors.As(err, &ie) {
			t.Errorf("New(%+v) = %v, want a *bench.InputError", cfg, err)
		}
	}
	m, err := New(Config{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config()
	if c.BaseURL != DefaultBaseURL || c.Timeout != DefaultTimeout || c.MaxRetries != DefaultMaxRetries ||
		c.BackoffBase != DefaultBackoffBase || c.BackoffMax != DefaultBackoffMax {
		t.Errorf("defaults = %+v", c)
	}
}

func TestCacheKey(t *testing.T) {
	key := func(cfg Config) string {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m.CacheKey()
	}
	base := Config{Model: "m", BaseURL: "http://h/v1", APIKey: "sk-one", Params: bench.GenParams{Temperature: ptr(0.0)}}
	k := key(base)
	if strings.Contains(k, "sk-one") {
		t.Errorf("cache key %q holds the key", k)
	}
	same := base
	same.APIKey, same.BaseURL, same.Timeout, same.Concurrency = "sk-two", "http://h/v1/", time.Second, 4
	if key(same) != k {
		t.Errorf("the key, a trailing slash, the timeout or the concurrency changed the cache key")
	}
	for name, mutate := range map[string]func(*Config){
		"model":       func(c *Config) { c.Model = "m2" },
		"base URL":    func(c *Config) { c.BaseURL = "http://other/v1" },
		"temperature": func(c *Config) { c.Params.Temperature = ptr(0.5) },
		"no temp":     func(c *Config) { c.Params.Temperature = nil },
		"seed":        func(c *Config) { c.Params.Seed = ptr(1) },
		"endpoint":    func(c *Config) { c.Completions = true },
	} {
		c := base
		mutate(&c)
		if key(c) == k {
			t.Errorf("changing the %s left the cache key %q", name, k)
		}
	}
}

func TestPatchBody(t *testing.T) {
	cases := []struct{ body, patch, want string }{
		{`{"model":"m"}`, `"temperature":0`, `{"temperature":0,"model":"m"}`},
		{`{}`, `"temperature":0`, `{"temperature":0}`},
		{` { }`, `"top_p":0`, ` {"top_p":0 }`},
		{`[1]`, `"temperature":0`, `[1]`},
	}
	for _, tc := range cases {
		if got := string(patchBody([]byte(tc.body), []byte(tc.patch))); got != tc.want {
			t.Errorf("patchBody(%s, %s) = %s, want %s", tc.body, tc.patch, got, tc.want)
		}
	}
}

// countingTransport counts the requests of a caller's own HTTP client.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestCallersHTTPClient(t *testing.T) {
	s := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	ct := &countingTransport{}
	hc := &http.Client{Transport: ct}
	m := newModel(t, s, func(c *Config) { c.HTTPClient = hc; c.Params.Temperature = ptr(0.0) })
	if _, err := m.Generate(context.Background(), userRequest("q")); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() != 1 || hc.Transport != ct {
		t.Errorf("the caller's client sent %d requests or was changed", ct.n.Load())
	}
	if rec, _ := s.LastRequest(); rec.Chat.Temperature == nil || *rec.Chat.Temperature != 0 {
		t.Errorf("temperature 0 lost through the caller's client: %s", rec.Body)
	}
}
