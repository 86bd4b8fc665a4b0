// Package attack holds the adversarial transforms that Mores applies to a
// sample's user prompt before it is sent to a model.
//
// A suite file (or the --attack flag) names attacks by spec. Resolve turns a
// spec into one or more Attack values:
//
//	none                  the prompt unchanged (the baseline)
//	role-play             a fictional-character framing
//	prefix-injection      asks for an answer that begins "Sure, here is"
//	refusal-suppression   rules forbidding apologies and disclaimers (Wei et al., 2023)
//	base64                the request base64-encoded, to be decoded and answered in plain text
//	leetspeak             the request written in leetspeak
//	payload-splitting     the request split into string variables a, b (and c), answer a+b
//	few-shot[:K]          K fabricated, harmless compliant demonstrations before the request
//	many-shot[:K]         the same with many demonstrations (32 by default)
//	template:PATH         one attack per jailbreak template in a GPTFuzz-style file
//
// A template file expands to one attack per template, named
// "template:<file name without its extension>#<template id>", the id being
// the file's id column or the template's 1-based position: GPTFuzz's
// GPTFuzzer.csv gives template:GPTFuzzer#0 … template:GPTFuzzer#76.
//
// Attacks compose with "+": "base64+role-play" first encodes the request and
// then wraps the result in the role-play framing; the attack keeps the name as
// written. A composition that contains a template file expands to one attack
// per template.
//
// Every Attack is deterministic: an attack that makes random choices (which
// demonstrations to show, where to split a payload) seeds them from its own
// name and the sample's ID, so the same sample always gets the same prompt,
// in every run, shard and resume.
//
// Transform never changes its argument: it returns a copy whose user prompt
// is rewritten (Input, the content of the last user message, and
// Fields["input"]), with Fields and Messages deep-copied.
package attack

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// Attack rewrites the user prompt of a sample.
type Attack interface {
	// Name identifies the attack in plans, result files and reports
	// (for example "base64+role-play" or "template:GPTFuzzer#12").
	Name() string
	// Transform returns a copy of s whose user prompt is attacked. It does
	// not modify s and is safe for concurrent use.
	Transform(s bench.Sample) (bench.Sample, error)
}

// rewriter rewrites one prompt; rng is seeded from the step's name and the
// sample's ID.
type rewriter func(prompt string, rng *rand.Rand) string

// step is one element of a composition: a named rewrite.
type step struct {
	name    string
	rewrite rewriter
	// random reports whether rewrite uses its rng (the others skip seeding).
	random bool
}

// chain is the Attack that Resolve returns: one or more steps applied left
// to right.
type chain struct {
	name  string
	steps []step
}

// Name returns the attack's name as it was written in the spec.
func (c *chain) Name() string { return c.name }

// Transform returns a copy of s whose user prompt has been rewritten by each
// step of the attack in turn.
func (c *chain) Transform(s bench.Sample) (bench.Sample, error) {
	out := copySample(s)
	if c.isIdentity() {
		return out, nil
	}
	msgIdx := lastUser(out.Messages)
	prompt := out.Input
	if msgIdx >= 0 {
		prompt = out.Messages[msgIdx].Content
	}
	if prompt == "" {
		return out, fmt.Errorf("attack %s: sample %q has no user prompt to attack", c.name, s.ID)
	}
	for _, st := range c.steps {
		if st.rewrite == nil {
			continue
		}
		var rng *rand.Rand
		if st.random {
			rng = seeded(st.name, s.ID)
		}
		prompt = st.rewrite(prompt, rng)
	}
	wroteInput := false
	if msgIdx >= 0 {
		out.Messages[msgIdx].Content = prompt
	}
	if out.Input != "" || msgIdx < 0 {
		out.Input = prompt
		wroteInput = true
	}
	if _, ok := out.Fields["input"]; ok || wroteInput {
		if out.Fields == nil {
			out.Fields = map[string]string{}
		}
		out.Fields["input"] = prompt
	}
	return out, nil
}

// isIdentity reports whether every step is `none`.
func (c *chain) isIdentity() bool {
	for _, st := range c.steps {
		if st.rewrite != nil {
			return false
		}
	}
	return true
}

// lastUser returns the index of the last message whose role is "user", or -1.
func lastUser(ms []bench.Message) int {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			return i
		}
	}
	return -1
}

// copySample returns a deep copy of s: its slices and map are new.
func copySample(s bench.Sample) bench.Sample {
	out := s
	if s.Messages != nil {
		out.Messages = append([]bench.Message(nil), s.Messages...)
	}
	if s.Choices != nil {
		out.Choices = append([]string(nil), s.Choices...)
	}
	if s.Fields != nil {
		out.Fields = make(map[string]string, len(s.Fields))
		for k, v := range s.Fields {
			out.Fields[k] = v
		}
	}
	return out
}

// seeded returns a random source determined by an attack name and a sample
// ID, so that an attack's choices are the same for a sample in every run.
func seeded(name, sampleID string) *rand.Rand {
	h1 := fnv.New64a()
	h1.Write([]byte(name))
	h1.Write([]byte{0})
	h1.Write([]byte(sampleID))
	h2 := fnv.New64()
	h2.Write([]byte(sampleID))
	h2.Write([]byte{0})
	h2.Write([]byte(name))
	return rand.New(rand.NewPCG(h1.Sum64(), h2.Sum64()))
}

// joinNames joins step names with "+", as a composition is written.
func joinNames(steps []step) string {
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.name
	}
	return strings.Join(names, "+")
}
