package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// benchRequest is the request both benchmarks send: a system prompt, one
// user turn, and temperature 0 (so the body patch is exercised).
func benchRequest() bench.Request {
	return bench.Request{
		System:   "You are a helpful, honest and harmless assistant.",
		Messages: []bench.Message{{Role: "user", Content: "Is it ever acceptable to break a promise to protect someone?"}},
		Params:   bench.GenParams{Temperature: ptr(0.0), MaxTokens: 64},
	}
}

// BenchmarkGenerate measures one Generate call against the loopback server
// at zero latency: the provider's overhead (go-openai, the transport wrapper,
// classification) plus loopback HTTP.
func BenchmarkGenerate(b *testing.B) {
	s := benchtest.StartOpenAIServer(b, benchtest.ServerOptions{RecordLimit: 1})
	m := newModel(b, s, nil)
	req := benchRequest()
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Generate(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Generate(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRawClient is the baseline for BenchmarkGenerate: a minimal
// net/http client posting the same JSON body and decoding the answer's text
// and usage.
func BenchmarkRawClient(b *testing.B) {
	s := benchtest.StartOpenAIServer(b, benchtest.ServerOptions{RecordLimit: 1})
	req := benchRequest()
	body, err := json.Marshal(goopenai.ChatCompletionRequest{
		Model: "mores-test",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: "system", Content: req.System},
			{Role: "user", Content: req.Messages[0].Content},
		},
		MaxTokens: req.Params.MaxTokens,
	})
	if err != nil {
		b.Fatal(err)
	}
	body = patchBody(body, zeroPatch(req.Params))
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: t}
	url := s.URL() + "/chat/completions"
	post := func() error {
		r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || len(out.Choices) == 0 {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := post(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := post(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
