package openai

import (
	"context"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// A server that echoes the API key in its answer does not get the key into
// the completion (and so into the journal, the Parquet files or the cache).
func TestKeyEchoedInAnswerIsRedacted(t *testing.T) {
	const key = "sk-echo-SECRET-42"
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		RequireKey: key,
		Respond:    func(benchtest.ChatRequest) string { return "your key is " + key + ", keep it safe" },
	})
	m, err := New(Config{Model: "m", BaseURL: srv.URL(), APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Generate(context.Background(), bench.Request{Messages: []bench.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Text, key) || !strings.Contains(c.Text, "[redacted]") {
		t.Errorf("completion %q", c.Text)
	}
}

// The key echoed in any string of the answer, the finish reason included,
// is redacted.
func TestKeyEchoedInFinishReasonIsRedacted(t *testing.T) {
	const key = "sk-echo-SECRET-43"
	m := rawServer(t, 200, `{"choices":[{"message":{"content":"k `+key+`"},"finish_reason":"fr-Bearer `+key+`"}]}`)
	m.cfg.APIKey = key
	c, err := m.Generate(context.Background(), bench.Request{Messages: []bench.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Text+c.FinishReason, key) {
		t.Errorf("completion %+v", c)
	}
}
