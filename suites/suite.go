package suites

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets/adapt"
	"github.com/mores-eval/mores/suites/attack"
	"go.yaml.in/yaml/v3"
)

// DefaultPrompt is the prompt template of a suite whose dataset maps
// messages and that names no prompt: it sends the last user turn unchanged.
const DefaultPrompt = "{{.input}}"

// Suite is a parsed and validated suite file.
type Suite struct {
	// Name identifies the suite in run directories and reports.
	Name string
	// Description says what the suite measures.
	Description string
	// Version is bumped whenever the prompts or the data change.
	Version int
	// Dataset names the data and how its columns map to sample fields.
	Dataset Dataset
	// Prompt is a Go text/template over the sample's fields; it becomes the
	// last user message of a request.
	Prompt string
	// System is the system prompt, sent as is (it is not a template).
	System string
	// Attacks names the attack transforms applied to every sample.
	Attacks []string
	// Judges names the judges that score every completion, with their
	// options and the line of the suite file that names them.
	Judges []bench.JudgeSpec
	// Params are the sampling parameters of every request.
	Params bench.GenParams
	// Epochs is how many times each sample is asked (0: the run's default).
	Epochs int
	// Personas are the peer personas of the society judge.
	Personas []string
	// HigherIsBetter tells reports the direction of a metric: true when a
	// higher value is better, false when lower is better. Metrics absent
	// from the map have no known direction.
	HigherIsBetter map[string]bool
	// File is the path of the suite file, or builtin:NAME.
	File string
	// Hash is the hex SHA-256 of the suite file's bytes.
	Hash string
	// Dir is the folder a relative dataset path is resolved against: the
	// folder of the suite file ("" for built-in suites).
	Dir string

	tmpl    *template.Template
	attacks []attack.Attack // Attacks resolved, templates expanded
	lines   map[string]int  // line of each key, by dotted field name
}

// AttackList returns the attacks the suite names, resolved by package
// attack (a template file expands to one attack per template), in order;
// nil when the suite names no attacks.
func (s *Suite) AttackList() []attack.Attack { return s.attacks }

// Dataset names a suite's data and maps its columns to sample fields.
type Dataset struct {
	// Path is a file (csv, jsonl, json, parquet, optionally .gz),
	// builtin:NAME or hf:OWNER/NAME/SPLIT.
	Path string
	// ID is the column holding the sample id; empty means a content hash.
	ID string
	// Fields maps sample fields to dataset columns.
	Fields Fields
	// Header says whether a CSV file has a header row (nil: the loader
	// decides).
	Header *bool
	// Columns names the columns of a headerless CSV file.
	Columns []string
	// Adapter names a dataset adapter (package datasets/adapt) that reads
	// a real public dataset into samples, instead of the field mapping;
	// empty means the field mapping applies.
	Adapter string
}

// Fields maps sample fields to dataset columns. An empty string leaves the
// mapping of that field to the dataset loader.
type Fields struct {
	Input    string // the user prompt
	Messages string // a column holding a list of {role, content}
	Target   string // the expected answer or label
	Choices  string // the options of a multiple-choice item
	Response string // a recorded response, judged as is by `replay:`
}

// Line returns the line of the suite file where the key with the given
// dotted name (such as "prompt" or "dataset.path") is written, or 0.
func (s *Suite) Line(field string) int { return s.lines[field] }

var (
	topKeys     = []string{"name", "version", "description", "dataset", "prompt", "system", "attacks", "judges", "params", "epochs", "personas", "higher_is_better"}
	datasetKeys = []string{"path", "id", "fields", "header", "columns", "adapter"}
	fieldKeys   = []string{"input", "messages", "target", "choices", "response"}
	paramKeys   = []string{"temperature", "top_p", "max_tokens", "seed", "stop"}
)

// Parse parses and validates a suite file. File names it in error messages
// (a path or builtin:NAME) and becomes Suite.File; Dir is left empty, so a
// relative path in an attack spec (template:PATH) is read from the working
// directory (Load reads it from the suite file's folder). Every
// problem is reported at once, as a bench.InputErrors of *bench.InputError
// that each name the file, line and field.
func Parse(file string, data []byte) (*Suite, error) {
	return parse(file, "", data)
}

