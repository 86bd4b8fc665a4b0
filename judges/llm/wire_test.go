package llm_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
)

// newWireModel returns the judge model: the openai provider pointed at
// benchtest's loopback server, so the judges are tested over a real HTTP
// round trip.
func newWireModel(t testing.TB, srv *benchtest.OpenAIServer) bench.Model {
	t.Helper()
	m, err := openai.New(openai.Config{Model: "judge", BaseURL: srv.URL(), APIKey: "test-key", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
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
