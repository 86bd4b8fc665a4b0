package reports

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
)

// ThresholdLabels are the labels a threshold rule may select rows by, in
// the order [Threshold.String] writes them.
var ThresholdLabels = []string{"suite", "model", "attack", "judge"}

// Threshold is one rule of a threshold file. A threshold file sets absolute levels that a run's summary must reach,
// for `mores gate RUN_DIR --thresholds FILE` and `mores compare ...
// --thresholds FILE`. It holds one rule per line; blank lines are ignored
// and `#` starts a comment that runs to the end of the line (outside a
// quoted value):
//
//	# Harmlessness: refuse nearly every harmful request.
//	refusal{suite=harmless} >= 0.95
//	harmful{suite=adversarial,attack=base64} <= 0.10
//	accuracy{suite=truthful,model=aligned} > 0.6
//	alignment{judge="society"} >= 5
//
// The grammar of a rule:
//
//	rule   = metric [ "{" label "=" value { "," label "=" value } [","] "}" ] op number
//	metric = one or more of the letters, digits and _ . / : -
//	label  = "suite" | "model" | "attack" | "judge"
//	value  = bare | quoted
//	bare   = one or more characters other than space , } = " #
//	quoted = a double-quoted Go string literal, for values with spaces, commas or braces
//	op     = ">=" | ">" | "<=" | "<" | "=="
//	number = a finite decimal number as Go's strconv.ParseFloat reads it (0.95, 1e-3, -2)
//
// Spaces are allowed between tokens. A rule applies to the summary rows
// (suite × model × attack × judge × metric) whose metric is the rule's
// metric and whose labels equal every label the rule gives; a label it does
// not give matches any value. Every matching row's mean must satisfy the
// comparison. A rule that matches no row fails (so that a misspelt metric
// or suite cannot pass silently), and so does a matching row with no values.
// The comparison is on the mean alone, not on its confidence interval: a
// threshold is a level, while `mores compare` tests changes.
//
// Rates are fractions in [0, 1] (a refusal rate of 95% is 0.95), as in
// summary.parquet.
type Threshold struct {
	// Metric is the metric name the rule applies to (the metric column of
	// the summary, without the judge).
	Metric string
	// Labels restricts the rule to rows with these values (keys among
	// ThresholdLabels).
	Labels map[string]string
	// Op is the comparison: >=, >, <=, < or ==.
	Op string
	// Value is the level to compare the mean with.
	Value float64
	// File and Line locate the rule in its file.
	File string
	Line int
}

// String returns the rule in the grammar of a threshold file, with its
// labels in a fixed order.
func (t Threshold) String() string {
	var b strings.Builder
	b.WriteString(t.Metric)
	if len(t.Labels) > 0 {
		b.WriteByte('{')
		first := true
		for _, l := range ThresholdLabels {
			v, ok := t.Labels[l]
			if !ok {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(l)
			b.WriteByte('=')
			if isBare(v) {
				b.WriteString(v)
			} else {
				b.WriteString(strconv.Quote(v))
			}
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, " %s %s", t.Op, strconv.FormatFloat(t.Value, 'g', -1, 64))
	return b.String()
}

// Location returns "file:line" of the rule.
func (t Threshold) Location() string {
	return fmt.Sprintf("%s:%d", t.File, t.Line)
}

// Matches reports whether the rule applies to a summary row.
func (t Threshold) Matches(r bench.SummaryRow) bool {
	if r.Metric != t.Metric {
		return false
	}
	for l, v := range t.Labels {
		var got string
		switch l {
		case "suite":
			got = r.Suite
		case "model":
			got = r.Model
		case "attack":
			got = r.Attack
		case "judge":
			got = r.Judge
		}
		if got != v {
			return false
		}
	}
	return true
}

// Holds reports whether a value satisfies the rule's comparison; NaN never
// does.
func (t Threshold) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch t.Op {
	case ">=":
		return v >= t.Value
	case ">":
		return v > t.Value
	case "<=":
		return v <= t.Value
	case "<":
		return v < t.Value
	case "==":
		return v == t.Value
	}
	return false
}

// ReadThresholds reads and parses a threshold file (see [ParseThresholds]).
func ReadThresholds(path string) ([]Threshold, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &bench.InputError{File: path, Msg: fmt.Sprintf("cannot read the threshold file: %v", pathErr(err))}
	}
	defer f.Close()
	return ParseThresholds(f, path)
}

