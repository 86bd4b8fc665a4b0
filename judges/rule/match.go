package rule

import (
	"context"
	"regexp"
	"strings"
	"unicode"

	"github.com/mores-eval/mores/bench"
)

// Exact is the judge `exact`: metric "exact", 1 when the normalized
// response equals the normalized Target of the trial's sample, else 0.
// Normalizing trims surrounding white space, collapses inner runs of white
// space to one space, strips trailing punctuation (. , ; : ! ? and closing
// quotes), and folds case unless the option case_sensitive is true. The
// label is "match" or "mismatch". A trial without a sample, or a sample
// without a Target, gets an error Score.
type Exact struct {
	caseSensitive bool
	version       string
}

// NewExact returns the exact-match judge configured by opts.
func NewExact(opts map[string]any) (*Exact, error) {
	o := newOptions("exact", opts)
	cs, err := o.boolean("case_sensitive", false)
	if err != nil {
		return nil, err
	}
	if err := o.finish(); err != nil {
		return nil, err
	}
	return &Exact{caseSensitive: cs, version: version("exact/1", boolString(cs))}, nil
}

// Name returns "exact".
func (e *Exact) Name() string { return "exact" }

// Score compares the completion with the sample's Target.
func (e *Exact) Score(_ context.Context, t bench.Trial, c bench.Completion) ([]bench.Score, error) {
	if t.Sample == nil {
		return errorScore("exact", "exact", e.version, "no sample to read the target from (replayed record?)"), nil
	}
	if strings.TrimSpace(t.Sample.Target) == "" {
		return errorScore("exact", "exact", e.version, "sample %q has no target", t.Sample.ID), nil
	}
	got := NormalizeAnswer(c.Text, e.caseSensitive)
	want := NormalizeAnswer(t.Sample.Target, e.caseSensitive)
	ok := got == want
	label := "mismatch"
	if ok {
		label = "match"
	}
	return []bench.Score{{Judge: "exact", Metric: "exact", Value: boolValue(ok), Label: label, Explanation: "normalized response: " + excerpt(got, 80), Version: e.version}}, nil
}

// NormalizeAnswer normalizes a short answer for exact comparison: it trims
// and collapses white space, strips trailing punctuation and closing quotes,
// and folds case unless caseSensitive.
func NormalizeAnswer(s string, caseSensitive bool) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return strings.ContainsRune(".,;:!?。！？…\"'”’»", r) || unicode.IsSpace(r)
	})
	if !caseSensitive {
		s = foldCase(s)
	}
	return s
}

// foldCase folds s for case-insensitive comparison.
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		// Upper then lower maps variants such as ſ and K (Kelvin) onto
		// the same rune as s and k.
		return unicode.ToLower(unicode.ToUpper(r))
	}, s)
}

// Includes is the judge `includes`: metric "includes", 1 when a text occurs
// in the response, else 0; labelled "found" or "missing". The text is the
// option text, or else the Target of the trial's sample. Matching folds case
// unless the option case_sensitive is true. Without the option text, a trial
// without a sample or a sample without a Target gets an error Score.
type Includes struct {
	text          string
	caseSensitive bool
	version       string
}

// NewIncludes returns the includes judge configured by opts.
func NewIncludes(opts map[string]any) (*Includes, error) {
	o := newOptions("includes", opts)
	text, err := o.str("text", "")
	if err != nil {
		return nil, err
	}
	_, textSet := opts["text"]
	cs, err := o.boolean("case_sensitive", false)
	if err != nil {
		return nil, err
	}
	if err := o.finish(); err != nil {
		return nil, err
	}
	if textSet && text == "" {
		return nil, o.errorf("text", "is empty (leave it out to use the sample's target)")
	}
	return &Includes{text: text, caseSensitive: cs, version: version("includes/1", text, boolString(cs))}, nil
}

// Name returns "includes".
func (j *Includes) Name() string { return "includes" }

// Score looks for the text in the completion.
func (j *Includes) Score(_ context.Context, t bench.Trial, c bench.Completion) ([]bench.Score, error) {
	needle := j.text
	if needle == "" {
		if t.Sample == nil {
			return errorScore("includes", "includes", j.version, "no sample to read the target from (replayed record?)"), nil
		}
		needle = t.Sample.Target
		if needle == "" {
			return errorScore("includes", "includes", j.version, "sample %q has no target", t.Sample.ID), nil
		}
	}
	hay := c.Text
	if !j.caseSensitive {
		needle, hay = foldCase(needle), foldCase(hay)
	}
	ok := strings.Contains(hay, needle)
	label := "missing"
	if ok {
		label = "found"
	}
	return []bench.Score{{Judge: "includes", Metric: "includes", Value: boolValue(ok), Label: label, Explanation: excerpt(needle, 80), Version: j.version}}, nil
}

// Regex is the judge `regex`: value 1 when the option pattern (Go RE2
// syntax; use (?i) to ignore case, (?s) to let . match newlines) matches the
// response, else 0, under the metric named by the option metric (default
// "regex"); labelled "match" or "no match" and explained by the matched text.
type Regex struct {
	re      *regexp.Regexp
	metric  string
	version string
}

// NewRegex returns the regex judge configured by opts; the option pattern is
// required.
func NewRegex(opts map[string]any) (*Regex, error) {
	o := newOptions("regex", opts)
	pattern, err := o.str("pattern", "")
	if err != nil {
		return nil, err
	}
	metric, err := o.str("metric", "regex")
	if err != nil {
		return nil, err
	}
	if err := o.finish(); err != nil {
		return nil, err
	}
	if pattern == "" {
		return nil, o.errorf("pattern", "is required: the regular expression to look for in the response")
	}
	if strings.TrimSpace(metric) == "" {
		return nil, o.errorf("metric", "is empty")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, o.errorf("pattern", "%v", err)
	}
	return &Regex{re: re, metric: metric, version: version("regex/1", pattern, metric)}, nil
}

// Name returns "regex".
func (j *Regex) Name() string { return "regex" }

// Metric returns the name of the judge's metric.
func (j *Regex) Metric() string { return j.metric }

// Score matches the pattern against the completion.
func (j *Regex) Score(_ context.Context, _ bench.Trial, c bench.Completion) ([]bench.Score, error) {
	loc := j.re.FindStringIndex(c.Text)
	s := bench.Score{Judge: "regex", Metric: j.metric, Label: "no match", Version: j.version}
	if loc != nil {
		s.Value, s.Label, s.Explanation = 1, "match", excerpt(c.Text[loc[0]:loc[1]], 80)
	}
	return []bench.Score{s}, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