// parse is Parse with the folder against which relative paths in the file
// (the dataset, attack template files) are resolved.
func parse(file, dir string, data []byte) (*Suite, error) {
	sum := sha256.Sum256(data)
	s := &Suite{File: file, Hash: hex.EncodeToString(sum[:]), Dir: dir, lines: map[string]int{}}
	p := &parser{file: file, s: s}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	p.suite(root)
	slices.SortStableFunc(p.errs, func(a, b *bench.InputError) int { return a.Line - b.Line })
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

type parser struct {
	file string
	s    *Suite
	errs bench.InputErrors
}

func (p *parser) errorf(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &bench.InputError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var (
	yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	tmplLine = regexp.MustCompile(`^prompt:(\d+): (.*)$`)
)

// document decodes the single YAML document of a suite file into its root
// mapping node.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, bench.InputErrors{{File: p.file, Msg: "the suite file is empty"}}
		}
		msg := err.Error()
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
			// yaml.v3 numbers the lines of these errors from 0.
			if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found a tab character") {
				line++
			}
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		return nil, bench.InputErrors{{File: p.file, Line: line, Msg: "invalid YAML: " + msg}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, bench.InputErrors{{File: p.file, Line: extra.Line, Msg: "a suite file holds one YAML document, found another"}}
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return nil, bench.InputErrors{{File: p.file, Line: root.Line, Msg: "a suite file must be a mapping of keys (name, version, dataset, prompt, ...)"}}
	}
	return root, nil
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// entry is one key of a mapping with the line of the key.
type entry struct {
	key   string
	line  int
	value *yaml.Node
}

// mapping returns the entries of a mapping node, reporting keys that are
// not scalars, duplicate keys and keys not in allowed (nil allows any key).
// Field is the dotted name of the mapping, "" at the top level.
func (p *parser) mapping(n *yaml.Node, field string, allowed []string) []entry {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, field, "must be a mapping, found %s", kindName(n))
		return nil
	}
	var out []entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, field, "a key must be a plain name, found %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, field, "duplicate key %q (first at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.errorf(k.Line, field, "unknown key %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, entry{key: k.Value, line: k.Line, value: v})
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// str reads a scalar as text: strings, numbers and booleans are accepted
// (a column of a headerless file may be named 0), a null is "".
func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, field, "must be a string, found %s", kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// nonEmpty reads a scalar that must not be empty.
func (p *parser) nonEmpty(n *yaml.Node, field string) (string, bool) {
	v, ok := p.str(n, field)
	if ok && strings.TrimSpace(v) == "" {
		p.errorf(deref(n).Line, field, "must not be empty")
		return "", false
	}
	return v, ok
}

// integer reads an integer of at least min.
func (p *parser) integer(n *yaml.Node, field string, min int) (int, bool) {
	n = deref(n)
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		if min == math.MinInt {
			p.errorf(n.Line, field, "must be an integer, found %s", kindName(n))
		} else {
			p.errorf(n.Line, field, "must be an integer ≥ %d, found %s", min, kindName(n))
		}
		return 0, false
	}
	if v < min {
		p.errorf(n.Line, field, "must be an integer ≥ %d, found %d", min, v)
		return 0, false
	}
	return v, true
}

// number reads a finite number.
func (p *parser) number(n *yaml.Node, field string) (float64, bool) {
	n = deref(n)
	var v float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n.Line, field, "must be a number, found %s", kindName(n))
		return 0, false
	}
	return v, true
}

// boolean reads true or false.
func (p *parser) boolean(n *yaml.Node, field string) (bool, bool) {
	n = deref(n)
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		p.errorf(n.Line, field, "must be true or false, found %s", kindName(n))
		return false, false
	}
	return v, true
}

// strings reads a list of distinct strings that are not blank.
func (p *parser) strings(n *yaml.Node, field string) ([]string, bool) {
	return p.list(n, field, false)
}

// list reads a list of distinct, non-empty strings; blank allows strings
// of white space only.
func (p *parser) list(n *yaml.Node, field string, blank bool) ([]string, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, field, "must be a list of strings, found %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	seen := map[string]int{}
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		v, good := p.str(item, f)
		if good && (v == "" || !blank && strings.TrimSpace(v) == "") {
			p.errorf(deref(item).Line, f, "must not be empty")
			good = false
		}
		if !good {
			ok = false
			continue
		}
		if first, dup := seen[v]; dup {
			p.errorf(deref(item).Line, f, "duplicate %q (first at line %d)", v, first)
			ok = false
			continue
		}
		seen[v] = deref(item).Line
		out = append(out, v)
	}
	return out, ok
}

