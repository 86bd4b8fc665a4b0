package adapt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// Options tune an adapter.
type Options struct {
	// Warn, if set, receives warnings: rows with bytes that are not valid
	// UTF-8, and repairs the adapter made (for example merged turns).
	Warn func(format string, args ...any)
	// Seed varies the deterministic order of shuffled choices.
	Seed int64
}

// Adapter describes one adapter.
type Adapter struct {
	// Name is what a suite's dataset.adapter key or --adapter names.
	Name string
	// Description says which files it reads and what it makes of them.
	Description string
	// Suites lists the built-in suites whose prompts and judges fit its
	// samples.
	Suites []string
	// Prompt, when not empty, is a prompt template to use instead of the
	// prompt of a built-in suite (the ETHICS questions differ from the
	// moral suite's).
	Prompt string
	// Messages says the samples are conversations (bench.Sample.Messages),
	// which the default prompt "{{.input}}" sends unchanged.
	Messages bool

	load func(path string, opt Options) ([]bench.Sample, error)
}

var refusalSuites = []string{"harmless", "adversarial", "quickstart"}

// registry holds the adapters by name.
var registry = map[string]Adapter{}

func register(a Adapter) { registry[a.Name] = a }

// Names returns the names of the adapters, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the adapter name.
func Lookup(name string) (Adapter, bool) {
	a, ok := registry[name]
	return a, ok
}

// Load reads the dataset at path (a file or an hf: path) with the adapter
// name. An unknown adapter, a file of another shape and malformed rows are
// *bench.InputError naming the file and, where there is one, the line.
func Load(name, path string, opt Options) ([]bench.Sample, error) {
	a, ok := registry[name]
	if !ok {
		return nil, &bench.InputError{File: path, Field: "adapter", Msg: fmt.Sprintf("unknown adapter %q (known: %s)", name, strings.Join(Names(), ", "))}
	}
	samples, err := a.load(path, opt)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, &bench.InputError{File: path, Msg: fmt.Sprintf("the dataset has no rows for the adapter %s", name)}
	}
	seen := make(map[string]bool, len(samples))
	for _, s := range samples {
		if seen[s.ID] {
			return nil, &bench.InputError{File: path, Msg: fmt.Sprintf("the adapter %s made the sample id %q twice; is the file a concatenation of two?", name, s.ID)}
		}
		seen[s.ID] = true
	}
	return samples, nil
}

// errStop ends a read after the first row.
var errStop = errors.New("stop")

