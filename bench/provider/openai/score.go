package openai

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
)

// errNoLogprobs means that a scoring answer held no log-probabilities for
// the continuation.
var errNoLogprobs = errors.New("the server returned no log-probabilities for the continuation (it must support echo with logprobs on /completions, as vLLM and the legacy OpenAI completions models do)")

// ScoreText splits a scoring request (bench.GenParams.ScoreContinuation)
// into the context, rendered by the model's prompt format from the system
// prompt and every message but the last, and the continuation, the last
// message's content. When the context ends in a non-space character and the
// continuation starts with one, a space is put before the continuation (as
// lm-evaluation-harness's target delimiter), and counts as part of it.
func (m *Model) ScoreText(req bench.Request) (context, continuation string, err error) {
	n := len(req.Messages)
	if n < 2 || req.Messages[n-1].Role != "assistant" {
		return "", "", errors.New("a scoring request must end with an assistant message, the continuation to score, after at least one other message")
	}
	context, err = m.format.Render(req.System, req.Messages[:n-1])
	if err != nil {
		return "", "", err
	}
	continuation = req.Messages[n-1].Content
	if continuation == "" {
		return "", "", errors.New("the continuation to score is empty")
	}
	last, _ := utf8.DecodeLastRuneInString(context)
	first, _ := utf8.DecodeRuneInString(continuation)
	if context != "" && !unicode.IsSpace(last) && !unicode.IsSpace(first) {
		continuation = " " + continuation
	}
	return context, continuation, nil
}

// scoreCall returns the call that scores the last message of req as a
// continuation of the rest: one completions request with the context and
// the continuation as the prompt, echo true, logprobs 1 and max_tokens 1
// (vLLM rejects 0 in some versions; the one generated token lies past the
// prompt and is ignored). The log-probabilities of the echoed tokens that
// overlap the continuation's characters (by the answer's text_offset,
// counted in Unicode code points as the servers count them) are summed into
// Completion.Logprob; a token that straddles the boundary counts as part of
// the continuation. Log-probabilities arrive as float32 (go-openai's type),
// so sums are exact to about 1e-6 relative.
func (m *Model) scoreCall(req bench.Request, p bench.GenParams) (callFunc, error) {
	ctxText, cont, err := m.ScoreText(req)
	if err != nil {
		return nil, err
	}
	start := utf8.RuneCountInString(ctxText)
	end := start + utf8.RuneCountInString(cont)
	cr := goopenai.CompletionRequest{Model: m.cfg.Model, Prompt: ctxText + cont, Echo: true, LogProbs: 1, MaxTokens: 1, Seed: p.Seed}
	if p.Temperature != nil {
		cr.Temperature = float32(*p.Temperature)
	}
	return func(ctx context.Context) (bench.Completion, error) {
		resp, err := m.client.CreateCompletion(ctx, cr)
		if err != nil {
			return bench.Completion{}, err
		}
		if len(resp.Choices) == 0 {
			return bench.Completion{}, errNoChoices
		}
		lp := resp.Choices[0].LogProbs
		sum, n, err := sumContinuation(lp, start, end)
		if err != nil {
			return bench.Completion{}, &bench.ModelError{Kind: bench.Fatal, Err: err}
		}
		return bench.Completion{
			Text:          req.Messages[len(req.Messages)-1].Content,
			FinishReason:  "score",
			PromptTokens:  int64(resp.Usage.PromptTokens),
			Logprob:       &sum,
			LogprobTokens: n,
		}, nil
	}, nil
}

// sumContinuation sums the log-probabilities of the tokens that overlap the
// characters [start, end) of the echoed text. When the answer has no
// text_offset, offsets are the running lengths of the tokens.
func sumContinuation(lp goopenai.LogprobResult, start, end int) (float64, int, error) {
	if len(lp.Tokens) == 0 || len(lp.TokenLogprobs) != len(lp.Tokens) {
		return 0, 0, errNoLogprobs
	}
	offsets := lp.TextOffset
	if len(offsets) != len(lp.Tokens) {
		offsets = make([]int, len(lp.Tokens))
		off := 0
		for i, t := range lp.Tokens {
			offsets[i] = off
			off += utf8.RuneCountInString(t)
		}
	}
	var sum float64
	n := 0
	for i, t := range lp.Tokens {
		from := offsets[i]
		to := from + utf8.RuneCountInString(t)
		if to > start && from < end {
			sum += float64(lp.TokenLogprobs[i])
			n++
		}
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("%w: no echoed token covers characters %d to %d", errNoLogprobs, start, end)
	}
	return sum, n, nil
}
