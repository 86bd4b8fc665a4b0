package openai

import (
	"bytes"

	"github.com/mores-eval/mores/bench/jsontext"
)

// parseChat decodes a chat completion into cr without reflection: a
// well-formed answer costs a few hundred nanoseconds instead of the
// microseconds of encoding/json. It reports false, leaving cr in any
// state, whenever the body is anything but well-formed JSON whose members
// it fully understands (content given as an array of parts, a member
// spelled in another case, a number where a string belongs, invalid UTF-8,
// nesting deeper than maxDepth); the caller then decodes the body with
// encoding/json, which gives the same result or the exact error. When it
// reports true, cr is what json.Unmarshal would have produced (fuzzed
// against it in chatparse_test.go).
func parseChat(body []byte, cr *chatResponse) bool {
	p := jsontext.NewReader(body)
	return chatResponseOf(p, cr) && p.End()
}

// known reports whether key is one of names, and fails (by returning
// ok=false) when it is one of them in another case, which encoding/json
// would match.
func known(key []byte, names ...string) (match string, ok bool) {
	for _, n := range names {
		if string(key) == n {
			return n, true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return "", false
		}
	}
	return "", true
}

// chatResponse reads the top-level object.
func chatResponseOf(p *jsontext.Reader, cr *chatResponse) bool {
	if p.Null() {
		return true
	}
	seen := false
	return p.Object(func(key []byte) bool {
		k, ok := known(key, "choices", "usage")
		switch {
		case !ok:
			return false
		case k == "choices":
			if seen {
				return false // encoding/json reuses the elements of the first
			}
			seen = true
			if p.Null() {
				cr.Choices = nil
				return true
			}
			cr.Choices = cr.Choices[:0]
			return p.Array(func(n int) bool {
				if p.Null() {
					cr.Choices = append(cr.Choices, nil)
					return true
				}
				ch := &chatChoice{}
				cr.Choices = append(cr.Choices, ch)
				return choiceOf(p, ch)
			})
		case k == "usage":
			if p.Null() {
				return true
			}
			return p.Object(func(key []byte) bool {
				k, ok := known(key, "prompt_tokens", "completion_tokens")
				switch {
				case !ok:
					return false
				case k == "prompt_tokens":
					return p.Integer((*int64)(&cr.Usage.PromptTokens))
				case k == "completion_tokens":
					return p.Integer((*int64)(&cr.Usage.CompletionTokens))
				}
				return p.Skip()
			})
		}
		return p.Skip()
	})
}

// choiceOf reads one element of choices that is not null.
func choiceOf(p *jsontext.Reader, ch *chatChoice) bool {
	return p.Object(func(key []byte) bool {
		k, ok := known(key, "message", "finish_reason")
		switch {
		case !ok:
			return false
		case k == "finish_reason":
			return p.Text(&ch.FinishReason)
		case k == "message":
			if p.Null() {
				return true
			}
			return p.Object(func(key []byte) bool {
				k, ok := known(key, "content", "refusal")
				switch {
				case !ok:
					return false
				case k == "content":
					// null empties it (chatContent.UnmarshalJSON); an
					// array of parts goes to encoding/json.
					if p.Null() {
						ch.Message.Content = ""
						return true
					}
					return p.Text((*string)(&ch.Message.Content))
				case k == "refusal":
					return p.Text(&ch.Message.Refusal)
				}
				return p.Skip()
			})
		}
		return p.Skip()
	})
}
