package openai

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mores-eval/mores/bench"
)

// Defaults of a Config's zero fields.
const (
	// DefaultBaseURL is OpenAI's API, used when neither the spec nor
	// OPENAI_BASE_URL names another endpoint.
	DefaultBaseURL = "https://api.openai.com/v1"
	// DefaultTimeout bounds one attempt.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRetries is how many times a failed call is retried.
	DefaultMaxRetries = 6
	// DefaultBackoffBase is the first backoff ceiling; it doubles with each
	// retry.
	DefaultBackoffBase = 250 * time.Millisecond
	// DefaultBackoffMax caps the backoff ceiling.
	DefaultBackoffMax = 20 * time.Second
	// MaxRetryAfter caps how long a server's Retry-After is honoured.
	MaxRetryAfter = 60 * time.Second
)

// Config configures a Model. The zero values of the numeric fields mean the
// defaults above, so a Config can grow without breaking its users.
type Config struct {
	// Model is the model name sent to the endpoint.
	Model string
	// BaseURL is the endpoint's base URL, ending in /v1 for most servers;
	// empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer APIKey" when set. It is never
	// part of a cache key, a name or an error message.
	APIKey string
	// Params are the default sampling parameters; a request's own Params
	// override them field by field.
	Params bench.GenParams
	// Timeout bounds each attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a transient or rate-limited failure is
	// retried; zero means DefaultMaxRetries and a negative value means never.
	MaxRetries int
	// Concurrency bounds the attempts of this model in flight at once; zero
	// means unlimited.
	Concurrency int
	// RPM bounds the attempts sent per minute (retries count); zero means
	// unlimited.
	RPM float64
	// Completions sends requests to the plain /completions endpoint, with the
	// conversation rendered as plain text (see RenderPrompt), for base models
	// that have no chat template.
	Completions bool
	// PromptFormat is how a conversation becomes the text prompt of the
	// completions endpoint (with Completions, and for the scoring requests of
	// bench.GenParams.ScoreContinuation): "" or "plain" (RenderPrompt),
	// "alpaca", "chatml", "llama2", or an inline Go text/template over
	// PromptData (see ParsePromptFormat). A built-in format brings default
	// stop sequences, sent when no stop is set. New rejects an unknown name
	// or an invalid template; the format is part of CacheKey.
	PromptFormat string
	// BackoffBase and BackoffMax shape the exponential backoff between
	// retries: the n-th retry waits a uniformly random time below
	// min(BackoffMax, BackoffBase·2ⁿ⁻¹). Zero means DefaultBackoffBase and
	// DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// HTTPClient, if set, sends the requests; its Transport is wrapped, not
	// changed. Nil means a client tuned to keep many connections alive.
	HTTPClient *http.Client
}

