package suites

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	tparse "text/template/parse"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/datasets/adapt"
)

// Mapping returns the dataset field mapping in the form datasets.Load
// takes. When the suite maps neither input nor messages, the input is the
// column named "input".
func (s *Suite) Mapping() datasets.Mapping {
	f := s.Dataset.Fields
	m := datasets.Mapping{ID: s.Dataset.ID, Input: f.Input, Messages: f.Messages, Target: f.Target, Choices: f.Choices, Response: f.Response}
	if m.Input == "" && m.Messages == "" {
		m.Input = "input"
	}
	return m
}

// DatasetPath returns the dataset path with a relative file path resolved
// against the suite's Dir; builtin: and hf: paths and absolute paths are
// returned as they are.
func (s *Suite) DatasetPath() string {
	p := s.Dataset.Path
	if !isLocal(p) || filepath.IsAbs(p) || s.Dir == "" {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// isLocal reports whether a dataset path names a file on disk.
func isLocal(p string) bool {
	return !strings.HasPrefix(p, builtinPrefix) && !strings.HasPrefix(p, "hf:") && !strings.Contains(p, "://")
}

// Samples loads the suite's dataset: through its adapter (adapt.Load) when
// dataset.adapter names one, else through datasets.Load with the suite's
// field mapping, header and column options. Warn, if not nil, receives the
// loader's warnings. A missing local dataset file is a *bench.InputError
// at the suite file's dataset.path line that names the file; errors in the
// data are the loader's, naming the data file and line. Adapters shuffle
// choices with seed 0, so that every run asks the same items.
func (s *Suite) Samples(warn func(string, ...any)) ([]bench.Sample, error) {
	p := s.DatasetPath()
	if isLocal(p) {
		st, err := os.Stat(p)
		msg := ""
		switch {
		case errors.Is(err, os.ErrNotExist):
			msg = fmt.Sprintf("the dataset file %s does not exist", p)
		case err != nil:
			// A symlink loop, a folder without permission, ….
			msg = fmt.Sprintf("the dataset file %s cannot be read: %v", p, pathErrText(err))
		case st.IsDir():
			msg = fmt.Sprintf("the dataset path %s is a directory, not a file", p)
		}
		if msg != "" {
			return nil, &bench.InputError{File: s.File, Line: s.Line("dataset.path"), Field: "dataset.path", Msg: msg}
		}
	}
	if s.Dataset.Adapter != "" {
		return adapt.Load(s.Dataset.Adapter, p, adapt.Options{Warn: warn})
	}
	return datasets.Load(p, s.Mapping(), datasets.Options{Header: s.Dataset.Header, Columns: s.Dataset.Columns, Warn: warn})
}

// WithDataset returns a copy of the suite s that reads the dataset at path
// (a file, relative to the working directory, or an hf: path) through the
// adapter named adapter, or, when adapter is "", the adapter adapt.Detect
// finds for the file. This is how a built-in suite runs on the real
// public dataset of its kind (mores run harmless --dataset FILE).
//
// The copy keeps the suite's name, version, system prompt, attacks, judges
// and parameters. When s is a built-in suite, the adapter must be one made
// for it (adapt.Adapter.Suites), and an adapter with a prompt of its own
// (the ETHICS adapters) replaces the suite's prompt. The copy's Hash
// covers the suite file, the adapter and the prompt (the data is hashed
// in the run manifest); its Description says which data it runs on.
//
// An unknown adapter, a missing file, a file no adapter recognises and an
// adapter that does not fit the built-in suite are *bench.InputError
// naming the dataset path.
func WithDataset(s *Suite, path, adapter string) (*Suite, error) {
	if strings.TrimSpace(path) == "" {
		return nil, &bench.InputError{File: s.File, Field: "dataset", Msg: "no dataset path given"}
	}
	if isLocal(path) {
		if st, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, &bench.InputError{File: path, Msg: "the dataset file does not exist"}
		} else if err != nil {
			return nil, &bench.InputError{File: path, Msg: "the dataset file cannot be read: " + pathErrText(err)}
		} else if st.IsDir() {
			return nil, &bench.InputError{File: path, Msg: "is a directory, not a dataset file"}
		}
	}
	if adapter == "" {
		name, err := adapt.Detect(path)
		if err != nil {
			return nil, err
		}
		adapter = name
	}
	ad, ok := adapt.Lookup(adapter)
	if !ok {
		return nil, &bench.InputError{File: path, Field: "adapter", Msg: fmt.Sprintf("unknown adapter %q (known: %s)", adapter, strings.Join(adapt.Names(), ", "))}
	}
	builtin := strings.HasPrefix(s.File, builtinPrefix)
	if builtin && !slices.Contains(ad.Suites, s.Name) {
		return nil, &bench.InputError{File: path, Field: "adapter", Msg: fmt.Sprintf(
			"the adapter %s makes samples for the suite %s, not for %s, whose prompt and judges would not fit them",
			adapter, strings.Join(ad.Suites, " or "), s.Name)}
	}
	cp := *s
	cp.Dataset = Dataset{Path: path, Adapter: adapter}
	cp.Dir = ""
	cp.lines = maps.Clone(s.lines)
	cp.Attacks, cp.attacks = slices.Clone(s.Attacks), slices.Clone(s.attacks)
	cp.Judges, cp.Personas = slices.Clone(s.Judges), slices.Clone(s.Personas)
	cp.HigherIsBetter = maps.Clone(s.HigherIsBetter)
	delete(cp.lines, "dataset.path")
	if builtin && ad.Prompt != "" {
		t, err := compilePrompt(ad.Prompt)
		if err != nil {
			return nil, fmt.Errorf("suites: the prompt of the adapter %s: %v", adapter, err)
		}
		cp.Prompt, cp.tmpl = ad.Prompt, t
	}
	sum := sha256.Sum256([]byte(s.Hash + "\x00adapter=" + adapter + "\x00prompt=" + cp.Prompt))
	cp.Hash = hex.EncodeToString(sum[:])
	note := fmt.Sprintf("Run on %s (adapter %s).", path, adapter)
	if cp.Description == "" {
		cp.Description = note
	} else {
		cp.Description = strings.TrimSpace(cp.Description) + " " + note
	}
	return &cp, nil
}

// Request turns a sample into the request sent to a model.
//
// The prompt template is executed over the sample's Fields (every column
// of its row as text), with these names set from the sample itself so that
// an attack that rewrote the sample is seen: input (Input, or the content
// of the last user message of a multi-turn sample), target, response and
// choices (one per line). When the sample has choices, options holds them
// lettered for a multiple-choice prompt ("A. first", "B. second", … one per
// line; see Options) unless the row has its own options column. A key
// that is missing is an error, naming the sample.
//
// A single-turn sample becomes one user message holding the rendered
// prompt. In a multi-turn sample (Messages), every turn is kept and the
// rendered prompt replaces the content of the last user turn; with the
// default prompt "{{.input}}" the conversation is sent unchanged.
//
// Request also sets the system prompt, the sampling parameters, SampleID
// and Sample (a copy of sm).
func (s *Suite) Request(sm bench.Sample) (bench.Request, error) {
	if s.tmpl == nil {
		return bench.Request{}, &bench.InputError{File: s.File, Field: "prompt", Msg: "the suite has no parsed prompt template (build suites with Parse, Load or Builtin)"}
	}
	last := -1
	for i := len(sm.Messages) - 1; i >= 0; i-- {
		if sm.Messages[i].Role == "user" {
			last = i
			break
		}
	}
	if len(sm.Messages) > 0 && last < 0 {
		return bench.Request{}, &bench.InputError{File: s.File, Field: "dataset.fields.messages", Msg: fmt.Sprintf("sample %s: the conversation has no user turn", sm.ID)}
	}
	data := make(map[string]string, len(sm.Fields)+5)
	for k, v := range sm.Fields {
		data[k] = v
	}
	switch {
	case sm.Input != "":
		data["input"] = sm.Input
	case last >= 0:
		data["input"] = sm.Messages[last].Content
	}
	if sm.Target != "" {
		data["target"] = sm.Target
	}
	if sm.Response != "" {
		data["response"] = sm.Response
	}
	if len(sm.Choices) > 0 {
		data["choices"] = strings.Join(sm.Choices, "\n")
		if _, ok := sm.Fields["options"]; !ok {
			data["options"] = Options(sm.Choices)
		}
	}
	var b strings.Builder
	if f := directField(s.tmpl); f != "" {
		if v, ok := data[f]; ok {
			// The template is {{.f}} alone: its output is the field, as
			// is (text/template escapes nothing), without running it.
			b.WriteString(v)
			goto rendered
		}
	}
	if err := s.tmpl.Execute(&b, data); err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: ")
		return bench.Request{}, &bench.InputError{File: s.File, Line: s.Line("prompt"), Field: "prompt",
			Msg: fmt.Sprintf("sample %s: %s (the sample has fields: %s)", sm.ID, msg, fieldNames(data))}
	}
rendered:
	prompt := b.String()
	var msgs []bench.Message
	if last >= 0 {
		msgs = append([]bench.Message(nil), sm.Messages...)
		msgs[last].Content = prompt
	} else {
		msgs = []bench.Message{{Role: "user", Content: prompt}}
	}
	// A conversation's own leading system message joins the suite's system
	// prompt (the suite's first), so that the model gets one system message:
	// many chat templates refuse a second.
	system := s.System
	for len(msgs) > 0 && msgs[0].Role == "system" {
		if system != "" && msgs[0].Content != "" {
			system += "\n\n"
		}
		system += msgs[0].Content
		msgs = msgs[1:]
	}
	cp := sm
	return bench.Request{
		System:   system,
		Messages: msgs,
		Params:   s.Params,
		SampleID: sm.ID,
		Sample:   &cp,
	}, nil
}

