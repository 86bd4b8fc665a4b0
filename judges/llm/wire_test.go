package llm_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// wireModel is a bench.Model that speaks to an OpenAI-compatible server
// through go-openai, without retries: the judges are tested over a real
// HTTP round trip to benchtest's loopback server.
type wireModel struct {
	c     *openai.Client
	model string
}

func newWireModel(srv *benchtest.OpenAIServer) bench.Model {
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = srv.URL()
	return wireModel{c: openai.NewClientWithConfig(cfg), model: "judge"}
}

func (w wireModel) Generate(ctx context.Context, req bench.Request) (bench.Completion, error) {
	var msgs []openai.ChatCompletionMessage
	if req.System != "" {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	r := openai.ChatCompletionRequest{Model: w.model, Messages: msgs, Seed: req.Params.Seed, MaxTokens: req.Params.MaxTokens}
	if req.Params.Temperature != nil {
		r.Temperature = float32(*req.Params.Temperature)
	}
	resp, err := w.c.CreateChatCompletion(ctx, r)
	if err != nil {
		return bench.Completion{}, err
	}
	return bench.Completion{Text: resp.Choices[0].Message.Content, FinishReason: string(resp.Choices[0].FinishReason)}, nil
}

var idRE = regexp.MustCompile(`\{"id": "([0-9a-f]{16})"`)

// callID is the boundary id as an honest judge learns it: from the format
// line of the system prompt, which holds no untrusted text.
func callID(t testing.TB, req benchtest.ChatRequest) string {
	m := idRE.FindStringSubmatch(req.System())
	if m == nil {
		t.Errorf("no format line with an id in the system prompt:\n%s", req.System())
		return ""
	}
	return m[1]
}

// fenced returns the text between the real markers of tag, as an honest
// judge reads it, and whether both markers were found exactly once.
func fenced(req benchtest.ChatRequest, id, tag string) (string, bool) {
	user := req.Messages[1].Content // the first user message (after the system)
	open := "<<<" + tag + "-" + id + ">>>\n"
	closing := "\n<<<END-" + tag + "-" + id + ">>>"
	if strings.Count(user, open) != 1 || strings.Count(user, closing) != 1 {
		return "", false
	}
	i := strings.Index(user, open) + len(open)
	j := strings.Index(user, closing)
	if j < i {
		return "", false
	}
	return user[i:j], true
}

// isRetry reports whether req is the reminder after an unreadable reply.
func isRetry(req benchtest.ChatRequest) bool {
	return len(req.Messages) == 4 && strings.Contains(req.UserPrompt(), "could not be read")
}
