package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/jsontext"
)

// The chat completions call is the one a run makes thousands of times a
// second, so it does not go through go-openai's CreateChatCompletion, whose
// request and response types (dozens of fields, custom unmarshalers) made
// encoding and decoding cost about as much as the HTTP exchange itself
// (`make bench`, pprof). It sends the request go-openai would send (the
// same URL, headers and JSON members), decodes only the members it reads,
// and reports failures as go-openai's *APIError and *RequestError, which
// classify and redact read as before. go-openai still serves the
// completions and log-probability calls.

// maxResponseBytes bounds the body of an answer read into memory: a server
// that sends more is broken or hostile, and the attempt fails.
var maxResponseBytes int64 = 64 << 20

// errTooLarge is the error of a response body over maxResponseBytes.
var errTooLarge = fmt.Errorf("the response body is larger than %d MiB", maxResponseBytes>>20)

// chatResponse holds the members of a chat completion that Mores reads.
type chatResponse struct {
	Choices []*chatChoice `json:"choices"` // nil for a null choice
	Usage   struct {
		PromptTokens     tokenCount `json:"prompt_tokens"`
		CompletionTokens tokenCount `json:"completion_tokens"`
	} `json:"usage"`
}

// tokenCount is a token count of an answer's usage. Usage is bookkeeping:
// a count sent as a string, a fraction or anything else odd must not throw
// away the answer, so a number is taken (truncated), a string of digits is
// read, and anything else counts 0.
type tokenCount int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *tokenCount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json leaves a number
	}
	s := strings.Trim(string(b), `"`)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = tokenCount(v)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<62 {
		*n = tokenCount(f)
	} else {
		*n = 0
	}
	return nil
}

// chatChoice is one choice of a chat completion.
type chatChoice struct {
	Message struct {
		Content chatContent `json:"content"`
		Refusal string      `json:"refusal"`
	} `json:"message"`
	FinishReason string `json:"finish_reason"`
}

// chatContent is the content of an answer's message: a string, null, or
// (from some servers) an array of parts, whose text parts are joined.
type chatContent string

// UnmarshalJSON implements json.Unmarshaler.
func (c *chatContent) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = chatContent(s)
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var sb strings.Builder
		for _, p := range parts {
			if p.Type == "text" || p.Type == "" {
				sb.WriteString(p.Text)
			}
		}
		*c = chatContent(sb.String())
	default:
		*c = "" // null
	}
	return nil
}

