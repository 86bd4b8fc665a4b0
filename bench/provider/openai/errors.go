package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
)

// errNoChoices is the error of a well-formed answer without any choice.
var errNoChoices = errors.New("the response has no choices")

// kindOfStatus sorts an HTTP status into an error kind.
func kindOfStatus(status int) bench.ErrorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return bench.RateLimited
	case status == http.StatusRequestTimeout, status == http.StatusConflict, status >= 500:
		return bench.Transient
	default:
		// 400, 401, 403, 404, 422 and every other status a retry cannot fix.
		return bench.Fatal
	}
}

// classify sorts the error of one attempt, made with the given per-attempt
// timeout, into a ModelError. info holds what the transport saw of the
// response (nil if nothing).
func classify(err error, info *attemptInfo, timeout time.Duration) *bench.ModelError {
	status := 0
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
	}
	if status != 0 {
		me := &bench.ModelError{Kind: kindOfStatus(status), Status: status, Err: err}
		if me.Kind != bench.Fatal && info != nil {
			me.RetryAfter = info.retryAfter
		}
		return me
	}
	seen := 0
	if info != nil {
		seen = info.status
	}
	var netErr net.Error
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errNoChoices):
		return &bench.ModelError{Kind: bench.Transient, Status: seen, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &bench.ModelError{Kind: bench.Transient, Err: fmt.Errorf("no answer within %v: %w", timeout, err)}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &bench.ModelError{Kind: bench.Transient, Err: err}
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		return &bench.ModelError{Kind: bench.Transient, Status: seen, Err: fmt.Errorf("malformed response body: %w", err)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		if seen != 0 {
			return &bench.ModelError{Kind: bench.Transient, Status: seen, Err: fmt.Errorf("truncated response body: %w", err)}
		}
		return &bench.ModelError{Kind: bench.Transient, Err: fmt.Errorf("connection closed: %w", err)}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// The host does not exist (NXDOMAIN): no retry makes it exist.
		return &bench.ModelError{Kind: bench.Fatal, Err: err}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED), errors.As(err, &opErr):
		return &bench.ModelError{Kind: bench.Transient, Err: err}
	}
	return &bench.ModelError{Kind: bench.Fatal, Status: seen, Err: err}
}

// parseRetryAfter reads how long a response asks the client to wait: the
// header retry-after-ms (OpenAI's, in milliseconds), else Retry-After in
// seconds (a decimal number) or as an HTTP date. It returns 0 when there is
// no usable value.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && !math.IsInf(ms, 0) {
			return clampRetryAfter(time.Duration(ms * float64(time.Millisecond)))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || math.IsNaN(secs) {
			return 0
		}
		if secs > MaxRetryAfter.Seconds() {
			return MaxRetryAfter
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return clampRetryAfter(t.Sub(now))
	}
	return 0
}

// clampRetryAfter bounds a wait to [0, MaxRetryAfter].
func clampRetryAfter(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}

// redactedError is an error whose message has had a secret removed; it
// still unwraps to the original so that errors.Is and errors.As work.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes the secret from err's message, and from the messages and
// bodies of the go-openai errors in its chain (which belong to this call
// alone), so that it appears nowhere a caller might print it.
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	const mask = "[redacted]"
	var apiErr *goopenai.APIError
	if errors.As(err, &apiErr) {
		apiErr.Message = strings.ReplaceAll(apiErr.Message, secret, mask)
	}
	var reqErr *goopenai.RequestError
	if errors.As(err, &reqErr) {
		reqErr.Body = []byte(strings.ReplaceAll(string(reqErr.Body), secret, mask))
	}
	msg := err.Error()
	if !strings.Contains(msg, secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(msg, secret, mask), err: err}
}
