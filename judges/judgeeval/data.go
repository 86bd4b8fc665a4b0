// Package judgeeval validates a judge against labelled recorded outputs: it
// reads a file of prompts, responses and 0/1 labels (any format the
// datasets package reads), runs the judge over the responses through the
// run machinery (bench.Run with a replay model: response cache, retries,
// concurrency and journal, as in mores run), and measures how the judge's
// verdicts agree with the labels — agreement, Cohen's κ, false positive
// and false negative rates with 95% intervals, the confusion matrix — and,
// for every reference column (another judge's labels of the same rows),
// the same figures and the exact McNemar p-value of the difference in
// accuracy between the judge and that reference.
//
// The pipeline is Load (every problem of the file reported before any
// request) → Run → Report.Render (text, Markdown, LaTeX or JSON).
package judgeeval

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// Columns names the columns of a labelled file.
type Columns struct {
	// Label holds the gold labels, 0/1-like (required).
	Label string
	// Response holds the recorded outputs the judge scores ("response" when
	// empty).
	Response string
	// Prompt holds the prompt the model was sent. When empty, a column
	// named "prompt" is used if there is one, else the prompts are empty.
	Prompt string
	// ID holds a row id; when empty the row number (from 1) is the id.
	ID string
	// References hold other raters' 0/1 labels of the same rows.
	References []string
}

// Data is a loaded labelled file.
type Data struct {
	File    string
	Columns Columns
	// Samples are the rows as samples: Input is the prompt, Response the
	// recorded output, Fields every column as text.
	Samples []bench.Sample
	// Labels are the gold labels (0 or 1) of the samples.
	Labels []int8
	// Refs[k][i] is reference k's label of sample i.
	Refs [][]int8
}

// maxErrors is how many bad rows Load reports before it stops reading.
const maxErrors = 20

// ParseLabel reads a 0/1-like label: 0 or 1 (also as 0.0 or 1.0), true or
// false, yes or no (any case, surrounding space ignored).
func ParseLabel(s string) (int8, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "1.0", "true", "yes":
		return 1, true
	case "0", "0.0", "false", "no":
		return 0, true
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		switch f {
		case 0:
			return 0, true
		case 1:
			return 1, true
		}
	}
	return 0, false
}

// Load reads a labelled file. A missing column, a label or reference value
// that is not 0/1-like, or a repeated id is a *bench.InputError naming the
// file, the line and the column (several are reported at once as
// bench.InputErrors). Nothing is sent anywhere.
func Load(file string, cols Columns, warn func(string, ...any)) (*Data, error) {
	if cols.Label == "" {
		return nil, &bench.InputError{File: file, Field: "--label", Msg: "name the column holding the 0/1 labels"}
	}
	if cols.Response == "" {
		cols.Response = "response"
	}
	d := &Data{File: file, Columns: cols, Refs: make([][]int8, len(cols.References))}
	var errs bench.InputErrors
	ids := map[string]int{}
	first := true
	promptCol := cols.Prompt
	errStop := fmt.Errorf("too many errors")
	err := datasets.ReadRows(file, datasets.Options{Warn: warn}, func(line int, r datasets.Row) error {
		if first {
			first = false
			need := []struct{ flag, col string }{{"--label", cols.Label}, {"--response", cols.Response}}
			if cols.Prompt != "" {
				need = append(need, struct{ flag, col string }{"--prompt", cols.Prompt})
			} else if _, ok := r["prompt"]; ok {
				promptCol = "prompt"
			}
			if cols.ID != "" {
				need = append(need, struct{ flag, col string }{"--id", cols.ID})
			}
			for _, c := range cols.References {
				need = append(need, struct{ flag, col string }{"--reference", c})
			}
			for _, n := range need {
				if _, ok := r[n.col]; !ok {
					errs = append(errs, &bench.InputError{File: file, Line: line, Field: n.col,
						Msg: fmt.Sprintf("no such column (%s %s; the file has: %s)", n.flag, n.col, columnList(r))})
				}
			}
			if len(errs) > 0 {
				return errStop
			}
		}
		label := func(col string) (int8, bool) {
			v, ok := r[col]
			if !ok {
				errs = append(errs, &bench.InputError{File: file, Line: line, Field: col, Msg: "column missing in this row"})
				return 0, false
			}
			l, ok := ParseLabel(datasets.Text(v))
			if !ok {
				errs = append(errs, &bench.InputError{File: file, Line: line, Field: col,
					Msg: fmt.Sprintf("label %q is not 0/1-like (0, 1, true, false, yes, no)", excerpt(datasets.Text(v)))})
			}
			return l, ok
		}
		l, _ := label(cols.Label)
		refs := make([]int8, len(cols.References))
		for k, c := range cols.References {
			refs[k], _ = label(c)
		}
		id := strconv.Itoa(len(d.Samples) + 1)
		if cols.ID != "" {
			id = strings.TrimSpace(datasets.Text(r[cols.ID]))
			if prev, dup := ids[id]; dup {
				errs = append(errs, &bench.InputError{File: file, Line: line, Field: cols.ID,
					Msg: fmt.Sprintf("id %q repeats the row on line %d", excerpt(id), prev)})
			}
			ids[id] = line
		}
		fields := make(map[string]string, len(r)+2)
		for k, v := range r {
			fields[k] = datasets.Text(v)
		}
		s := bench.Sample{ID: id, Response: fields[cols.Response], Fields: fields}
		if promptCol != "" {
			s.Input = fields[promptCol]
		}
		fields["input"] = s.Input
		fields["response"] = s.Response
		d.Samples = append(d.Samples, s)
		d.Labels = append(d.Labels, l)
		for k := range refs {
			d.Refs[k] = append(d.Refs[k], refs[k])
		}
		if len(errs) >= maxErrors {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	if len(errs) > 1 {
		return nil, errs
	}
	if len(d.Samples) == 0 {
		return nil, &bench.InputError{File: file, Msg: "no rows"}
	}
	return d, nil
}

func columnList(r datasets.Row) string {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