// chatBody encodes the chat request of req with parameters p: the members
// go-openai's ChatCompletionRequest would carry, with temperature and top_p
// sent when they are set, 0 included.
func (m *Model) chatBody(req bench.Request, p bench.GenParams) ([]byte, error) {
	for _, f := range []*float64{p.Temperature, p.TopP} {
		if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return nil, fmt.Errorf("parameter %v is not a number JSON can carry", *f)
		}
	}
	n := 128 + len(m.cfg.Model) + len(req.System)
	for _, msg := range req.Messages {
		n += 32 + len(msg.Content) + len(msg.Content)/8
	}
	b := make([]byte, 0, n)
	b = append(b, `{"model":`...)
	b = jsontext.AppendString(b, m.cfg.Model)
	b = append(b, `,"messages":[`...)
	first := true
	message := func(role, content string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"role":`...)
		b = jsontext.AppendString(b, role)
		b = append(b, `,"content":`...)
		b = jsontext.AppendString(b, content)
		b = append(b, '}')
	}
	if req.System != "" {
		message(goopenai.ChatMessageRoleSystem, req.System)
	}
	for _, msg := range req.Messages {
		message(msg.Role, msg.Content)
	}
	b = append(b, ']')
	if p.MaxTokens != 0 {
		if isReasoningModel(m.cfg.Model) {
			// These models reject max_tokens.
			b = append(b, `,"max_completion_tokens":`...)
		} else {
			b = append(b, `,"max_tokens":`...)
		}
		b = strconv.AppendInt(b, int64(p.MaxTokens), 10)
	}
	if p.Temperature != nil {
		b = append(b, `,"temperature":`...)
		b = jsontext.AppendFloat(b, *p.Temperature)
	}
	if p.TopP != nil {
		b = append(b, `,"top_p":`...)
		b = jsontext.AppendFloat(b, *p.TopP)
	}
	if len(p.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range p.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, s)
		}
		b = append(b, ']')
	}
	if p.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, int64(*p.Seed), 10)
	}
	return append(b, '}'), nil
}

// bufPool holds the buffers response bodies are read into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// chatCall returns the call of the chat completions endpoint for req: the
// system prompt as a system message, then the request's messages.
func (m *Model) chatCall(req bench.Request, p bench.GenParams) (callFunc, error) {
	body, err := m.chatBody(req, p)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (bench.Completion, error) {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, m.chatURL, bytes.NewReader(body))
		if err != nil {
			return bench.Completion{}, err
		}
		h := hreq.Header
		h["Content-Type"] = jsonHeader
		h["Accept"] = jsonHeader
		if m.auth != nil {
			h["Authorization"] = m.auth
		}
		resp, err := m.http.Do(hreq)
		if err != nil {
			return bench.Completion{}, err
		}
		defer resp.Body.Close()
		buf := bufPool.Get().(*bytes.Buffer)
		defer func() {
			if buf.Cap() <= 1<<20 {
				buf.Reset()
				bufPool.Put(buf)
			}
		}()
		buf.Reset()
		n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes+1))
		if n > maxResponseBytes {
			return bench.Completion{}, &bench.ModelError{Kind: bench.Fatal, Status: resp.StatusCode, Err: errTooLarge}
		}
		if resp.StatusCode < http.StatusOK || resp.StatusCode >= http.StatusBadRequest {
			if err != nil {
				return bench.Completion{}, fmt.Errorf("error, reading response body: %w", err)
			}
			return bench.Completion{}, apiError(resp, bytes.Clone(buf.Bytes()))
		}
		if err != nil {
			return bench.Completion{}, err
		}
		var cr chatResponse
		if !parseChat(buf.Bytes(), &cr) {
			cr = chatResponse{}
			err = json.Unmarshal(buf.Bytes(), &cr)
		}
		if err != nil {
			var se *json.SyntaxError
			if buf.Len() == 0 || (errors.As(err, &se) && se.Offset >= int64(buf.Len())) {
				return bench.Completion{}, io.ErrUnexpectedEOF // the body ends inside the JSON
			}
			return bench.Completion{}, err
		}
		if len(cr.Choices) == 0 || cr.Choices[0] == nil {
			return bench.Completion{}, errNoChoices // a null choice is none
		}
		ch := cr.Choices[0]
		text := string(ch.Message.Content)
		if text == "" && ch.Message.Refusal != "" {
			// A refusal is an answer like any other.
			text = ch.Message.Refusal
		}
		return bench.Completion{
			Text:             text,
			FinishReason:     ch.FinishReason,
			PromptTokens:     int64(cr.Usage.PromptTokens),
			CompletionTokens: int64(cr.Usage.CompletionTokens),
		}, nil
	}, nil
}

// jsonHeader is the value of the Content-Type and Accept headers.
var jsonHeader = []string{"application/json"}

// apiError returns the error of a failed response with the given body, as
// go-openai reports it: an *APIError when the body is an OpenAI error
// object, else a *RequestError.
func apiError(resp *http.Response, body []byte) error {
	var er goopenai.ErrorResponse
	err := json.Unmarshal(body, &er)
	if err != nil || er.Error == nil {
		re := &goopenai.RequestError{HTTPStatus: resp.Status, HTTPStatusCode: resp.StatusCode, Err: err, Body: body}
		if er.Error != nil {
			re.Err = er.Error
		}
		return re
	}
	er.Error.HTTPStatus = resp.Status
	er.Error.HTTPStatusCode = resp.StatusCode
	return er.Error
}
