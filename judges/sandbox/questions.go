package sandbox

import (
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/datasets/adapt"
)

// BuiltinQuestions returns the questions of the built-in social suite (its
// dataset builtin:social), in file order.
func BuiltinQuestions() ([]string, error) {
	samples, err := datasets.Load("builtin:social", datasets.Mapping{ID: "id", Input: "input"}, datasets.Options{})
	if err != nil {
		return nil, err
	}
	return inputs(samples), nil
}

// LoadQuestions reads the questions of a dataset file: the column question,
// input or prompt when the file has one (the first found, in that order),
// else the prompts of the dataset as the adapter Mores detects for it
// reads them (for a conversation, its last user turn).
func LoadQuestions(path string) ([]string, error) {
	var col string
	err := datasets.ReadRows(path, datasets.Options{}, func(_ int, r datasets.Row) error {
		for _, c := range []string{"question", "input", "prompt"} {
			if _, ok := r[c]; ok {
				col = c
				break
			}
		}
		return errFirstRow
	})
	if err != nil && err != errFirstRow {
		return nil, err
	}
	var samples []bench.Sample
	if col != "" {
		samples, err = datasets.Load(path, datasets.Mapping{Input: col}, datasets.Options{})
	} else {
		var name string
		if name, err = adapt.Detect(path); err == nil {
			samples, err = adapt.Load(name, path, adapt.Options{})
		}
	}
	if err != nil {
		return nil, err
	}
	qs := inputs(samples)
	if len(qs) == 0 {
		return nil, &bench.InputError{File: path, Msg: "no questions"}
	}
	return qs, nil
}

type firstRow struct{}

func (firstRow) Error() string { return "first row" }

var errFirstRow error = firstRow{}

func inputs(samples []bench.Sample) []string {
	var out []string
	for _, s := range samples {
		q := s.Input
		if q == "" {
			q = bench.Request{Messages: s.Messages}.Prompt()
		}
		if q = strings.TrimSpace(q); q != "" {
			out = append(out, q)
		}
	}
	return out
}
