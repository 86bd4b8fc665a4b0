package benchtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends body to the server's path and returns the status, headers and
// body of the answer.
func post(t *testing.T, client *http.Client, url, body string, header map[string]string) (int, http.Header, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

type chatResponse struct {
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Text         string `json:"text"`
		FinishReason string `json:"finish_reason"`
		Logprobs     *struct {
			Content []TokenLogprob `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func TestChatCompletionWireFormat(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{})
	body := `{"model":"m1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Is honesty good?"}],"temperature":0,"seed":0,"stop":"never","logprobs":true,"top_logprobs":2}`
	status, _, b, err := post(t, http.DefaultClient, s.URL()+"/chat/completions", body, nil)
	if err != nil || status != 200 {
		t.Fatalf("status %d, err %v, body %s", status, err, b)
	}
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	if r.Object != "chat.completion" || r.Model != "m1" || len(r.Choices) != 1 {
		t.Fatalf("unexpected response %s", b)
	}
	c := r.Choices[0]
	if c.Message.Role != "assistant" || c.Message.Content != "Canned reply to: Is honesty good?" || c.FinishReason != "stop" {
		t.Errorf("choice = %+v", c)
	}
	if r.Usage.PromptTokens != 5 || r.Usage.CompletionTokens != 6 || r.Usage.TotalTokens != 11 {
		t.Errorf("usage = %+v, want 5 prompt and 6 completion words", r.Usage)
	}
	if c.Logprobs == nil || len(c.Logprobs.Content) != 6 || len(c.Logprobs.Content[1].TopLogprobs) != 2 || c.Logprobs.Content[1].Token != " reply" {
		t.Errorf("logprobs = %+v", c.Logprobs)
	}

	rec, ok := s.LastRequest()
	if !ok {
		t.Fatal("no request recorded")
	}
	q := rec.Chat
	if q.Temperature == nil || *q.Temperature != 0 || q.Seed == nil || *q.Seed != 0 || q.TopP != nil {
		t.Errorf("temperature %v, seed %v, top_p %v: want 0, 0 and absent", q.Temperature, q.Seed, q.TopP)
	}
	if len(q.Stop) != 1 || q.Stop[0] != "never" || !q.Logprobs || q.TopLogprobs == nil || *q.TopLogprobs != 2 {
		t.Errorf("stop %v, logprobs %v, top_logprobs %v", q.Stop, q.Logprobs, q.TopLogprobs)
	}
	if q.System() != "Be brief." || q.UserPrompt() != "Is honesty good?" || q.Endpoint != "chat" {
		t.Errorf("system %q, prompt %q, endpoint %q", q.System(), q.UserPrompt(), q.Endpoint)
	}
	if s.Requests() != 1 || s.Answered() != 1 || s.PromptCounts()["Is honesty good?"] != 1 {
		t.Errorf("requests %d, answered %d, prompt counts %v", s.Requests(), s.Answered(), s.PromptCounts())
	}
	if p, c := s.Usage(); p != 5 || c != 6 {
		t.Errorf("server usage = %d, %d", p, c)
	}
}

func TestStopMaxTokensAndN(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{Respond: func(ChatRequest) string { return "one two three four five. six" }})
	cases := []struct {
		body, text, finish string
		choices            int
	}{
		{`{"model":"m","messages":[{"role":"user","content":"a"}],"stop":["."]}`, "one two three four five", "stop", 1},
		{`{"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":2}`, "one two", "length", 1},
		{`{"model":"m","messages":[{"role":"user","content":"a"}],"max_completion_tokens":3,"n":2}`, "one two three", "length", 2},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}`, "one two three four five. six", "stop", 1},
	}
	for _, tc := range cases {
		status, _, b, err := post(t, http.DefaultClient, s.URL()+"/chat/completions", tc.body, nil)
		if err != nil || status != 200 {
			t.Fatalf("%s: status %d, err %v, body %s", tc.body, status, err, b)
		}
		var r chatResponse
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != tc.choices || r.Choices[0].Message.Content != tc.text || r.Choices[0].FinishReason != tc.finish {
			t.Errorf("%s: got %s", tc.body, b)
		}
	}
}