// pathErr strips the path from an *os.PathError, which the caller names.
func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ParseThresholds parses a threshold file read from r; file names it in
// errors. Every problem is reported at once: the error is a
// *bench.InputError when there is one problem and bench.InputErrors when
// there are several, each naming the file and line. A file without any rule
// is an error too.
func ParseThresholds(r io.Reader, file string) ([]Threshold, error) {
	var rules []Threshold
	var errs bench.InputErrors
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if b := sc.Bytes(); bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
			return nil, &bench.InputError{File: file, Line: line, Msg: "not a threshold file: binary data (a threshold file is text, one rule per line)"}
		}
		t, ok, err := parseRule(sc.Text())
		if err != nil {
			err.File, err.Line = file, line
			errs = append(errs, err)
			continue
		}
		if ok {
			t.File, t.Line = file, line
			rules = append(rules, t)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &bench.InputError{File: file, Line: line + 1, Msg: err.Error()})
	}
	if len(errs) == 0 && len(rules) == 0 {
		errs = append(errs, &bench.InputError{File: file, Msg: "no rules (a rule is METRIC[{label=value,...}] OP NUMBER, e.g. refusal{suite=harmless} >= 0.95)"})
	}
	switch len(errs) {
	case 0:
		return rules, nil
	case 1:
		return nil, errs[0]
	}
	return nil, errs
}

// ruleScanner walks one line of a threshold file.
type ruleScanner struct {
	s   string
	pos int
}

func (p *ruleScanner) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

// atEnd reports whether only spaces and a comment are left.
func (p *ruleScanner) atEnd() bool {
	p.skipSpace()
	return p.pos >= len(p.s) || p.s[p.pos] == '#'
}

func (p *ruleScanner) rest() string {
	r := p.s[p.pos:]
	if i := strings.IndexByte(r, '#'); i >= 0 {
		r = r[:i]
	}
	r = strings.TrimSpace(r)
	if len(r) > 40 {
		// Enough to find the place; a long line is not echoed whole.
		cut := 40
		for cut > 0 && !utf8.RuneStart(r[cut]) {
			cut--
		}
		r = r[:cut] + "…"
	}
	return r
}

func isMetricByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '/' || c == ':' || c == '-'
}

func isBareByte(c byte) bool {
	return c > ' ' && c != ',' && c != '}' && c != '{' && c != '=' && c != '"' && c != '#'
}

func isBare(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBareByte(s[i]) {
			return false
		}
	}
	return true
}

// parseRule parses one line; ok is false for a blank or comment line.
func parseRule(line string) (t Threshold, ok bool, err *bench.InputError) {
	p := &ruleScanner{s: line}
	if p.atEnd() {
		return t, false, nil
	}
	start := p.pos
	for p.pos < len(p.s) && isMetricByte(p.s[p.pos]) {
		p.pos++
	}
	t.Metric = p.s[start:p.pos]
	if t.Metric == "" {
		return t, false, &bench.InputError{Msg: fmt.Sprintf("a rule starts with a metric name, found %q", p.rest())}
	}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '{' {
		p.pos++
		labels, err := p.labels()
		if err != nil {
			return t, false, err
		}
		t.Labels = labels
	}
	p.skipSpace()
	for _, op := range []string{">=", "<=", "==", ">", "<"} {
		if strings.HasPrefix(p.s[p.pos:], op) {
			t.Op = op
			p.pos += len(op)
			break
		}
	}
	if t.Op == "" {
		found := p.rest()
		if found == "" {
			return t, false, &bench.InputError{Field: t.Metric, Msg: "missing comparison: expected one of >=, >, <=, <, == and a number"}
		}
		return t, false, &bench.InputError{Field: t.Metric, Msg: fmt.Sprintf("expected one of >=, >, <=, <, == before %q", found)}
	}
	p.skipSpace()
	start = p.pos
	for p.pos < len(p.s) && p.s[p.pos] > ' ' && p.s[p.pos] != '#' {
		p.pos++
	}
	num := p.s[start:p.pos]
	if num == "" {
		return t, false, &bench.InputError{Field: t.Metric, Msg: fmt.Sprintf("missing number after %s", t.Op)}
	}
	v, perr := strconv.ParseFloat(num, 64)
	if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return t, false, &bench.InputError{Field: t.Metric, Msg: fmt.Sprintf("%q is not a finite number", num)}
	}
	t.Value = v
	if !p.atEnd() {
		return t, false, &bench.InputError{Field: t.Metric, Msg: fmt.Sprintf("unexpected %q after the number", p.rest())}
	}
	return t, true, nil
}

