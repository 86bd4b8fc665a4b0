package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/openai"
	"go.yaml.in/yaml/v3"
)

// fileConfig is mores.yaml: named models, the judge model and defaults. It
// never holds a secret: a model names the environment variable that holds
// its key (api_key_env), and `api_key` is refused.
type fileConfig struct {
	Models     map[string]modelConfig `yaml:"models" json:"models,omitempty"`
	JudgeModel string                 `yaml:"judge_model" json:"judge_model,omitempty"`
	Defaults   defaultsConfig         `yaml:"defaults" json:"defaults"`

	// path is the file read, and lines the line of each model's
	// api_key_env, for the messages about them.
	path  string
	lines map[string]int
}

type defaultsConfig struct {
	Concurrency  int      `yaml:"concurrency" json:"concurrency,omitempty"`
	Epochs       int      `yaml:"epochs" json:"epochs,omitempty"`
	Seed         *int64   `yaml:"seed" json:"seed,omitempty"`
	Out          string   `yaml:"out" json:"out,omitempty"`
	MaxErrorRate *float64 `yaml:"max_error_rate" json:"max_error_rate,omitempty"`
}

// modelConfig is one named model of mores.yaml.
type modelConfig struct {
	// Spec is a model spec (openai:MODEL[@URL], sim:KIND, replay:[PATH]);
	// the fields below refine it.
	Spec        string   `yaml:"spec" json:"spec,omitempty"`
	Model       string   `yaml:"model" json:"model,omitempty"`
	BaseURL     string   `yaml:"base_url" json:"base_url,omitempty"`
	APIKeyEnv   string   `yaml:"api_key_env" json:"api_key_env,omitempty"`
	APIKey      string   `yaml:"api_key" json:"-"`
	Temperature *float64 `yaml:"temperature" json:"temperature,omitempty"`
	TopP        *float64 `yaml:"top_p" json:"top_p,omitempty"`
	MaxTokens   int      `yaml:"max_tokens" json:"max_tokens,omitempty"`
	Seed        *int     `yaml:"seed" json:"seed,omitempty"`
	Stop        []string `yaml:"stop" json:"stop,omitempty"`
	Concurrency int      `yaml:"concurrency" json:"concurrency,omitempty"`
	RPM         float64  `yaml:"rpm" json:"rpm,omitempty"`
	Timeout     string   `yaml:"timeout" json:"timeout,omitempty"`
	MaxRetries  *int     `yaml:"max_retries" json:"max_retries,omitempty"`
	BackoffBase string   `yaml:"backoff_base" json:"backoff_base,omitempty"`
	BackoffMax  string   `yaml:"backoff_max" json:"backoff_max,omitempty"`
	Completions bool     `yaml:"completions" json:"completions,omitempty"`
	// PromptFormat renders conversations for the completions endpoint:
	// plain, alpaca, chatml, llama2, or an inline Go template over .System,
	// .Prompt and .Messages.
	PromptFormat string `yaml:"prompt_format" json:"prompt_format,omitempty"`
	// Price is the model's price in USD per million tokens, {input, output};
	// it replaces the default price of a well-known OpenAI model.
	Price *bench.Price `yaml:"price" json:"price,omitempty"`
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// loadConfig reads a mores.yaml strictly: unknown keys are errors, each
// reported with its line.
func loadConfig(path string) (*fileConfig, error) {
	var cfg fileConfig
	if path == "" {
		return &cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &bench.InputError{File: path, Msg: err.Error()}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlErr(path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// Every problem at once, in the suite files' words: unknown keys, then
	// values of the wrong type.
	errs := unknownConfigKeys(path, &root)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
		if te, ok := err.(*yaml.TypeError); ok {
			for _, m := range te.Errors {
				errs = append(errs, yamlErr(path, m))
			}
		} else {
			errs = append(errs, yamlErr(path, strings.TrimPrefix(err.Error(), "yaml: ")))
		}
	}
	cfg.path, cfg.lines = path, map[string]int{}
	for name, m := range cfg.Models {
		cfg.lines[name+".api_key_env"] = keyLine(&root, "models", name, "api_key_env")
		if m.APIKey != "" {
			errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "api_key"), Field: "models." + name + ".api_key",
				Msg: "an API key does not belong in a file; name the environment variable that holds it with api_key_env"})
		}
		for key, v := range map[string]string{"timeout": m.Timeout, "backoff_base": m.BackoffBase, "backoff_max": m.BackoffMax} {
			if v == "" {
				continue
			}
			if d, err := time.ParseDuration(v); err != nil || d < 0 {
				msg := "want a duration such as 30s"
				if err != nil {
					msg = err.Error()
				}
				errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, key), Field: "models." + name + "." + key, Msg: msg})
			}
		}
		if m.PromptFormat != "" {
			if _, err := openai.ParsePromptFormat(m.PromptFormat); err != nil {
				msg := err.Error()
				var ie *bench.InputError
				if errors.As(err, &ie) {
					msg = ie.Msg
				}
				errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "prompt_format"), Field: "models." + name + ".prompt_format", Msg: msg})
			}
		}
		if m.BaseURL != "" {
			if msg := openai.BadBaseURL(m.BaseURL); msg != "" {
				errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "base_url"), Field: "models." + name + ".base_url",
					Msg: msg + " (want e.g. http://localhost:8000/v1)"})
			}
		}
		if strings.HasPrefix(m.Spec, "openai:") {
			if _, err := openai.ParseSpec(m.Spec, nil); err != nil {
				msg := err.Error()
				var ie *bench.InputError
				if errors.As(err, &ie) {
					msg = ie.Msg
				}
				errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "spec"), Field: "models." + name + ".spec", Msg: msg})
			}
		}
		if p := m.Price; p != nil && !(p.Input >= 0 && p.Output >= 0 && !math.IsInf(p.Input, 0) && !math.IsInf(p.Output, 0)) {
			errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "price"), Field: "models." + name + ".price",
				Msg: "want {input: USD, output: USD} per million tokens, neither negative"})
		}
		if m.Spec == "" && m.Model == "" {
			errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name), Field: "models." + name, Msg: "needs spec or model"})
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return &cfg, nil
}

