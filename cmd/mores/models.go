package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/bench/provider/replay"
	"github.com/mores-eval/mores/bench/provider/sim"
)

// modelResolver turns model specs and config names into models.
type modelResolver struct {
	cfg    *fileConfig
	getenv func(string) string
	warn   func(string, ...any)
	cache  map[string]bench.Model
}

// resolve returns the model for a spec or a config name, and the spec to
// record in the manifest (never a secret).
func (r *modelResolver) resolve(spec string) (bench.Model, string, error) {
	if m, ok := r.cache[spec]; ok {
		return m, r.describe(spec), nil
	}
	m, err := r.build(spec)
	if err != nil {
		return nil, "", err
	}
	if r.cache == nil {
		r.cache = map[string]bench.Model{}
	}
	r.cache[spec] = m
	return m, r.describe(spec), nil
}

func (r *modelResolver) describe(spec string) string {
	if mc, ok := r.cfg.Models[spec]; ok {
		return bench.RedactURL(describeModel(spec, mc))
	}
	return bench.RedactURL(spec)
}

func (r *modelResolver) build(spec string) (bench.Model, error) {
	if mc, ok := r.cfg.Models[spec]; ok {
		return r.fromConfig(spec, mc)
	}
	kind, rest, _ := strings.Cut(spec, ":")
	switch kind {
	case "sim":
		m, err := sim.New(rest)
		if err != nil {
			return nil, usagef("--model %s: %v", bench.RedactURL(spec), err)
		}
		return m, nil
	case "openai":
		cfg, err := openai.ParseSpec(spec, r.getenv)
		if err != nil {
			// The error names --model and the spec (without its credentials).
			return nil, err
		}
		if err := requireKey(spec, cfg); err != nil {
			return nil, err
		}
		return openai.New(cfg)
	case "replay":
		m, err := replay.New(rest, r.warn)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	known := make([]string, 0, len(r.cfg.Models))
	for k := range r.cfg.Models {
		known = append(known, k)
	}
	return nil, usagef("model %q: unknown spec (want openai:MODEL[@BASE_URL], sim:baseline, sim:aligned, sim:judge, replay:[PATH], or a model named in --config%s)",
		bench.RedactURL(spec), knownSuffix(known))
}

func knownSuffix(known []string) string {
	if len(known) == 0 {
		return ""
	}
	return ": " + strings.Join(known, ", ")
}

func (r *modelResolver) fromConfig(name string, mc modelConfig) (bench.Model, error) {
	spec := mc.Spec
	if spec == "" {
		spec = "openai:" + mc.Model
		if mc.BaseURL != "" {
			spec += "@" + mc.BaseURL
		}
	}
	if !strings.HasPrefix(spec, "openai:") {
		if mc.PromptFormat != "" || mc.Completions {
			return nil, usagef("model %s: completions and prompt_format apply to openai models, not %q", name, spec)
		}
		if _, ok := r.cfg.Models[spec]; ok {
			return nil, usagef("model %s: spec %q names another config model; give a provider spec", name, spec)
		}
		return r.build(spec)
	}
	cfg, err := openai.ParseSpec(spec, r.getenv)
	if err != nil {
		return nil, usagef("model %s: %v", name, err)
	}
	if mc.Model != "" {
		cfg.Model = mc.Model
	}
	if mc.BaseURL != "" {
		cfg.BaseURL = mc.BaseURL
	}
	if mc.APIKeyEnv != "" {
		cfg.APIKey = r.getenv(mc.APIKeyEnv)
		if cfg.APIKey == "" {
			return nil, &bench.InputError{File: r.cfg.path, Line: r.cfg.lines[name+".api_key_env"], Field: "models." + name + ".api_key_env",
				Msg: fmt.Sprintf("the environment variable %s is not set (export %s=… with the key, or remove api_key_env for an endpoint without one)", mc.APIKeyEnv, mc.APIKeyEnv)}
		}
	}
	cfg.Params = mc.params()
	cfg.Concurrency = mc.Concurrency
	cfg.RPM = mc.RPM
	if d := duration(mc.Timeout); d > 0 {
		cfg.Timeout = d
	}
	cfg.BackoffBase = duration(mc.BackoffBase)
	cfg.BackoffMax = duration(mc.BackoffMax)
	if mc.MaxRetries != nil {
		cfg.MaxRetries = *mc.MaxRetries
	}
	cfg.Completions = mc.Completions
	cfg.PromptFormat = mc.PromptFormat
	if err := requireKey(name, cfg); err != nil {
		return nil, err
	}
	m, err := openai.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}

// requireKey refuses, before anything is sent, a model of OpenAI's own API
// without an API key: every request would fail with 401. Other endpoints
// (vLLM, llama.cpp, Ollama) need none.
func requireKey(name string, cfg openai.Config) error {
	base := cfg.BaseURL
	if base == "" {
		base = openai.DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || cfg.APIKey != "" || !strings.EqualFold(u.Hostname(), "api.openai.com") {
		return nil
	}
	return usagef("model %s: no API key for %s: set OPENAI_API_KEY (or api_key_env in --config), or name another endpoint with openai:MODEL@URL; nothing was sent",
		bench.RedactURL(name), u.Redacted())
}

// price returns the price of a model under test: the price its config
// entry gives, else the default price of its OpenAI model name, else nil.
func (r *modelResolver) price(spec string, m bench.Model) *bench.Price {
	if mc, ok := r.cfg.Models[spec]; ok && mc.Price != nil {
		p := *mc.Price
		return &p
	}
	if om, ok := m.(*openai.Model); ok {
		if p, ok := bench.DefaultPrice(om.Config().Model); ok {
			return &p
		}
	}
	return nil
}