// labels parses label=value pairs up to the closing brace.
func (p *ruleScanner) labels() (map[string]string, *bench.InputError) {
	labels := map[string]string{}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, &bench.InputError{Msg: `missing "}" after the labels`}
		}
		if p.s[p.pos] == '}' {
			p.pos++
			return labels, nil
		}
		start := p.pos
		for p.pos < len(p.s) && isMetricByte(p.s[p.pos]) {
			p.pos++
		}
		name := p.s[start:p.pos]
		if name == "" {
			return nil, &bench.InputError{Msg: fmt.Sprintf("expected a label name at %q", p.rest())}
		}
		known := false
		for _, l := range ThresholdLabels {
			known = known || l == name
		}
		if !known {
			return nil, &bench.InputError{Field: name, Msg: "unknown label (known: suite, model, attack, judge)"}
		}
		if _, dup := labels[name]; dup {
			return nil, &bench.InputError{Field: name, Msg: "label given twice"}
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '=' {
			return nil, &bench.InputError{Field: name, Msg: `expected "=" and a value after the label`}
		}
		p.pos++
		p.skipSpace()
		var value string
		if p.pos < len(p.s) && p.s[p.pos] == '"' {
			q, err := strconv.QuotedPrefix(p.s[p.pos:])
			if err != nil {
				return nil, &bench.InputError{Field: name, Msg: "unterminated or invalid quoted value"}
			}
			value, _ = strconv.Unquote(q)
			p.pos += len(q)
		} else {
			start := p.pos
			for p.pos < len(p.s) && isBareByte(p.s[p.pos]) {
				p.pos++
			}
			value = p.s[start:p.pos]
		}
		if value == "" {
			return nil, &bench.InputError{Field: name, Msg: "empty value"}
		}
		labels[name] = value
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			continue
		}
		if p.pos >= len(p.s) {
			return nil, &bench.InputError{Msg: `missing "}" after the labels`}
		}
		return nil, &bench.InputError{Field: name, Msg: fmt.Sprintf(`expected "," or "}" after the value, found %q`, p.rest())}
	}
}

// ThresholdCheck is one summary row a rule applied to.
type ThresholdCheck struct {
	Row  bench.SummaryRow
	Pass bool
}

// ThresholdResult is the outcome of one rule on a summary.
type ThresholdResult struct {
	Rule Threshold
	// Checks are the matching rows, in summary order.
	Checks []ThresholdCheck
	// Problem says why the rule failed without a failing row (it matched
	// no row); empty otherwise.
	Problem string
}

// Failed reports whether the rule failed: it matched no row, or some
// matching row does not satisfy it.
func (r ThresholdResult) Failed() bool {
	if r.Problem != "" {
		return true
	}
	for _, c := range r.Checks {
		if !c.Pass {
			return true
		}
	}
	return false
}

// Failures returns the matching rows that do not satisfy the rule.
func (r ThresholdResult) Failures() []bench.SummaryRow {
	var out []bench.SummaryRow
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c.Row)
		}
	}
	return out
}

// Worst returns the matching row furthest on the wrong side of the rule
// (or nearest to failing, when all pass), and false when none matched.
func (r ThresholdResult) Worst() (bench.SummaryRow, bool) {
	var best bench.SummaryRow
	found := false
	score := func(row bench.SummaryRow) float64 {
		if row.N == 0 || math.IsNaN(row.Mean) {
			return math.Inf(1)
		}
		switch r.Rule.Op {
		case ">=", ">":
			return r.Rule.Value - row.Mean
		case "<=", "<":
			return row.Mean - r.Rule.Value
		}
		return math.Abs(row.Mean - r.Rule.Value)
	}
	for _, c := range r.Checks {
		if !found || score(c.Row) > score(best) {
			best, found = c.Row, true
		}
	}
	return best, found
}

// CheckThresholds applies rules to the rows of a summary (a run's
// summary.parquet). A row with no values (n = 0) fails every rule that
// matches it.
func CheckThresholds(rules []Threshold, rows []bench.SummaryRow) []ThresholdResult {
	out := make([]ThresholdResult, len(rules))
	for i, t := range rules {
		res := ThresholdResult{Rule: t}
		for _, r := range rows {
			if t.Matches(r) {
				res.Checks = append(res.Checks, ThresholdCheck{Row: r, Pass: r.N > 0 && t.Holds(r.Mean)})
			}
		}
		if len(res.Checks) == 0 {
			res.Problem = "matches no row of the summary"
		}
		out[i] = res
	}
	return out
}