func TestPlainCompletionsAndModels(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{Models: []string{"alpha", "beta"}})
	status, _, b, err := post(t, http.DefaultClient, s.URL()+"/completions", `{"model":"alpha","prompt":"Say hi","temperature":0.5,"logprobs":1}`, nil)
	if err != nil || status != 200 {
		t.Fatalf("status %d, err %v, body %s", status, err, b)
	}
	var r chatResponse
	json.Unmarshal(b, &r)
	if r.Object != "text_completion" || len(r.Choices) != 1 || r.Choices[0].Text != "Canned reply to: Say hi" {
		t.Errorf("completion = %s", b)
	}
	rec, _ := s.LastRequest()
	if rec.Chat.Endpoint != "completions" || !rec.Chat.Logprobs || *rec.Chat.TopLogprobs != 1 || *rec.Chat.Temperature != 0.5 {
		t.Errorf("decoded completions request = %+v", rec.Chat)
	}

	// Without the /v1 prefix, and an unknown model.
	status, _, b, _ = post(t, http.DefaultClient, s.RootURL()+"/chat/completions", `{"model":"gamma","messages":[{"role":"user","content":"x"}]}`, nil)
	if status != http.StatusNotFound || !strings.Contains(string(b), "model_not_found") {
		t.Errorf("unknown model: status %d, body %s", status, b)
	}

	resp, err := http.Get(s.URL() + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	if list.Object != "list" || len(list.Data) != 2 || list.Data[0].ID != "alpha" || list.Data[1].ID != "beta" {
		t.Errorf("models = %+v", list)
	}
}

func TestBadRequests(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{})
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":"x"}`,
		`{"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","messages":[]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","messages":[{"role":"wizard","content":"x"}]}`,
	} {
		status, _, b, err := post(t, http.DefaultClient, s.URL()+"/chat/completions", body, nil)
		if err != nil || status != http.StatusBadRequest || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: status %d, err %v, body %s", body, status, err, b)
		}
	}
	if s.Answered() != 0 || s.Requests() != 6 {
		t.Errorf("answered %d, requests %d", s.Answered(), s.Requests())
	}
}

func TestRequireKey(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{RequireKey: "sk-secret"})
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	status, _, b, _ := post(t, http.DefaultClient, s.URL()+"/chat/completions", body, map[string]string{"Authorization": "Bearer wrong"})
	if status != http.StatusUnauthorized || !strings.Contains(string(b), "invalid_api_key") {
		t.Errorf("wrong key: status %d, body %s", status, b)
	}
	status, _, _, _ = post(t, http.DefaultClient, s.URL()+"/chat/completions", body, map[string]string{"Authorization": "Bearer sk-secret"})
	if status != 200 {
		t.Errorf("right key: status %d", status)
	}
	rec, _ := s.LastRequest()
	if got := rec.Header.Get("Authorization"); got != "[present]" {
		t.Errorf("recorded Authorization = %q, want it redacted", got)
	}
}

func TestFaultPlanIsDeterministic(t *testing.T) {
	p := FaultPlan{Seed: 7, Rate: 0.3}
	q := FaultPlan{Seed: 8, Rate: 0.3}
	const n = 20000
	faults, differ := 0, 0
	kinds := map[FaultKind]int{}
	for i := range n {
		prompt := "prompt " + string(rune('a'+i%26))
		a := p.decide(prompt, i/26+1)
		if a != p.decide(prompt, i/26+1) {
			t.Fatal("the same seed, prompt and attempt gave two decisions")
		}
		if a != q.decide(prompt, i/26+1) {
			differ++
		}
		if a != FaultNone {
			faults++
			kinds[a]++
		}
	}
	if share := float64(faults) / n; share < 0.28 || share > 0.32 {
		t.Errorf("fault share = %.3f, want about 0.3", share)
	}
	if len(kinds) != len(TransientFaults()) || kinds[FaultBadRequest] != 0 {
		t.Errorf("kinds drawn = %v, want every transient kind", kinds)
	}
	if differ == 0 {
		t.Error("two seeds gave the same plan")
	}

	ff := FaultPlan{FailFirst: 2, Kinds: []FaultKind{FaultServerError}}
	for attempt, want := range []FaultKind{FaultServerError, FaultServerError, FaultNone, FaultNone} {
		if got := ff.decide("x", attempt+1); got != want {
			t.Errorf("FailFirst 2, attempt %d: %v, want %v", attempt+1, got, want)
		}
	}
}

