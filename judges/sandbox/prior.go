package sandbox

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// PriorItem is one question → answer pair of prior memory, with the label
// of the agents that may remember it ("good" or "bad").
type PriorItem struct {
	Question, Answer, Label string
}

// builtinPrior is a sample of Anthropic's HH-RLHF (MIT, Copyright (c) 2022
// Anthropic; github.com/anthropics/hh-rlhf, harmless-base/test.jsonl.gz at
// commit 354e5c3cb8960630860dd5774a6ac2a58313bf4d): 120 one-turn
// conversations, the chosen answer labelled good and the rejected one bad.
// genprior.go wrote it from ../shared/datasets/hh-rlhf and says how it
// chose them.
//
//go:embed prior.jsonl
var builtinPrior []byte

// BuiltinPrior returns the built-in prior memory.
func BuiltinPrior() []PriorItem {
	var items []PriorItem
	dec := json.NewDecoder(bytes.NewReader(builtinPrior))
	for dec.More() {
		var r struct{ Question, Answer, Label string }
		if err := dec.Decode(&r); err != nil {
			panic("sandbox: prior.jsonl: " + err.Error())
		}
		items = append(items, PriorItem(r))
	}
	return items
}

// LoadPrior reads prior memory from a dataset file (CSV, JSON Lines, JSON,
// Parquet, optionally gzipped) with the columns question, answer and label
// (good or bad). A missing column, an empty question or answer and a label
// that is neither good nor bad are *bench.InputError naming file, line and
// column.
func LoadPrior(path string) ([]PriorItem, error) {
	var items []PriorItem
	err := datasets.ReadRows(path, datasets.Options{}, func(line int, r datasets.Row) error {
		var it PriorItem
		for _, f := range []struct {
			col string
			dst *string
		}{{"question", &it.Question}, {"answer", &it.Answer}, {"label", &it.Label}} {
			v, ok := r[f.col]
			if !ok {
				return &bench.InputError{File: path, Line: line, Field: f.col, Msg: "column missing (prior memory needs question, answer and label)"}
			}
			*f.dst = datasets.Text(v)
			if strings.TrimSpace(*f.dst) == "" {
				return &bench.InputError{File: path, Line: line, Field: f.col, Msg: "empty"}
			}
		}
		if it.Label != "good" && it.Label != "bad" {
			return &bench.InputError{File: path, Line: line, Field: "label", Msg: fmt.Sprintf("%q: want good or bad", it.Label)}
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, &bench.InputError{File: path, Msg: "no rows"}
	}
	return items, nil
}

// PriorPerAgent is n_total of sample_init_data: how many question → answer
// pairs an agent starts with.
const PriorPerAgent = 50

// SamplePrior is sample_init_data: of the items with the agent's label, 2n
// drawn at random (all of them, in random order, when there are no more
// than 2n; the released code asserts there are more), each answer cut to
// its first turn (text before "Friend:", after "You:"), kept until n
// distinct questions are held; a later item with a question already held
// replaces its answer (a dict update).
func SamplePrior(items []PriorItem, label string, n int, r *rand.Rand) []PriorItem {
	var pool []PriorItem
	for _, it := range items {
		if it.Label == label {
			pool = append(pool, it)
		}
	}
	perm := r.Perm(len(pool))
	if len(perm) > 2*n {
		perm = perm[:2*n]
	}
	var out []PriorItem
	at := map[string]int{}
	for _, i := range perm {
		it := pool[i]
		a := it.Answer
		if j := strings.Index(a, "Friend:"); j >= 0 {
			a = strings.TrimSpace(a[:j])
		}
		if j := strings.Index(a, "You:"); j >= 0 {
			a = strings.TrimSpace(a[j+4:])
		}
		it.Answer = a
		if k, ok := at[it.Question]; ok {
			out[k] = it
		} else {
			at[it.Question] = len(out)
			out = append(out, it)
		}
		if len(out) == n {
			break
		}
	}
	return out
}
