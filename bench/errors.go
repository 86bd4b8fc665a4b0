package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrorKind sorts model errors by what a caller should do about them.
type ErrorKind int

const (
	// Fatal errors are not retried (bad request, authentication, unknown model).
	Fatal ErrorKind = iota
	// Transient errors are retried with backoff (5xx, timeouts, dropped
	// connections, malformed bodies).
	Transient
	// RateLimited errors are retried after the server's Retry-After, or with backoff.
	RateLimited
)

func (k ErrorKind) String() string {
	switch k {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate-limited"
	default:
		return "fatal"
	}
}

// ModelError is an error from a model call, sorted by kind.
type ModelError struct {
	Kind       ErrorKind
	Status     int           // HTTP status, 0 if none
	RetryAfter time.Duration // from the server, 0 if none
	Err        error
}

func (e *ModelError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %v", e.Kind, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the kind of a ModelError in its chain, or
// Fatal.
func KindOf(err error) ErrorKind {
	var me *ModelError
	if errors.As(err, &me) {
		return me.Kind
	}
	return Fatal
}

// InputError is bad input from a user: a file, a line and a field. The
// command maps it to exit code 2.
type InputError struct {
	File  string
	Line  int // 0 if unknown
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// InputErrors is several input errors reported at once.
type InputErrors []*InputError

// maxInputErrors is how many problems InputErrors spells out; the rest are
// counted.
const maxInputErrors = 20

func (es InputErrors) Error() string {
	var sb strings.Builder
	for i, e := range es {
		if i == maxInputErrors {
			fmt.Fprintf(&sb, "\n… and %d more problems", len(es)-i)
			break
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(e.Error())
	}
	return sb.String()
}