// TestFaultsOnTheWire sends one request per fault kind and checks what a
// client sees.
func TestFaultsOnTheWire(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	for _, kind := range append(TransientFaults(), FaultBadRequest) {
		t.Run(kind.String(), func(t *testing.T) {
			s := StartOpenAIServer(t, ServerOptions{Faults: FaultPlan{FailFirst: 1, Kinds: []FaultKind{kind}, SlowDelay: 5 * time.Second, RetryAfter: 2500 * time.Millisecond}})
			client := &http.Client{Timeout: 200 * time.Millisecond}
			status, header, b, err := post(t, client, s.URL()+"/chat/completions", body, nil)
			switch kind {
			case FaultRateLimit:
				if status != 429 || header.Get("Retry-After") != "3" {
					t.Errorf("status %d, Retry-After %q", status, header.Get("Retry-After"))
				}
			case FaultServerError, FaultUnavailable, FaultBadRequest:
				want := map[FaultKind]int{FaultServerError: 500, FaultUnavailable: 503, FaultBadRequest: 400}[kind]
				if status != want || !json.Valid(b) {
					t.Errorf("status %d, body %s", status, b)
				}
			case FaultTruncated:
				if status != 200 || json.Valid(b) || len(b) == 0 {
					t.Errorf("status %d, body %q: want a cut JSON body", status, b)
				}
			case FaultDrop:
				if err == nil || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset")) {
					t.Errorf("err = %v, want the connection closed", err)
				}
			case FaultSlow:
				var ne interface{ Timeout() bool }
				if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("err = %v, want a client timeout", err)
				}
			case FaultEmptyChoices:
				var r chatResponse
				if status != 200 || json.Unmarshal(b, &r) != nil || len(r.Choices) != 0 {
					t.Errorf("status %d, body %s", status, b)
				}
			}
			// The second attempt of the same prompt succeeds.
			status, _, b, err = post(t, http.DefaultClient, s.URL()+"/chat/completions", body, nil)
			if err != nil || status != 200 {
				t.Fatalf("second attempt: status %d, err %v, body %s", status, err, b)
			}
			if s.PromptCounts()["hello"] != 2 || s.AnsweredCounts()["hello"] != 1 || s.FaultCounts()[kind] != 1 {
				t.Errorf("counts: prompts %v, answered %v, faults %v", s.PromptCounts(), s.AnsweredCounts(), s.FaultCounts())
			}
			recs := s.Recorded()
			if len(recs) != 2 || recs[0].Attempt != 1 || recs[1].Attempt != 2 || recs[1].Fault != FaultNone {
				t.Errorf("recorded = %+v", recs)
			}
		})
	}
}

func TestMaxInFlightAndRecordLimit(t *testing.T) {
	s := StartOpenAIServer(t, ServerOptions{Latency: 100 * time.Millisecond, RecordLimit: 3})
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"model":"m","messages":[{"role":"user","content":"p` + string(rune('0'+i)) + `"}]}`
			if status, _, b, err := post(t, http.DefaultClient, s.URL()+"/chat/completions", body, nil); err != nil || status != 200 {
				t.Errorf("status %d, err %v, body %s", status, err, b)
			}
		}()
	}
	wg.Wait()
	if got := s.MaxInFlight(); got < 2 || got > 5 {
		t.Errorf("max in flight = %d, want between 2 and 5", got)
	}
	if n := len(s.Recorded()); n != 3 || s.Requests() != 5 || len(s.PromptCounts()) != 5 {
		t.Errorf("recorded %d, requests %d, prompts %d", n, s.Requests(), len(s.PromptCounts()))
	}
}

// TestCloseEndsSlowResponses checks that Close does not wait for a slow
// response whose client is still waiting.
func TestCloseEndsSlowResponses(t *testing.T) {
	s := NewOpenAIServer(ServerOptions{Faults: FaultPlan{FailFirst: 1, Kinds: []FaultKind{FaultSlow}, SlowDelay: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions",
			bytes.NewBufferString(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for s.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close waited for the slow response")
	}
	if err := <-errc; err == nil {
		t.Error("the slow request got an answer after Close")
	}
}
