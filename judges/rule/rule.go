package rule

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// constructors maps each rule judge's name to its constructor.
var constructors = map[string]func(map[string]any) (bench.Judge, error){
	"refusal":  func(o map[string]any) (bench.Judge, error) { return NewRefusal(o) },
	"exact":    func(o map[string]any) (bench.Judge, error) { return NewExact(o) },
	"includes": func(o map[string]any) (bench.Judge, error) { return NewIncludes(o) },
	"regex":    func(o map[string]any) (bench.Judge, error) { return NewRegex(o) },
	"choice":   func(o map[string]any) (bench.Judge, error) { return NewChoice(o) },
}

// Names returns the names of the rule judges, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New constructs the rule judge called name from its options. Bad options
// are reported as a *bench.InputError whose Field names the option
// ("judges.<name>.<option>"); the caller fills in the file and line.
func New(name string, opts map[string]any) (bench.Judge, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, &bench.InputError{Field: "judges", Msg: fmt.Sprintf("unknown rule judge %q (known: %s)", name, strings.Join(Names(), ", "))}
	}
	return c(opts)
}

// version returns the Version recorded with a rule judge's scores: the
// judge's rule revision and a short hash of its resolved configuration, so
// that a change of phrase list or pattern shows in the results.
func version(rev string, config ...string) string {
	h := sha256.New()
	for _, c := range config {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	return rev + "-" + hex.EncodeToString(h.Sum(nil))[:8]
}

// errorScore is the score of a judge that could not score a trial.
func errorScore(judge, metric, version, format string, args ...any) []bench.Score {
	return []bench.Score{{Judge: judge, Metric: metric, Version: version, Error: fmt.Sprintf(format, args...)}}
}

// boolValue maps a verdict to a metric value.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// excerpt shortens s to at most n runes for an explanation, marking the cut.
func excerpt(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
