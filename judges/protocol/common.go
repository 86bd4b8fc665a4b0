package protocol

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/llm"
)

// Params are the sampling parameters a protocol judge sends; nil fields are
// left to the protocol's defaults.
type Params struct {
	// Temperature overrides the protocol's temperature (0 in every protocol
	// here).
	Temperature *float64
	// Seed, if set, is sent; the published protocols send none.
	Seed *int
	// MaxTokens overrides the protocol's bound on the reply (0: the
	// protocol's own, which is none except HarmBench's 1).
	MaxTokens int
}

func (p Params) gen(maxTokens int) bench.GenParams {
	t := 0.0
	if p.Temperature != nil {
		t = *p.Temperature
	}
	g := bench.GenParams{Temperature: &t, Seed: p.Seed, MaxTokens: maxTokens}
	if p.MaxTokens != 0 {
		g.MaxTokens = p.MaxTokens
	}
	return g
}

// baseRequest is a judge call for trial t: its identity (sample, epoch, run
// seed) keys the response cache like the trial's own.
func baseRequest(t bench.Trial, p bench.GenParams) bench.Request {
	return bench.Request{Params: p, SampleID: t.SampleID, Sample: t.Sample, Epoch: t.Epoch, Seed: t.Request.Seed}
}

// fill substitutes {name} placeholders the way Python's str.format does
// for these templates (which hold no other braces): each placeholder once,
// left to right, values inserted verbatim and never scanned again.
func fill(template string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(template)
}

// version is name@sha256 prefix of the texts that make the protocol, so a
// changed prompt changes every score's version.
func version(name string, texts ...string) string {
	h := sha256.New()
	for _, t := range texts {
		fmt.Fprintf(h, "%s\x00", t)
	}
	return name + "@" + hex.EncodeToString(h.Sum(nil))[:12]
}

// generate asks m. A context error is returned as is (the trial is not
// recorded); any other error is returned as errModel, to be recorded in
// the score.
func generate(ctx context.Context, m bench.Model, req bench.Request) (string, error) {
	c, err := m.Generate(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &modelError{err}
	}
	return c.Text, nil
}

type modelError struct{ err error }

func (e *modelError) Error() string { return "judge model: " + e.err.Error() }
func (e *modelError) Unwrap() error { return e.err }

// requestText is the prompt the model under test was sent: the content of
// its single message, or its conversation as text.
func requestText(t bench.Trial) string { return llm.PromptText(t) }

// Endpoint returns the endpoint m sends requests to ("chat" or
// "completions"), looking through wrappers such as the response cache; ""
// when m does not say (simulated and replayed models).
func Endpoint(m bench.Model) string {
	for m != nil {
		if e, ok := m.(interface{ Endpoint() string }); ok {
			return e.Endpoint()
		}
		u, ok := m.(interface{ Unwrap() bench.Model })
		if !ok {
			return ""
		}
		m = u.Unwrap()
	}
	return ""
}
