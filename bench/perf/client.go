package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

// clientEnv is the environment variable that turns this program into the
// minimal client: it holds a clientConfig as JSON.
const clientEnv = "MORES_PERF_CLIENT"

// clientConfig is what the minimal client sends: for every sample of the
// dataset, every model and every epoch, one chat completion request with
// the workload's system prompt, the sample's input as the user message,
// temperature 0 and max_tokens, with Concurrency requests in flight.
type clientConfig struct {
	URL         string   `json:"url"`
	Dataset     string   `json:"dataset"`
	Limit       int      `json:"limit,omitempty"`
	Models      []string `json:"models"`
	Epochs      int      `json:"epochs"`
	Concurrency int      `json:"concurrency"`
	System      string   `json:"system"`
	MaxTokens   int      `json:"max_tokens"`
}

// clientResult is what the minimal client prints on stdout.
type clientResult struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

// runClient is the minimal client: net/http and encoding/json, no retries,
// no journal, no judges. It is the baseline a harness is measured against:
// the same requests at the same concurrency cannot be sent faster by much.
func runClient(cfgJSON string, stdout io.Writer) error {
	var cfg clientConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	inputs, err := readInputs(cfg.Dataset, cfg.Limit)
	if err != nil {
		return err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: t}
	url := cfg.URL + "/chat/completions"

	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type request struct {
		Model       string    `json:"model"`
		Messages    []message `json:"messages"`
		MaxTokens   int       `json:"max_tokens"`
		Temperature float64   `json:"temperature"`
	}
	type response struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	post := func(model, input string) error {
		body, err := json.Marshal(request{Model: model, MaxTokens: cfg.MaxTokens,
			Messages: []message{{"system", cfg.System}, {"user", input}}})
		if err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out response
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || len(out.Choices) == 0 {
			return fmt.Errorf("status %d, %d choices", resp.StatusCode, len(out.Choices))
		}
		return nil
	}

	type job struct{ model, input string }
	jobs := make(chan job, cfg.Concurrency*2)
	var res clientResult
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				atomic.AddInt64(&res.Requests, 1)
				if err := post(j.model, j.input); err != nil {
					atomic.AddInt64(&res.Errors, 1)
				}
			}
		}()
	}
	for _, in := range inputs {
		for _, m := range cfg.Models {
			for range max(cfg.Epochs, 1) {
				jobs <- job{m, in}
			}
		}
	}
	close(jobs)
	wg.Wait()
	return json.NewEncoder(stdout).Encode(res)
}

// readInputs reads the input field of the first limit lines (0: all) of a
// JSONL dataset.
func readInputs(path string, limit int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if limit > 0 && len(out) == limit {
			break
		}
		var row struct {
			Input string `json:"input"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, len(out)+1, err)
		}
		out = append(out, row.Input)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New(path + ": no samples")
	}
	return out, nil
}

// timeClient runs the minimal client as a subprocess of this program and
// returns what the process took.
func timeClient(cfg clientConfig) (procResult, clientResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return procResult{}, clientResult{}, err
	}
	b, _ := json.Marshal(cfg)
	p, err := runProc(procSpec{Path: exe, Env: []string{clientEnv + "=" + string(b)}})
	if err != nil {
		return p, clientResult{}, err
	}
	var res clientResult
	if err := json.Unmarshal(p.Stdout, &res); err != nil {
		return p, res, fmt.Errorf("client output %q: %w", p.Stdout, err)
	}
	return p, res, nil
}