// Detect names the adapter for the dataset at path from the columns of its
// first row (and, for the headerless ETHICS utilitarianism file, its
// shape). A file that no adapter reads is a *bench.InputError listing the
// file's columns and the adapters; GPTFuzz's template file is one too,
// saying to use it as an attack.
func Detect(path string) (string, error) {
	var first datasets.Row
	err := datasets.ReadRows(path, datasets.Options{}, func(_ int, r datasets.Row) error {
		first = r
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	if first == nil {
		return "", &bench.InputError{File: path, Msg: "the dataset has no rows"}
	}
	has := func(cols ...string) bool {
		for _, c := range cols {
			if _, ok := first[c]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("chosen", "rejected"):
		return "hh-rlhf", nil
	case has("question", "mc2_targets") && !has("mc1_targets"):
		return "truthfulqa-mc2", nil
	case has("question", "mc1_targets"):
		return "truthfulqa-mc1", nil
	case has("Question", "Best Answer", "Incorrect Answers"):
		return "truthfulqa", nil
	case has("Goal", "Behavior", "Category"):
		return "jbb-behaviors", nil
	case has("goal", "target") || has("target") && len(first) == 1:
		return "advbench", nil
	case has("id", "text") && strings.Contains(datasets.Text(first["text"]), templatePlaceholder):
		return "", templateFileError(path)
	case has("index", "text") && len(first) == 2:
		return "gptfuzz", nil
	case has("label", "scenario", "excuse"):
		return "ethics-deontology", nil
	case has("label", "scenario") && strings.Contains(datasets.Text(first["scenario"]), virtueSep):
		return "ethics-virtue", nil
	case has("label", "scenario"):
		return "ethics-justice", nil
	case has("prompt", "type") && (has("label") || has("completion")):
		return "xstest", nil
	case len(first) == 2 && looksLikeSentences(first):
		return "ethics-utilitarianism", nil
	}
	cols := make([]string, 0, len(first))
	for c := range first {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	if len(cols) > 10 {
		cols = append(cols[:10], "…")
	}
	return "", &bench.InputError{File: path, Msg: fmt.Sprintf(
		"cannot tell which dataset this is from its columns (%s); name an adapter (%s) or use a suite file with a field mapping",
		strings.Join(cols, ", "), strings.Join(Names(), ", "))}
}

// looksLikeSentences reports whether every column name of a CSV header
// row is a sentence, which means the file has no header row.
func looksLikeSentences(r datasets.Row) bool {
	for k := range r {
		if len(k) < 20 || !strings.Contains(k, " ") {
			return false
		}
	}
	return true
}

// rowReader reads the rows of one file for an adapter, checking columns.
type rowReader struct {
	path    string
	adapter string
	opt     datasets.Options
}

func newReader(path, adapter string, opt Options) *rowReader {
	return &rowReader{path: path, adapter: adapter, opt: datasets.Options{Warn: opt.Warn}}
}

// each calls fn for every row, after checking that the row has the
// columns cols.
func (r *rowReader) each(cols []string, fn func(line int, row datasets.Row) error) error {
	return datasets.ReadRows(r.path, r.opt, func(line int, row datasets.Row) error {
		for _, c := range cols {
			if _, ok := row[c]; !ok {
				return r.errorf(line, c, "column missing: the adapter %s reads the columns %s; the row has %s",
					r.adapter, strings.Join(cols, ", "), columnList(row))
			}
		}
		return fn(line, row)
	})
}

func (r *rowReader) errorf(line int, field, format string, args ...any) *bench.InputError {
	return &bench.InputError{File: r.path, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func columnList(row datasets.Row) string {
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return strings.Join(cols, ", ")
}

// refusalSample makes the sample of a request a model should refuse
// (harmful) or answer.
func refusalSample(id, input string, harmful bool, fields map[string]string, adapter string) bench.Sample {
	f := make(map[string]string, len(fields)+4)
	for k, v := range fields {
		f[k] = v
	}
	f["input"] = input
	f["harmful"] = strconv.FormatBool(harmful)
	target := "comply"
	if harmful {
		target = "refuse"
	}
	f["target"] = target
	f["dataset"] = adapter
	return bench.Sample{ID: id, Input: input, Target: target, Fields: f}
}

// choiceSample makes a multiple-choice sample; correct holds the indexes
// of the correct choices, the first of which is the target.
func choiceSample(id, input string, choices []string, target int, correct []int, fields map[string]string, adapter string) bench.Sample {
	f := make(map[string]string, len(fields)+5)
	for k, v := range fields {
		f[k] = v
	}
	f["input"] = input
	f["choices"] = strings.Join(choices, "\n")
	f["target"] = letter(target)
	if correct != nil {
		sorted := slices.Clone(correct)
		slices.Sort(sorted)
		ls := make([]string, len(sorted))
		for i, c := range sorted {
			ls[i] = letter(c)
		}
		f["targets"] = strings.Join(ls, ",")
	}
	f["dataset"] = adapter
	return bench.Sample{ID: id, Input: input, Choices: choices, Target: letter(target), Fields: f}
}

// letter labels the i-th choice (from 0): A, B, …, Z.
func letter(i int) string { return string(rune('A' + i)) }

// shuffler returns a deterministic permutation source seeded from the
// seed and key, by splitmix64, so that the order never depends on the Go
// version or the file's row order.
type shuffler struct{ state uint64 }

func newShuffler(seed int64, key string) *shuffler {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(key))
	return &shuffler{state: h.Sum64()}
}

func (s *shuffler) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// perm returns a permutation of 0..n-1 (Fisher–Yates).
func (s *shuffler) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(s.next() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// fileHint is the file name of a path (or the split of an hf: path),
// lower-cased, for adapters that tell files apart by name.
func fileHint(path string) string {
	if rest, ok := strings.CutPrefix(path, "hf:"); ok {
		return strings.ToLower(rest)
	}
	return strings.ToLower(filepath.Base(path))
}
