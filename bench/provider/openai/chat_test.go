package openai

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
)

// rawServer answers every chat request with the given status and body.
func rawServer(t *testing.T, status int, body string) *Model {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	m, err := New(Config{Model: "m", BaseURL: srv.URL + "/v1", APIKey: "sk-chat-test-key", Timeout: 5 * time.Second,
		MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChatAnswersInEveryShapeServersSend(t *testing.T) {
	for _, tc := range []struct{ name, body, text, finish string }{
		{"string content", `{"choices":[{"message":{"role":"assistant","content":"plain"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`, "plain", "stop"},
		{"content parts", `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"one "},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"two"}]},"finish_reason":"stop"}]}`, "one two", "stop"},
		{"null content with a refusal", `{"choices":[{"message":{"role":"assistant","content":null,"refusal":"I won't."},"finish_reason":"stop"}]}`, "I won't.", "stop"},
		{"unknown members", `{"id":"x","object":"chat.completion","system_fingerprint":null,"choices":[{"index":0,"logprobs":null,"message":{"role":"assistant","content":"ok","tool_calls":[]},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`, "ok", "length"},
		{"escapes", `{"choices":[{"message":{"content":"\u003cb\u003e \"q\" \ud83d\ude00 \\"},"finish_reason":"stop"}]}`, "<b> \"q\" 😀 \\", "stop"},
		{"usage as strings", `{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":"5","completion_tokens":2.0}}`, "ok", "stop"},
		{"usage as nonsense", `{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":{"a":1},"completion_tokens":[1]}}`, "ok", "stop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rawServer(t, 200, tc.body).Generate(context.Background(), userRequest("hi"))
			if err != nil {
				t.Fatal(err)
			}
			if c.Text != tc.text || c.FinishReason != tc.finish {
				t.Errorf("got %q (%s), want %q (%s)", c.Text, c.FinishReason, tc.text, tc.finish)
			}
		})
	}
}

func TestChatFailuresAreSortedAsGoOpenAIReportsThem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   bench.ErrorKind
		want   string
	}{
		{"an OpenAI error object", 400, `{"error":{"message":"bad model","type":"invalid_request_error","code":"model_not_found"}}`, bench.Fatal, "bad model"},
		{"a 503 with a plain text body", 503, `upstream overloaded`, bench.Transient, "503"},
		{"a key quoted back", 401, `{"error":{"message":"Incorrect API key provided: sk-chat-test-key"}}`, bench.Fatal, "[redacted]"},
		{"a truncated answer", 200, `{"choices":[{"message":{"content":"cut`, bench.Transient, "truncated"},
		{"an empty answer", 200, ``, bench.Transient, "truncated"},
		{"not JSON", 200, `<html>gateway</html>`, bench.Transient, "malformed"},
		{"no choices", 200, `{"choices":[]}`, bench.Transient, "no choices"},
		{"a null choice", 200, `{"choices":[null]}`, bench.Transient, "no choices"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rawServer(t, tc.status, tc.body).Generate(context.Background(), userRequest("hi"))
			var me *bench.ModelError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a ModelError", err)
			}
			if me.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "sk-chat-test-key") {
				t.Errorf("got %v (kind %v), want kind %v mentioning %q", err, me.Kind, tc.kind, tc.want)
			}
			if tc.status >= 400 && tc.body != "" && tc.body[0] == '{' {
				var apiErr *goopenai.APIError
				if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != tc.status {
					t.Errorf("want a go-openai APIError with status %d, got %#v", tc.status, err)
				}
			}
		})
	}
}

func TestChatRefusesAnOversizedBody(t *testing.T) {
	defer func(n int64) { maxResponseBytes = n }(maxResponseBytes)
	maxResponseBytes = 1 << 10
	body := `{"choices":[{"message":{"content":"` + strings.Repeat("a", 4<<10) + `"},"finish_reason":"stop"}]}`
	_, err := rawServer(t, 200, body).Generate(context.Background(), userRequest("hi"))
	var me *bench.ModelError
	if !errors.As(err, &me) || me.Kind != bench.Fatal || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversized body: %v", err)
	}
}

func TestChatBodyIsTheRequestGoOpenAIWouldSend(t *testing.T) {
	temp, topP, seed := 0.0, 0.25, 7
	for _, model := range []string{"llama-3", "o3-mini"} {
		m, err := New(Config{Model: model, BaseURL: "http://127.0.0.1:1/v1"})
		if err != nil {
			t.Fatal(err)
		}
		tricky := "quote \" backslash \\ <tag> & \x00 \u2028 bad \xff 🙂\nnew line"
		req := bench.Request{System: tricky, Messages: []bench.Message{{Role: "user", Content: tricky}, {Role: "assistant", Content: ""}}}
		p := bench.GenParams{Temperature: &temp, TopP: &topP, Seed: &seed, MaxTokens: 64, Stop: []string{"\n\n", "END"}}
		body, err := m.chatBody(req, p)
		if err != nil {
			t.Fatal(err)
		}
		var got goopenai.ChatCompletionRequest
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		clean := strings.ToValidUTF8(tricky, "\uFFFD")
		if got.Model != model || len(got.Messages) != 3 || got.Messages[0].Role != "system" || got.Messages[0].Content != clean ||
			got.Messages[1].Content != clean || got.Messages[2].Role != "assistant" || got.TopP != 0.25 || *got.Seed != 7 ||
			strings.Join(got.Stop, "|") != "\n\n|END" {
			t.Errorf("%s: decoded %+v", model, got)
		}
		var raw map[string]any
		json.Unmarshal(body, &raw)
		if v, ok := raw["temperature"]; !ok || v != 0.0 {
			t.Errorf("%s: temperature 0 not sent: %s", model, body)
		}
		tokens := "max_tokens"
		if model == "o3-mini" {
			tokens = "max_completion_tokens"
		}
		if raw[tokens] != 64.0 || len(raw) != 7 {
			t.Errorf("%s: want %s 64 and 7 members: %s", model, tokens, body)
		}
	}
	nan := math.NaN()
	m, _ := New(Config{Model: "m", BaseURL: "http://127.0.0.1:1/v1"})
	if _, err := m.chatBody(bench.Request{}, bench.GenParams{Temperature: &nan}); err == nil {
		t.Error("a NaN temperature was encoded")
	}
}