// fieldNames lists the keys a template may use, sorted.
func fieldNames(data map[string]string) string {
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Letter returns the label of the i-th option (from 0) of a multiple-choice
// prompt: A … Z, then AA, AB, ….
func Letter(i int) string {
	if i < 0 {
		return ""
	}
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// Options formats the choices of a multiple-choice item one per line, each
// after its letter: "A. first\nB. second".
func Options(choices []string) string {
	var b strings.Builder
	for i, c := range choices {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s. %s", Letter(i), c)
	}
	return b.String()
}

// directField returns NAME when the template is {{.NAME}} and nothing else
// (the common prompt), else "".
func directField(t *template.Template) string {
	if t == nil || t.Tree == nil || t.Tree.Root == nil || len(t.Tree.Root.Nodes) != 1 || len(t.Templates()) != 1 {
		return ""
	}
	a, ok := t.Tree.Root.Nodes[0].(*tparse.ActionNode)
	if !ok || a.Pipe == nil || len(a.Pipe.Decl) != 0 || len(a.Pipe.Cmds) != 1 || len(a.Pipe.Cmds[0].Args) != 1 {
		return ""
	}
	f, ok := a.Pipe.Cmds[0].Args[0].(*tparse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return ""
	}
	return f.Ident[0]
}

// pathErrText is the reason of a file system error, without the path the
// caller names anyway.
func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
