package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"golang.org/x/time/rate"

	"github.com/mores-eval/mores/bench"
)

// Model is a model behind an OpenAI-compatible endpoint. It implements
// bench.Model and bench.Cacheable and is safe for concurrent use.
type Model struct {
	cfg     Config
	format  *PromptFormat
	client  *goopenai.Client
	http    *http.Client // the client go-openai also uses
	chatURL string
	auth    []string      // the Authorization header; nil without a key
	secrets []string      // the credentials of the base URL
	slots   *adaptive     // the adaptive concurrency limit
	limiter *rate.Limiter // nil: no rate limit
}

var (
	_ bench.Model     = (*Model)(nil)
	_ bench.Cacheable = (*Model)(nil)
)

// New returns a Model for cfg, with its zero fields set to the defaults. It
// makes no request.
func New(cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	format, err := ParsePromptFormat(cfg.PromptFormat)
	if err != nil {
		return nil, err
	}
	// The credentials of the base URL (user information, query
	// parameters) are added to each request by the transport, so that the
	// URLs go-openai and net/http put in their errors hold none of them.
	endpoint, creds, err := splitBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	gc := goopenai.DefaultConfig(cfg.APIKey)
	gc.BaseURL = endpoint
	hc := newHTTPClient(cfg.HTTPClient, creds)
	gc.HTTPClient = hc
	m := &Model{cfg: cfg, format: format, client: goopenai.NewClientWithConfig(gc), http: hc,
		chatURL: endpoint + "/chat/completions"}
	if cfg.APIKey != "" {
		m.auth = []string{"Bearer " + cfg.APIKey}
	}
	m.secrets = bench.URLSecrets(cfg.BaseURL)
	m.slots = newAdaptive(cfg.Concurrency)
	if cfg.RPM > 0 {
		m.limiter = rate.NewLimiter(rate.Limit(cfg.RPM/60), 1)
	}
	return m, nil
}

// DropsSystem reports whether the model's requests leave out a system
// prompt: a completions model whose prompt format has no place for one
// (see PromptFormat.DropsSystem).
func (m *Model) DropsSystem() bool { return m.cfg.Completions && m.format.DropsSystem() }

// Config returns the model's configuration with its defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// String names the model as a spec, openai:MODEL@BASE_URL, with neither the
// key nor the credentials of the base URL (see bench.RedactURL).
func (m *Model) String() string {
	return "openai:" + m.cfg.Model + "@" + bench.RedactURL(m.cfg.BaseURL)
}

// Endpoint returns the endpoint the model sends generation requests to:
// "completions" (Config.Completions) or "chat". Judges whose published
// protocol needs one of them (HarmBench's classifier: completions; Llama
// Guard: chat) check it.
func (m *Model) Endpoint() string {
	if m.cfg.Completions {
		return "completions"
	}
	return "chat"
}

// DefaultParams returns the model's default sampling parameters (those of
// its Config), which a request's own parameters override.
func (m *Model) DefaultParams() bench.GenParams { return m.cfg.Params }

// CacheKey identifies the model and every setting that changes its output:
// the model name, the base URL, the endpoint, the prompt format and the
// default sampling parameters. It never holds the API key, nor the
// credentials of the base URL (another token for the same endpoint gets
// the same answers).
func (m *Model) CacheKey() string {
	params, err := json.Marshal(m.cfg.Params)
	if err != nil {
		// GenParams holds only numbers and strings; it always encodes.
		panic(fmt.Sprintf("openai: encoding parameters: %v", err))
	}
	endpoint := "chat"
	if m.cfg.Completions {
		endpoint = "completions"
	}
	return fmt.Sprintf("openai|%s|%s|%s|%s|%s", m.cfg.Model, bench.RedactURL(m.cfg.BaseURL), endpoint, m.format.cacheKey(), params)
}

