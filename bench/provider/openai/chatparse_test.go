package openai

import (
	"encoding/json"
	"fmt"
	"testing"
)

// chatBodies are answers as servers send them, and near misses.
var chatBodies = []string{
	`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Sure. Here is a short answer."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37}}`,
	`{"choices":[{"message":{"content":"line\none \"quoted\" \\ \/ \b\f\r\t \u00e9 \ud83d\ude00 \ud83d x \udc00 \u0000"},"finish_reason":"length"}]}`,
	`{"choices":[{"message":{"content":null,"refusal":"I can't."},"finish_reason":null}],"usage":null}`,
	`{"choices":[{"message":{"content":"a","content":null}}]}`,
	`{"choices":[{"message":{"content":[{"type":"text","text":"parts"}]}}]}`,
	`{"Choices":[{"message":{"content":"case"}}]}`,
	`{"choices":[{"message":{"content":"x"}}],"choices":[]}`,
	`{"choices":[null,{"message":{"content":"second"}}]}`,
	`{"choices":[{"message":{"content":"ü日本語"}}],"usage":{"prompt_tokens":1.5}}`,
	`{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":1e3,"completion_tokens":-0}}`,
	`{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":99999999999999999999}}`,
	`{"choices":[{"message":{"content":5}}]}`,
	`{"choices":[{"message":{"content":"trailing"}}]} x`,
	`{"choices":[{"message":{"content":"cut`,
	` null `,
	`[]`,
	`{"a":[1,2.5e-3,{"b":[true,false,null]},"s"],"choices":[]}`,
	`{"choices":[{"message":{"content":"` + "\xff" + `"}}]}`,
	`{"choices":[{"message":{"content":"ctl` + "\x01" + `"}}]}`,
	`{"choices":[{"message":{"content":"\u12"}}]}`,
	`{"choices":[{"message":{"content":"x"},"finish_reason":"stop",}]}`,
	`{"x":01,"choices":[]}`,
	`{"x":-,"choices":[]}`,
	`{"x":1.,"choices":[]}`,
}

// checkParseChat fails when parseChat accepts a body that encoding/json
// rejects or decodes differently.
func checkParseChat(t *testing.T, body []byte) bool {
	var fast, slow chatResponse
	if !parseChat(body, &fast) {
		return false
	}
	if err := json.Unmarshal(body, &slow); err != nil {
		t.Fatalf("parseChat accepted %q, which encoding/json rejects: %v", body, err)
	}
	if fmt.Sprintf("%+v", fast.Usage) != fmt.Sprintf("%+v", slow.Usage) || len(fast.Choices) != len(slow.Choices) {
		t.Fatalf("%q: parseChat %+v, encoding/json %+v", body, fast, slow)
	}
	for i := range fast.Choices {
		if (fast.Choices[i] == nil) != (slow.Choices[i] == nil) || (fast.Choices[i] != nil && *fast.Choices[i] != *slow.Choices[i]) {
			t.Fatalf("%q: choice %d: parseChat %+v, encoding/json %+v", body, i, fast.Choices[i], slow.Choices[i])
		}
	}
	return true
}

func TestParseChatAgreesWithEncodingJSON(t *testing.T) {
	fast := 0
	for _, b := range chatBodies {
		if checkParseChat(t, []byte(b)) {
			fast++
		}
	}
	// The common answers must take the fast path, or it saves nothing.
	for _, b := range chatBodies[:4] {
		var cr chatResponse
		if !parseChat([]byte(b), &cr) {
			t.Errorf("parseChat gave up on an ordinary answer: %s", b)
		}
	}
	t.Logf("%d of %d bodies decoded by parseChat", fast, len(chatBodies))
}

func FuzzParseChat(f *testing.F) {
	for _, b := range chatBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParseChat(t, body)
	})
}

func BenchmarkChatDecode(b *testing.B) {
	body := []byte(chatBodies[0])
	b.Run("parseChat", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var cr chatResponse
			if !parseChat(body, &cr) {
				b.Fatal("slow path")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var cr chatResponse
			if err := json.Unmarshal(body, &cr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
