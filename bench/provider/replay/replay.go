// Package replay provides a model that answers with pre-generated outputs,
// so that recorded responses can be judged without a model call.
//
// `replay:` (no path) answers each sample with its own `response` field (the
// suite maps it). `replay:PATH` reads a file of outputs (JSONL, JSON array,
// CSV or Parquet, optionally gzipped) and matches each request by sample id
// first, then by the exact prompt text. Column names are found by common
// names (id: id, sample_id; prompt: prompt, instruction, input, question,
// goal; response: response, output, completion, answer) or given as query
// parameters: `replay:out.json?prompt=instruction&response=output&id=idx`.
package replay

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// Model answers from recorded outputs.
type Model struct {
	path     string
	byID     map[string]string
	byPrompt map[string]string
}

var (
	idCols       = []string{"sample_id", "id"}
	promptCols   = []string{"prompt", "instruction", "input", "question", "goal"}
	responseCols = []string{"response", "output", "completion", "answer"}
)

// New returns a replay model. An empty spec replays each sample's own
// response field.
func New(spec string, warn func(string, ...any)) (*Model, error) {
	if spec == "" {
		return &Model{}, nil
	}
	path, query, _ := strings.Cut(spec, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, &bench.InputError{File: path, Field: "replay", Msg: "bad options: " + err.Error()}
	}
	for k := range q {
		if k != "id" && k != "prompt" && k != "response" {
			return nil, &bench.InputError{File: path, Field: "replay", Msg: fmt.Sprintf("unknown option %q (known: id, prompt, response)", k)}
		}
	}
	m := &Model{path: path, byID: map[string]string{}, byPrompt: map[string]string{}}
	var idCol, promptCol, respCol string
	first := true
	err = datasets.ReadRows(path, datasets.Options{Warn: warn}, func(line int, r datasets.Row) error {
		if first {
			first = false
			idCol = pickCol(r, q.Get("id"), idCols)
			promptCol = pickCol(r, q.Get("prompt"), promptCols)
			respCol = pickCol(r, q.Get("response"), responseCols)
			if respCol == "" {
				return &bench.InputError{File: path, Line: line, Field: "response",
					Msg: fmt.Sprintf("no response column (looked for %s; name one with ?response=COLUMN)", strings.Join(responseCols, ", "))}
			}
			if idCol == "" && promptCol == "" {
				return &bench.InputError{File: path, Line: line, Field: "prompt",
					Msg: "no id or prompt column to match outputs by (name one with ?id=COLUMN or ?prompt=COLUMN)"}
			}
		}
		resp, ok := r[respCol]
		if !ok {
			return &bench.InputError{File: path, Line: line, Field: respCol, Msg: "column missing"}
		}
		text := datasets.Text(resp)
		if idCol != "" {
			if v, ok := r[idCol]; ok {
				m.byID[datasets.Text(v)] = text
			}
		}
		if promptCol != "" {
			if v, ok := r[promptCol]; ok {
				m.byPrompt[strings.TrimSpace(datasets.Text(v))] = text
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func pickCol(r datasets.Row, given string, names []string) string {
	if given != "" {
		return given
	}
	for _, n := range names {
		if _, ok := r[n]; ok {
			return n
		}
	}
	return ""
}

// Len returns the number of recorded outputs.
func (m *Model) Len() int { return max(len(m.byID), len(m.byPrompt)) }

// Generate returns the recorded output for the request. A request with no
// recorded output is an error (the trial is recorded as failed).
func (m *Model) Generate(ctx context.Context, req bench.Request) (bench.Completion, error) {
	if err := ctx.Err(); err != nil {
		return bench.Completion{}, err
	}
	if m.path == "" {
		if req.Sample == nil {
			return bench.Completion{}, &bench.ModelError{Kind: bench.Fatal, Err: fmt.Errorf("replay: no sample")}
		}
		if _, ok := req.Sample.Fields["response"]; !ok && req.Sample.Response == "" {
			return bench.Completion{}, &bench.ModelError{Kind: bench.Fatal, Err: fmt.Errorf("replay: sample %s has no response field (map one in the suite's dataset.fields)", req.SampleID)}
		}
		return bench.Completion{Text: req.Sample.Response, FinishReason: "replay", Attempts: 1}, nil
	}
	if t, ok := m.byID[req.SampleID]; ok {
		return bench.Completion{Text: t, FinishReason: "replay", Attempts: 1}, nil
	}
	if t, ok := m.byPrompt[strings.TrimSpace(req.Prompt())]; ok {
		return bench.Completion{Text: t, FinishReason: "replay", Attempts: 1}, nil
	}
	if req.Sample != nil {
		if t, ok := m.byPrompt[strings.TrimSpace(req.Sample.Input)]; ok {
			return bench.Completion{Text: t, FinishReason: "replay", Attempts: 1}, nil
		}
	}
	return bench.Completion{}, &bench.ModelError{Kind: bench.Fatal, Err: fmt.Errorf("replay %s: no output for sample %s", m.path, req.SampleID)}
}