// Generate asks the model to complete req, retrying transient and
// rate-limited failures. On success the Completion's Latency is the wall
// time of the successful attempt alone, from sending the request to
// decoding the answer (not the retries, backoff, rate-limit or concurrency
// waits before it), and Attempts counts the attempts made, the successful
// one included; a wait that ends before its request is sent is not an
// attempt. On failure the error is a *bench.ModelError and the returned
// Completion still carries Attempts. When ctx ends, the error is Fatal and
// wraps ctx.Err(), so errors.Is(err, context.Canceled) reports a
// cancellation.
func (m *Model) Generate(ctx context.Context, req bench.Request) (bench.Completion, error) {
	params := mergeParams(m.cfg.Params, req.Params)
	var call callFunc
	var err error
	switch {
	case params.ScoreContinuation:
		call, err = m.scoreCall(req, params)
	case m.cfg.Completions:
		call, err = m.completionCall(req, params)
	default:
		call, err = m.chatCall(req, params)
	}
	if err != nil {
		return bench.Completion{}, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: err}, 0)
	}
	var patch []byte
	if params.ScoreContinuation || m.cfg.Completions {
		patch = zeroPatch(params) // go-openai drops a temperature or top_p of 0
	}
	attempts := 0 // calls made; a wait cancelled before its call is not one
	for {
		if ctx.Err() != nil {
			return bench.Completion{Attempts: attempts}, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: ctx.Err()}, attempts)
		}
		c, info, err := m.attempt(ctx, call, patch)
		if info != nil {
			attempts++
		}
		if err == nil {
			c.Attempts = attempts
			// A server that echoes the key (or a credential of the base
			// URL) back must not get it into the journal, the Parquet
			// files, the report or the cache. (Secrets shorter than 8
			// bytes are placeholders, such as "EMPTY" for vLLM; replacing
			// them would mangle ordinary text.)
			// Every string the server sent: the text and the finish reason.
			scrub(&c, m.cfg.APIKey)
			for _, secret := range m.secrets {
				scrub(&c, secret)
			}
			return c, nil
		}
		if ctx.Err() != nil {
			return bench.Completion{Attempts: attempts}, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: ctx.Err()}, attempts)
		}
		me, ok := err.(*bench.ModelError)
		if !ok {
			me = classify(err, info, m.cfg.Timeout)
		}
		if me.Kind == bench.Fatal || attempts > m.cfg.MaxRetries {
			return bench.Completion{Attempts: attempts}, m.fail(me, attempts)
		}
		if !sleep(ctx, m.backoff(attempts, me.RetryAfter)) {
			return bench.Completion{Attempts: attempts}, m.fail(&bench.ModelError{Kind: bench.Fatal, Err: ctx.Err()}, attempts)
		}
	}
}

// fail finishes the error of a call: it names the model and the attempts
// made, and removes the API key from every message.
func (m *Model) fail(me *bench.ModelError, attempts int) error {
	plural := "s"
	if attempts == 1 {
		plural = ""
	}
	err := redact(fmt.Errorf("%s, %d attempt%s: %w", m, attempts, plural, me.Err), m.cfg.APIKey)
	for _, secret := range m.secrets {
		err = redact(err, secret)
	}
	if msg := err.Error(); bench.HasSecret(msg) {
		err = &redactedError{msg: bench.RedactURL(msg), err: err}
	}
	me.Err = err
	return me
}

// scrub replaces secret in the strings of c that the server sent, unless
// it is shorter than 8 bytes.
func scrub(c *bench.Completion, secret string) {
	if len(secret) < 8 {
		return
	}
	for _, f := range []*string{&c.Text, &c.FinishReason} {
		if strings.Contains(*f, secret) {
			*f = strings.ReplaceAll(*f, secret, "[redacted]")
		}
	}
}

// callFunc makes one request and returns its completion, with Latency and
// Attempts unset.
type callFunc func(ctx context.Context) (bench.Completion, error)

// attempt makes one attempt: it waits for a concurrency slot and the rate
// limiter, then calls under the per-attempt timeout. The returned info is
// nil when the call was never made (the wait failed).
func (m *Model) attempt(ctx context.Context, call callFunc, patch []byte) (bench.Completion, *attemptInfo, error) {
	if err := m.slots.acquire(ctx); err != nil {
		return bench.Completion{}, nil, err
	}
	result := outcomeNone
	var took time.Duration
	defer func() { m.slots.release(result, took) }()
	if m.limiter != nil {
		if err := m.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return bench.Completion{}, nil, ctx.Err()
			}
			// The context's deadline comes before the next token.
			return bench.Completion{}, nil, &bench.ModelError{Kind: bench.Fatal, Err: fmt.Errorf("waiting for the rate limit: %w: %w", context.DeadlineExceeded, err)}
		}
	}
	actx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	info := &attemptInfo{patch: patch}
	actx = context.WithValue(actx, attemptKey{}, info)
	start := time.Now()
	c, err := call(actx)
	c.Latency = time.Since(start)
	switch {
	case err == nil:
		result, took = outcomeOK, c.Latency
	case info.status == http.StatusTooManyRequests || info.status == http.StatusServiceUnavailable:
		result = outcomeThrottled
	}
	return c, info, err
}