func (p *parser) suite(root *yaml.Node) {
	s := p.s
	var promptLine int
	hasPrompt := false
	for _, e := range p.mapping(root, "", topKeys) {
		s.lines[e.key] = e.line
		switch e.key {
		case "name":
			s.Name, _ = p.nonEmpty(e.value, "name")
			if strings.ContainsAny(s.Name, " \t\n/\\") {
				p.errorf(e.line, "name", "must be one word without spaces or slashes, found %q", s.Name)
			}
		case "version":
			s.Version, _ = p.integer(e.value, "version", 1)
		case "description":
			s.Description, _ = p.str(e.value, "description")
		case "dataset":
			p.dataset(e)
		case "prompt":
			hasPrompt = true
			promptLine = e.line
			s.Prompt, _ = p.nonEmpty(e.value, "prompt")
		case "system":
			s.System, _ = p.str(e.value, "system")
		case "attacks":
			p.attacks(e)
		case "judges":
			p.judges(e)
		case "params":
			p.params(e)
		case "epochs":
			s.Epochs, _ = p.integer(e.value, "epochs", 1)
		case "personas":
			s.Personas, _ = p.strings(e.value, "personas")
		case "higher_is_better":
			s.HigherIsBetter = map[string]bool{}
			for _, m := range p.mapping(e.value, "higher_is_better", nil) {
				if v, ok := p.boolean(m.value, "higher_is_better."+m.key); ok {
					s.HigherIsBetter[m.key] = v
				}
			}
		}
	}
	for _, k := range []string{"name", "version", "dataset"} {
		if _, ok := s.lines[k]; !ok {
			p.errorf(root.Line, "", "missing required key %q", k)
		}
	}
	ad, hasAdapter := adapt.Lookup(s.Dataset.Adapter)
	switch {
	case !hasPrompt && hasAdapter && ad.Prompt != "":
		s.Prompt = ad.Prompt
	case !hasPrompt && (s.Dataset.Fields.Messages != "" || hasAdapter && ad.Messages):
		s.Prompt = DefaultPrompt
	case !hasPrompt && hasAdapter:
		p.errorf(root.Line, "", `missing required key "prompt" (a Go template such as "{{.input}}"; the adapter %s gives no prompt of its own)`, ad.Name)
	case !hasPrompt:
		p.errorf(root.Line, "", `missing required key "prompt" (a Go template such as "{{.input}}"; it may be left out only when dataset.fields maps messages)`)
	}
	if s.Prompt != "" {
		t, err := compilePrompt(s.Prompt)
		if err != nil {
			p.errorf(promptLine, "prompt", "%s", err.Error())
		} else {
			s.tmpl = t
		}
	}
}

// compilePrompt parses a prompt template; an error message says where in
// the template the problem is.
func compilePrompt(prompt string) (*template.Template, error) {
	t, err := template.New("prompt").Option("missingkey=error").Parse(prompt)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: ")
		if m := tmplLine.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("%s (line %s of the template)", m[2], m[1])
		}
		return nil, errors.New("bad template: " + msg)
	}
	return t, nil
}

func (p *parser) dataset(e entry) {
	d := &p.s.Dataset
	hasPath := false
	for _, m := range p.mapping(e.value, "dataset", datasetKeys) {
		f := "dataset." + m.key
		p.s.lines[f] = m.line
		switch m.key {
		case "path":
			hasPath = true
			d.Path, _ = p.nonEmpty(m.value, f)
		case "id":
			d.ID, _ = p.nonEmpty(m.value, f)
		case "header":
			if v, ok := p.boolean(m.value, f); ok {
				d.Header = &v
			}
		case "columns":
			d.Columns, _ = p.strings(m.value, f)
		case "adapter":
			if v, ok := p.nonEmpty(m.value, f); ok {
				if _, known := adapt.Lookup(v); known {
					d.Adapter = v
				} else {
					p.errorf(m.line, f, "unknown adapter %q (known: %s)", v, strings.Join(adapt.Names(), ", "))
				}
			}
		case "fields":
			for _, fm := range p.mapping(m.value, f, fieldKeys) {
				ff := f + "." + fm.key
				p.s.lines[ff] = fm.line
				v, _ := p.nonEmpty(fm.value, ff)
				switch fm.key {
				case "input":
					d.Fields.Input = v
				case "messages":
					d.Fields.Messages = v
				case "target":
					d.Fields.Target = v
				case "choices":
					d.Fields.Choices = v
				case "response":
					d.Fields.Response = v
				}
			}
			if d.Fields.Input != "" && d.Fields.Messages != "" {
				p.errorf(p.s.lines[f+".messages"], f, "input and messages are exclusive: map the user prompt to one of them")
			}
		}
	}
	if !hasPath && deref(e.value).Kind == yaml.MappingNode {
		p.errorf(e.line, "dataset", `missing required key "path"`)
	}
	if d.Adapter != "" {
		for _, k := range []string{"id", "fields", "header", "columns"} {
			if line, ok := p.s.lines["dataset."+k]; ok {
				p.errorf(line, "dataset."+k, "not used with dataset.adapter: the adapter %s reads the columns itself", d.Adapter)
			}
		}
	}
}

