package judges

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/harm"
	"github.com/mores-eval/mores/judges/llm"
	"github.com/mores-eval/mores/judges/mc"
	"github.com/mores-eval/mores/judges/panel"
	"github.com/mores-eval/mores/judges/society"
)

func init() {
	Register("harm", func(spec bench.JudgeSpec, _ Env) (any, error) {
		return harm.New(spec.Options)
	})
	Register("rubric", llmFactory(func(m bench.Model, o llm.Options) (any, error) { return llm.NewRubric(m, o) }))
	Register("jailbreak", llmFactory(func(m bench.Model, o llm.Options) (any, error) { return llm.NewJailbreak(m, o) }))
	Register("pairwise", llmFactory(func(m bench.Model, o llm.Options) (any, error) { return llm.NewPairwise(m, o) }))
	Register("persona-panel", newSociety)
	Register("society", func(spec bench.JudgeSpec, env Env) (any, error) {
		if env.Warn != nil {
			env.Warn("judge society is now named persona-panel: it is a panel of persona prompts, not SANDBOX (`mores sandbox` runs SANDBOX); its scores keep the name given, %s", spec.Name)
		}
		return newSociety(spec, env)
	})
	Register("panel", newPanel)
	Register("mc", newMC)
}

// decodeOptions fills dst (a pointer to a struct with json tags) from a
// judge's options; an unknown option is an error naming it.
func decodeOptions(spec bench.JudgeSpec, dst any) error {
	if len(spec.Options) == 0 {
		return nil
	}
	b, err := json.Marshal(spec.Options)
	if err != nil {
		return &bench.InputError{Field: "judges." + spec.Name, Msg: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "json: ")
		if strings.HasPrefix(msg, "unknown field ") {
			msg = "unknown option " + strings.TrimPrefix(msg, "unknown field ")
		}
		return &bench.InputError{Field: "judges." + spec.Name, Msg: msg}
	}
	return nil
}

// llmOptions are the options every LLM judge takes.
type llmOptions struct {
	Model       string   `json:"model"`
	Temperature *float64 `json:"temperature"`
	Seed        *int     `json:"seed"`
	MaxTokens   int      `json:"max_tokens"`
	Persona     string   `json:"persona"`
}

func (o llmOptions) options(name string) llm.Options {
	lo := llm.Options{Name: name, MaxTokens: o.MaxTokens, Persona: o.Persona}
	if o.Temperature != nil {
		lo.Temperature = *o.Temperature
	}
	if o.Seed != nil {
		lo.Seed = *o.Seed
	}
	return lo
}

// judgeModel resolves the model an LLM judge asks; "judge" (the default)
// means the run's --judge-model.
func judgeModel(spec bench.JudgeSpec, env Env, name string) (bench.Model, error) {
	if name == "" {
		name = "judge"
	}
	if env.Model == nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".model", Msg: "no judge model is configured (pass --judge-model)"}
	}
	m, err := env.Model(name)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".model", Msg: "no judge model is configured (pass --judge-model)"}
	}
	return m, nil
}

func llmFactory(build func(bench.Model, llm.Options) (any, error)) Factory {
	return func(spec bench.JudgeSpec, env Env) (any, error) {
		var o llmOptions
		if err := decodeOptions(spec, &o); err != nil {
			return nil, err
		}
		m, err := judgeModel(spec, env, o.Model)
		if err != nil {
			return nil, err
		}
		name := spec.Name
		if o.Model != "" && o.Model != "judge" {
			name = spec.Name + "@" + o.Model
		}
		return build(m, o.options(name))
	}
}

type societyOptions struct {
	llmOptions
	Peers            int      `json:"peers"`
	Personas         []string `json:"personas"`
	Observers        int      `json:"observers"`
	ObserverPersonas []string `json:"observer_personas"`
	Revise           bool     `json:"revise"`
	Concurrency      int      `json:"concurrency"`
}

// newSociety builds the society judge. With revise, the model under test
// revises its answer, so one society is kept per model under test.
func newSociety(spec bench.JudgeSpec, env Env) (any, error) {
	var o societyOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	m, err := judgeModel(spec, env, o.Model)
	if err != nil {
		return nil, err
	}
	so := society.Options{Name: spec.Name, Peers: o.Peers, Personas: o.Personas, Observers: o.Observers,
		ObserverPersonas: o.ObserverPersonas, Revise: o.Revise, Concurrency: o.Concurrency, MaxTokens: o.MaxTokens}
	if o.Temperature != nil {
		so.Temperature = *o.Temperature
	}
	if o.Seed != nil {
		so.Seed = *o.Seed
	}
	if !o.Revise {
		s, err := society.New(m, so)
		if err != nil {
			return nil, &bench.InputError{Field: "judges." + spec.Name, Msg: err.Error()}
		}
		return s, nil
	}
	if env.Subject == nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".revise", Msg: "revise needs the models under test (available in mores run)"}
	}
	// Validate the options once.
	if _, err := society.New(m, so); err != nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name, Msg: err.Error()}
	}
	return &perSubject{name: spec.Name, judge: m, opt: so, subject: env.Subject, byModel: map[string]*society.Society{}}, nil
}