// withDefaults returns c with its zero fields set to the defaults, or an
// error naming a field that is out of range.
func (c Config) withDefaults() (Config, error) {
	if strings.TrimSpace(c.Model) == "" {
		return c, specError("", "model", "the model name is empty")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if msg := badBaseURL(c.BaseURL); msg != "" {
		return c, specError("", "base_url", msg)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch {
	case c.Timeout < 0:
		return c, specError("", "timeout", fmt.Sprintf("the timeout %v is negative", c.Timeout))
	case c.Concurrency < 0:
		return c, specError("", "concurrency", fmt.Sprintf("the concurrency %d is negative", c.Concurrency))
	case c.RPM < 0:
		return c, specError("", "rpm", fmt.Sprintf("the requests per minute %v are negative", c.RPM))
	case c.BackoffBase < 0 || c.BackoffMax < 0:
		return c, specError("", "backoff", "the backoff durations must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	c.BackoffMax = max(c.BackoffMax, c.BackoffBase)
	return c, nil
}

// ParseSpec parses a model spec of the form openai:MODEL[@BASE_URL]. A model
// name may itself contain '@': the spec is split at the last '@' that is
// followed by http:// or https://. A spec holding an '@' but no such URL
// (openai:llama@localhost:8000/v1) is an error, never a model name sent to
// the default endpoint. The API key comes from env("OPENAI_API_KEY"), and
// the base URL, when the spec has none, from env("OPENAI_BASE_URL") or else
// DefaultBaseURL; env may be nil (an empty environment). Errors are
// *bench.InputError with File "--model" (or "OPENAI_BASE_URL"), which a
// caller reading the spec from a file may replace with the file and line;
// they never repeat a credential of the spec.
func ParseSpec(spec string, env func(string) string) (Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	rest, ok := strings.CutPrefix(spec, "openai:")
	if !ok {
		return Config{}, specError(spec, "", "an openai model spec starts with \"openai:\"")
	}
	model, base := rest, ""
	for i := strings.LastIndexByte(rest, '@'); i >= 0; i = strings.LastIndexByte(rest[:i], '@') {
		if after := rest[i+1:]; hasHTTPScheme(after) {
			model, base = rest[:i], after
			break
		}
	}
	if base == "" {
		if i := strings.IndexByte(rest, '@'); i >= 0 {
			return Config{}, specError(spec, "base_url", fmt.Sprintf(
				"%q after '@' is not an http:// or https:// URL; want openai:MODEL@http://HOST[:PORT]/v1 (e.g. openai:llama@http://localhost:8000/v1), "+
					"or openai:MODEL with OPENAI_BASE_URL set", looseRedact(rest[i+1:])))
		}
	}
	if strings.TrimSpace(model) == "" {
		return Config{}, specError(spec, "model", "the model name is empty (want openai:MODEL[@BASE_URL])")
	}
	if base == "" {
		if base = env("OPENAI_BASE_URL"); base != "" {
			if msg := badBaseURL(base); msg != "" {
				return Config{}, &bench.InputError{File: "OPENAI_BASE_URL", Msg: msg + " (unset it, or set it to the endpoint, e.g. http://localhost:8000/v1)"}
			}
		}
	}
	if base == "" {
		base = DefaultBaseURL
	}
	if msg := badBaseURL(base); msg != "" {
		return Config{}, specError(spec, "base_url", msg)
	}
	return Config{Model: model, BaseURL: strings.TrimRight(base, "/"), APIKey: env("OPENAI_API_KEY")}, nil
}

// hasHTTPScheme reports whether s starts with http:// or https:// (in any
// case).
func hasHTTPScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// looseRedact hides what may be credentials in an address that is not a
// URL: anything before its last '@' (user:password@host), and secret
// query parameters.
func looseRedact(s string) string {
	s = bench.RedactURL(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = bench.Redacted + s[i:]
	}
	return s
}

// redactSpec returns spec without its credentials, even when its base URL
// is not a URL.
func redactSpec(spec string) string {
	if indexHTTP(spec) >= 0 {
		return bench.RedactURL(spec)
	}
	if i := strings.IndexByte(spec, '@'); i >= 0 {
		return spec[:i+1] + looseRedact(spec[i+1:])
	}
	return bench.RedactURL(spec)
}

func indexHTTP(s string) int {
	l := strings.ToLower(s)
	if i := strings.Index(l, "http://"); i >= 0 {
		return i
	}
	return strings.Index(l, "https://")
}

// BadBaseURL says what is wrong with a base URL that is not an absolute
// http:// or https:// URL, or returns "" for a good one. A credential in the
// URL is not repeated.
func BadBaseURL(base string) string { return badBaseURL(base) }

func badBaseURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Sprintf("the base URL %q is not a valid URL", looseRedact(base))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("the base URL %q is not an http:// or https:// URL", looseRedact(base))
	}
	return ""
}

// specError is an input error about a model spec or configuration.
func specError(spec, field, msg string) error {
	if spec != "" {
		msg = fmt.Sprintf("%q: %s", redactSpec(spec), msg)
	}
	return &bench.InputError{File: "--model", Field: field, Msg: msg}
}

// mergeParams returns base overridden, field by field, by the fields set in
// over.
func mergeParams(base, over bench.GenParams) bench.GenParams {
	p := base
	if over.Temperature != nil {
		p.Temperature = over.Temperature
	}
	if over.TopP != nil {
		p.TopP = over.TopP
	}
	if over.MaxTokens != 0 {
		p.MaxTokens = over.MaxTokens
	}
	if over.Seed != nil {
		p.Seed = over.Seed
	}
	if over.Stop != nil {
		p.Stop = over.Stop
	}
	if over.ScoreContinuation {
		p.ScoreContinuation = true
	}
	return p
}