// backoff returns how long to wait before retry number n (from 1): the
// server's Retry-After when it gave one (capped at MaxRetryAfter), else a
// uniformly random time below min(BackoffMax, BackoffBase·2ⁿ⁻¹) ("full
// jitter").
func (m *Model) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter)
	}
	ceiling := m.cfg.BackoffMax
	if n-1 < 62 {
		if d := m.cfg.BackoffBase << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

// sleep waits d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// completionCall returns the call of the plain completions endpoint for
// req, with the conversation rendered by the model's prompt format, whose
// stop sequences are sent when p has none.
func (m *Model) completionCall(req bench.Request, p bench.GenParams) (callFunc, error) {
	prompt, err := m.format.Render(req.System, req.Messages)
	if err != nil {
		return nil, err
	}
	stop := p.Stop
	if stop == nil {
		stop = m.format.Stop()
	}
	cr := goopenai.CompletionRequest{Model: m.cfg.Model, Prompt: prompt, MaxTokens: p.MaxTokens, Seed: p.Seed, Stop: stop}
	if p.Temperature != nil {
		cr.Temperature = float32(*p.Temperature)
	}
	if p.TopP != nil {
		cr.TopP = float32(*p.TopP)
	}
	return func(ctx context.Context) (bench.Completion, error) {
		resp, err := m.client.CreateCompletion(ctx, cr)
		if err != nil {
			return bench.Completion{}, err
		}
		if len(resp.Choices) == 0 {
			return bench.Completion{}, errNoChoices
		}
		return bench.Completion{
			Text:             resp.Choices[0].Text,
			FinishReason:     resp.Choices[0].FinishReason,
			PromptTokens:     int64(resp.Usage.PromptTokens),
			CompletionTokens: int64(resp.Usage.CompletionTokens),
		}, nil
	}, nil
}

// RenderPrompt renders a conversation as the plain text prompt of a
// completions request. A lone user message with no system prompt is sent as
// it is; otherwise each turn becomes a paragraph "Role: content" (System,
// User, Assistant) and the prompt ends with "Assistant:" for the model to
// continue.
func RenderPrompt(system string, msgs []bench.Message) string {
	if system == "" && len(msgs) == 1 && msgs[0].Role == "user" {
		return msgs[0].Content
	}
	var sb strings.Builder
	turn := func(role, content string) {
		sb.WriteString(role)
		sb.WriteString(": ")
		sb.WriteString(content)
		sb.WriteString("\n\n")
	}
	if system != "" {
		turn("System", system)
	}
	for _, msg := range msgs {
		role := msg.Role
		switch role {
		case "system":
			role = "System"
		case "user":
			role = "User"
		case "assistant":
			role = "Assistant"
		}
		turn(role, msg.Content)
	}
	sb.WriteString("Assistant:")
	return sb.String()
}

// zeroPatch returns the JSON members that go-openai would leave out of the
// request body although they are set: a temperature or top_p that is 0 as a
// float32 (its fields are float32 with omitempty). The value sent is the
// float64 given.
func zeroPatch(p bench.GenParams) []byte {
	var members []string
	if p.Temperature != nil && float32(*p.Temperature) == 0 {
		members = append(members, `"temperature":`+strconv.FormatFloat(*p.Temperature, 'g', -1, 64))
	}
	if p.TopP != nil && float32(*p.TopP) == 0 {
		members = append(members, `"top_p":`+strconv.FormatFloat(*p.TopP, 'g', -1, 64))
	}
	if len(members) == 0 {
		return nil
	}
	return []byte(strings.Join(members, ","))
}

// isReasoningModel reports the model families that take
// max_completion_tokens instead of max_tokens (go-openai refuses to send
// max_tokens for them).
func isReasoningModel(model string) bool {
	for _, prefix := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, prefix) {
			return true
		}
	}
	return false
}