// perSubject keeps one revising society per model under test.
type perSubject struct {
	name    string
	judge   bench.Model
	opt     society.Options
	subject func(string) (bench.Model, error)
	mu      sync.Mutex
	byModel map[string]*society.Society
}

func (p *perSubject) Name() string { return p.name }

func (p *perSubject) Score(ctx context.Context, t bench.Trial, c bench.Completion) ([]bench.Score, error) {
	p.mu.Lock()
	s, ok := p.byModel[t.Model]
	if !ok {
		subj, err := p.subject(t.Model)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		o := p.opt
		o.Subject = subj
		s, err = society.New(p.judge, o)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.byModel[t.Model] = s
	}
	p.mu.Unlock()
	return s.Score(ctx, t, c)
}

type panelOptions struct {
	// Members are judge specs (names or {name: ..., options}).
	Members []any `json:"members"`
	// Judge and Models: one LLM judge kind asked through several models.
	Judge  string   `json:"judge"`
	Models []string `json:"models"`
	Agg    string   `json:"agg"`
}

func newPanel(spec bench.JudgeSpec, env Env) (any, error) {
	var o panelOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	var specs []bench.JudgeSpec
	for _, m := range o.Members {
		switch v := m.(type) {
		case string:
			specs = append(specs, bench.JudgeSpec{Name: v, Line: spec.Line})
		case map[string]any:
			name, _ := v["name"].(string)
			opts := map[string]any{}
			for k, x := range v {
				if k != "name" {
					opts[k] = x
				}
			}
			specs = append(specs, bench.JudgeSpec{Name: name, Options: opts, Line: spec.Line})
		default:
			return nil, &bench.InputError{Field: "judges.panel.members", Msg: fmt.Sprintf("a member must be a judge name or a mapping, not %T", m)}
		}
	}
	if o.Judge != "" {
		if len(o.Models) == 0 {
			return nil, &bench.InputError{Field: "judges.panel.models", Msg: "judge needs a list of models"}
		}
		for _, m := range o.Models {
			specs = append(specs, bench.JudgeSpec{Name: o.Judge, Options: map[string]any{"model": m}, Line: spec.Line})
		}
	}
	if len(specs) < 2 {
		return nil, &bench.InputError{Field: "judges.panel", Msg: "a panel needs at least two members (members: [...], or judge: NAME with models: [...])"}
	}
	var members []bench.Judge
	for _, s := range specs {
		if s.Name == "panel" {
			return nil, &bench.InputError{Field: "judges.panel.members", Msg: "a panel cannot hold a panel"}
		}
		j, err := New(s, env)
		if err != nil {
			return nil, err
		}
		jj, ok := j.(bench.Judge)
		if !ok {
			return nil, &bench.InputError{Field: "judges.panel.members", Msg: s.Name + " compares two models and cannot sit on a panel"}
		}
		members = append(members, jj)
	}
	agg := o.Agg
	if agg == "" {
		agg = panel.Mean
	}
	p, err := panel.New(members, agg)
	if err != nil {
		return nil, &bench.InputError{Field: "judges.panel", Msg: err.Error()}
	}
	return p, nil
}

type mcOptions struct {
	Method      string `json:"method"`
	Prompt      string `json:"prompt"`
	Concurrency int    `json:"concurrency"`
}

// newMC builds the judge mc, which scores the options of a multiple-choice
// sample by the log-probabilities of the model under test.
func newMC(spec bench.JudgeSpec, env Env) (any, error) {
	var o mcOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	if o.Method != "" && o.Method != "logprobs" {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".method",
			Msg: fmt.Sprintf("unknown method %q: mc scores by logprobs (for the answer letter a model generates, use the judge choice)", o.Method)}
	}
	if env.Subject == nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name, Msg: "mc asks the models under test to score the options, which only mores run can do"}
	}
	j, err := mc.New(env.Subject, mc.Options{Name: spec.Name, Prompt: o.Prompt, Concurrency: o.Concurrency})
	if err != nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name, Msg: err.Error()}
	}
	return j, nil
}