// attacks reads the attack specs and resolves each through package attack,
// so that an unknown attack or a bad template file is reported with the
// line of the suite file that names it.
func (p *parser) attacks(e entry) {
	specs, ok := p.strings(e.value, "attacks")
	p.s.Attacks = specs
	if !ok {
		return
	}
	p.s.attacks = []attack.Attack{}
	for i, spec := range specs {
		as, err := attack.ResolveWith(spec, attack.Options{Dir: p.s.Dir})
		if err != nil {
			var ie *bench.InputError
			if errors.As(err, &ie) && ie.File != "" {
				p.errs = append(p.errs, ie)
			} else if ie != nil {
				p.errorf(deref(e.value).Content[i].Line, fmt.Sprintf("attacks[%d]", i), "%s", ie.Msg)
			} else {
				p.errorf(deref(e.value).Content[i].Line, fmt.Sprintf("attacks[%d]", i), "%v", err)
			}
			continue
		}
		p.s.attacks = append(p.s.attacks, as...)
	}
}

func (p *parser) judges(e entry) {
	n := deref(e.value)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "judges", "must be a list of judge names or {name: ..., options} mappings, found %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		p.errorf(e.line, "judges", "must name at least one judge (leave the key out for none)")
		return
	}
	p.s.Judges = []bench.JudgeSpec{}
	for i, item := range n.Content {
		f := fmt.Sprintf("judges[%d]", i)
		item = deref(item)
		switch item.Kind {
		case yaml.ScalarNode:
			if name, ok := p.nonEmpty(item, f); ok {
				p.s.Judges = append(p.s.Judges, bench.JudgeSpec{Name: name, Line: item.Line})
			}
		case yaml.MappingNode:
			spec := bench.JudgeSpec{Line: item.Line}
			named := false
			for _, m := range p.mapping(item, f, nil) {
				if m.key == "name" {
					named = true
					spec.Name, _ = p.nonEmpty(m.value, f+".name")
					continue
				}
				var v any
				if err := m.value.Decode(&v); err != nil {
					p.errorf(m.line, f+"."+m.key, "%v", err)
					continue
				}
				if spec.Options == nil {
					spec.Options = map[string]any{}
				}
				spec.Options[m.key] = v
			}
			if !named {
				p.errorf(item.Line, f, `missing required key "name"`)
			}
			if spec.Name == "" {
				continue
			}
			p.s.Judges = append(p.s.Judges, spec)
		default:
			p.errorf(item.Line, f, "must be a judge name or a {name: ..., options} mapping, found %s", kindName(item))
		}
	}
}

func (p *parser) params(e entry) {
	g := &p.s.Params
	for _, m := range p.mapping(e.value, "params", paramKeys) {
		f := "params." + m.key
		switch m.key {
		case "temperature":
			if v, ok := p.number(m.value, f); ok {
				if v < 0 {
					p.errorf(m.line, f, "must be ≥ 0, found %g", v)
				} else {
					g.Temperature = &v
				}
			}
		case "top_p":
			if v, ok := p.number(m.value, f); ok {
				if v <= 0 || v > 1 {
					p.errorf(m.line, f, "must be in (0, 1], found %g", v)
				} else {
					g.TopP = &v
				}
			}
		case "max_tokens":
			g.MaxTokens, _ = p.integer(m.value, f, 1)
		case "seed":
			if v, ok := p.integer(m.value, f, math.MinInt); ok {
				g.Seed = &v
			}
		case "stop":
			if n := deref(m.value); n.Kind == yaml.ScalarNode {
				if v, ok := p.str(n, f); ok && v != "" {
					g.Stop = []string{v}
				} else if ok {
					p.errorf(n.Line, f, "must not be empty")
				}
			} else {
				g.Stop, _ = p.list(m.value, f, true)
			}
		}
	}
}
