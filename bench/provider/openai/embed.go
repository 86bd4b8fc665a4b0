package openai

import (
	"context"
	"errors"
	"fmt"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
)

// errEmbeddingCount is the error of an embeddings answer whose vectors do
// not match the inputs (retried like an answer without choices).
var errEmbeddingCount = errors.New("the embeddings response does not hold one vector per input")

// Embed returns the embeddings of texts from the endpoint's /embeddings
// (OpenAI, vLLM and most OpenAI-compatible servers serve it), with the same
// concurrency limit, rate limit, per-attempt timeout and retries as
// Generate. The model name is the embedding model's.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	var out [][]float32
	call := func(ctx context.Context) (bench.Completion, error) {
		resp, err := m.client.CreateEmbeddings(ctx, goopenai.EmbeddingRequestStrings{Input: texts, Model: goopenai.EmbeddingModel(m.cfg.Model)})
		if err != nil {
			return bench.Completion{}, err
		}
		vecs := make([][]float32, len(texts))
		for _, d := range resp.Data {
			if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil || len(d.Embedding) == 0 {
				return bench.Completion{}, errEmbeddingCount
			}
			vecs[d.Index] = d.Embedding
		}
		for _, v := range vecs {
			if v == nil {
				return bench.Completion{}, errEmbeddingCount
			}
		}
		out = vecs
		return bench.Completion{PromptTokens: int64(resp.Usage.PromptTokens)}, nil
	}
	attempts := 0
	for {
		if ctx.Err() != nil {
			return nil, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: ctx.Err()}, attempts)
		}
		_, info, err := m.attempt(ctx, call, nil)
		if info != nil {
			attempts++
		}
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: ctx.Err()}, attempts)
		}
		me, ok := err.(*bench.ModelError)
		if !ok {
			if errors.Is(err, errEmbeddingCount) {
				me = &bench.ModelError{Kind: bench.Transient, Err: err}
			} else {
				me = classify(err, info, m.cfg.Timeout)
			}
		}
		if me.Kind == bench.Fatal || attempts > m.cfg.MaxRetries {
			return nil, m.fail(me, attempts)
		}
		if !sleep(ctx, m.backoff(attempts, me.RetryAfter)) {
			return nil, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: fmt.Errorf("embeddings: %w", ctx.Err())}, attempts)
		}
	}
}
