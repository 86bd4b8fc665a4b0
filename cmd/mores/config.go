package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
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
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
		var errs bench.InputErrors
		if te, ok := err.(*yaml.TypeError); ok {
			for _, m := range te.Errors {
				errs = append(errs, yamlErr(path, m))
			}
			return nil, errs
		}
		return nil, yamlErr(path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs bench.InputErrors
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root)
	for name, m := range cfg.Models {
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
		if p := m.Price; p != nil && !(p.Input >= 0 && p.Output >= 0 && !math.IsInf(p.Input, 0) && !math.IsInf(p.Output, 0)) {
			errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name, "price"), Field: "models." + name + ".price",
				Msg: "want {input: USD, output: USD} per million tokens, neither negative"})
		}
		if m.Spec == "" && m.Model == "" {
			errs = append(errs, &bench.InputError{File: path, Line: keyLine(&root, "models", name), Field: "models." + name, Msg: "needs spec or model"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &cfg, nil
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