// yamlKeys returns the YAML keys of a struct type's fields.
func yamlKeys(v any) []string {
	t := reflect.TypeOf(v)
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownConfigKeys reports every key of a mores.yaml that Mores does not
// know, with its line and the keys allowed there.
func unknownConfigKeys(path string, root *yaml.Node) bench.InputErrors {
	var errs bench.InputErrors
	check := func(n *yaml.Node, field string, allowed []string, each func(key string, v *yaml.Node)) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if allowed != nil && !slices.Contains(allowed, k.Value) {
				errs = append(errs, &bench.InputError{File: path, Line: k.Line, Field: field,
					Msg: fmt.Sprintf("unknown key %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))})
				continue
			}
			if each != nil {
				each(k.Value, n.Content[i+1])
			}
		}
	}
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	check(doc, "", yamlKeys(fileConfig{}), func(key string, v *yaml.Node) {
		switch key {
		case "models":
			check(v, "models", nil, func(name string, m *yaml.Node) {
				check(m, "models."+name, yamlKeys(modelConfig{}), nil)
			})
		case "defaults":
			check(v, "defaults", yamlKeys(defaultsConfig{}), nil)
		}
	})
	return errs
}

func yamlErr(path, msg string) *bench.InputError {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &bench.InputError{File: path, Line: line, Msg: m[2]}
	}
	return &bench.InputError{File: path, Msg: msg}
}

// keyLine finds the line of a nested key in a YAML document.
func keyLine(n *yaml.Node, path ...string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// params returns the sampling parameters of a model config.
func (m modelConfig) params() bench.GenParams {
	return bench.GenParams{Temperature: m.Temperature, TopP: m.TopP, MaxTokens: m.MaxTokens, Seed: m.Seed, Stop: m.Stop}
}

func duration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

func describeModel(name string, m modelConfig) string {
	if m.Spec != "" {
		return m.Spec
	}
	s := "openai:" + m.Model
	if m.BaseURL != "" {
		s += "@" + m.BaseURL
	}
	return fmt.Sprintf("%s (config %s)", s, name)
}
