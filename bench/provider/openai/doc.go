// Package openai is the Mores model provider for any OpenAI-compatible
// endpoint (OpenAI, vLLM, llama.cpp server, Ollama, TGI). The
// /completions and log-probability calls go through
// github.com/sashabaranov/go-openai; the chat call, which a run makes
// thousands of times a second, is encoded and decoded here (chat.go), with
// go-openai's wire format and error types, because go-openai's reflection
// over its large request and response types cost as much CPU as the HTTP
// exchange itself.
//
// A model is named on the command line as
//
//	openai:MODEL[@BASE_URL]
//
// and ParseSpec turns that into a Config; the API key, and the base URL when
// the spec has none, come from OPENAI_API_KEY and OPENAI_BASE_URL through
// the environment function the command passes in. New builds a Model from a
// Config.
//
// One call of (*Model).Generate walks through these steps:
//
//  1. The request's sampling parameters override the Config's, field by
//     field. The system prompt becomes a system message ahead of the
//     request's messages (or, with Config.Completions, the whole
//     conversation is rendered as text for the /completions endpoint by
//     Config.PromptFormat: plain, alpaca, chatml, llama2 or an inline Go
//     template; a built-in format sends its stop sequences unless a stop is
//     set). A request with GenParams.ScoreContinuation generates nothing:
//     its last message is scored as a continuation of the rest, with echo
//     and logprobs on /completions, and the sum of the continuation's token
//     log-probabilities comes back in Completion.Logprob (see ScoreText).
//  2. Each attempt waits for a concurrency slot (Config.Concurrency) and then
//     for the rate limiter (Config.RPM), and runs under its own timeout
//     (Config.Timeout).
//  3. The request goes out through a RoundTripper of this package, which
//     reads the Retry-After header (go-openai does not expose it) and, for
//     the calls go-openai encodes, restores the fields it would drop (a
//     temperature or top_p of exactly 0, which its float32 omitempty fields
//     leave out). A chat answer is decoded by a reflection-free parser, or
//     by encoding/json when the parser does not fully understand it (content
//     given as parts, members in another case); a body over 64 MiB fails
//     the attempt.
//  4. A failed attempt is sorted into a bench.ModelError kind: 429 is
//     RateLimited; 408, 409, 5xx, timeouts, dropped connections, malformed
//     or truncated bodies and empty choice lists are Transient; other 4xx
//     statuses and client-side errors are Fatal. Transient and rate-limited
//     attempts are retried, at most Config.MaxRetries times, after the
//     server's Retry-After (capped at 60 s) or an exponential backoff with
//     full jitter. Cancelling the context stops at once with an error for
//     which errors.Is(err, context.Canceled) holds.
//  5. The answer becomes a bench.Completion with its text, finish reason,
//     token usage, the latency of the successful attempt and the number of
//     attempts made. A refusal is a completion like any other.
//
// The API key is sent only in the Authorization header: it is not part of
// CacheKey or String, and it is scrubbed from every error message, even when
// a server echoes it back.
package openai
