package openai

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/mores-eval/mores/bench"
)

// Built-in prompt formats of the completions endpoint (Config.PromptFormat).
const (
	// FormatPlain is RenderPrompt: a lone user message as it is, otherwise
	// "System:", "User:" and "Assistant:" paragraphs ending in "Assistant:".
	// Default stop: "\n\nUser:".
	FormatPlain = "plain"
	// FormatAlpaca is the Stanford Alpaca instruction format, which the
	// Stable Alignment checkpoints (agi-css/better-base, hh-rlhf-sft,
	// socially-good-lm) expect, as their run_inference.py writes it:
	//
	//	Below is an instruction that describes a task. Write a response that appropriately completes the request.
	//
	//	### Instruction:
	//	{last user message}
	//
	//	### Response:
	//
	// (no new line after "### Response:"). Earlier turns of a conversation
	// become the context, in Alpaca's "### Input:" section ("User: …" and
	// "Assistant: …" paragraphs), with Alpaca's preamble for an instruction
	// paired with an input. Alpaca has no place for a system prompt, so a
	// system prompt is left out; write an inline template to keep it.
	// Default stop: "### Instruction:".
	FormatAlpaca = "alpaca"
	// FormatChatML is ChatML: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per
	// turn (the system prompt first), ending in "<|im_start|>assistant\n".
	// Default stop: "<|im_end|>".
	FormatChatML = "chatml"
	// FormatLlama2 is the Llama 2 chat format: "[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST]"
	// with earlier exchanges as "[INST] USER [/INST] ASSISTANT </s><s>"; the
	// leading <s> is left to the server's tokenizer. Default stops: "</s>",
	// "[INST]".
	FormatLlama2 = "llama2"
)

// PromptData is what an inline prompt format template sees.
type PromptData struct {
	// System is the system prompt ("" when none).
	System string
	// Prompt is the content of the last user message.
	Prompt string
	// Messages are the conversation's turns, the last user message included
	// (not the system prompt).
	Messages []bench.Message
}

// PromptFormat renders a conversation as the text prompt of the completions
// endpoint. Build one with ParsePromptFormat.
type PromptFormat struct {
	name   string
	render func(system string, msgs []bench.Message) (string, error)
	stop   []string
	key    string
}

// builtinFormats maps the built-in format names to their renderers and
// default stop sequences.
var builtinFormats = map[string]struct {
	render func(system string, msgs []bench.Message) string
	stop   []string
}{
	FormatPlain:  {RenderPrompt, []string{"\n\nUser:"}},
	FormatAlpaca: {renderAlpaca, []string{"### Instruction:"}},
	FormatChatML: {renderChatML, []string{"<|im_end|>"}},
	FormatLlama2: {renderLlama2, []string{"</s>", "[INST]"}},
}

// FormatNames returns the names of the built-in prompt formats, sorted.
func FormatNames() []string {
	names := make([]string, 0, len(builtinFormats))
	for n := range builtinFormats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParsePromptFormat returns the format named by spec: "" (plain), a
// built-in name (plain, alpaca, chatml, llama2), or an inline Go
// text/template, recognised by "{{", over PromptData, such as
//
//	{{.System}}\n\nUSER: {{.Prompt}}\nASSISTANT:
//
// An inline template has no default stop sequence. An unknown name, a
// template that does not parse or that fails on a sample conversation (a
// field PromptData lacks) is a *bench.InputError with Field "prompt_format".
func ParsePromptFormat(spec string) (*PromptFormat, error) {
	if spec == "" {
		spec = FormatPlain
	}
	if b, ok := builtinFormats[spec]; ok {
		return &PromptFormat{name: spec, stop: b.stop, key: spec,
			render: func(system string, msgs []bench.Message) (string, error) { return b.render(system, msgs), nil }}, nil
	}
	if !strings.Contains(spec, "{{") {
		return nil, &bench.InputError{File: "--model", Field: "prompt_format",
			Msg: fmt.Sprintf("unknown prompt format %q (known: %s, or an inline Go template such as \"{{.System}}\\n\\nUSER: {{.Prompt}}\\nASSISTANT:\")", spec, strings.Join(FormatNames(), ", "))}
	}
	t, err := template.New("prompt_format").Option("missingkey=error").Parse(spec)
	if err != nil {
		return nil, &bench.InputError{File: "--model", Field: "prompt_format", Msg: "the prompt format template does not parse: " + strings.TrimPrefix(err.Error(), "template: ")}
	}
	render := func(system string, msgs []bench.Message) (string, error) {
		var b strings.Builder
		d := PromptData{System: system, Prompt: bench.Request{Messages: msgs}.Prompt(), Messages: msgs}
		if err := t.Execute(&b, d); err != nil {
			return "", fmt.Errorf("prompt format: %w", err)
		}
		return b.String(), nil
	}
	probe := []bench.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}, {Role: "user", Content: "bye"}}
	if _, err := render("sys", probe); err != nil {
		return nil, &bench.InputError{File: "--model", Field: "prompt_format",
			Msg: strings.TrimPrefix(err.Error(), "prompt format: template: ") + " (a prompt format may use .System, .Prompt and .Messages)"}
	}
	h := sha256.Sum256([]byte(spec))
	return &PromptFormat{name: "template", render: render, key: "template:" + hex.EncodeToString(h[:8])}, nil
}

// DropsSystem reports whether the format has no place for a system
// prompt: alpaca, whose models were trained on its exact preamble, sends
// the instruction alone (a caller should say so when a suite has one).
func (f *PromptFormat) DropsSystem() bool { return f.name == FormatAlpaca }

// Name returns the built-in format's name, or "template" for an inline
// template.
func (f *PromptFormat) Name() string { return f.name }

// Stop returns the format's default stop sequences, sent when neither the
// configuration nor the request sets any.
func (f *PromptFormat) Stop() []string { return append([]string(nil), f.stop...) }

// Render renders the system prompt and the conversation as a prompt.
func (f *PromptFormat) Render(system string, msgs []bench.Message) (string, error) {
	return f.render(system, msgs)
}

// key identifies the format in a cache key.
func (f *PromptFormat) cacheKey() string { return f.key }

// splitLast returns the conversation before the last user message and that
// message's content.
func splitLast(msgs []bench.Message) ([]bench.Message, string) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[:i], msgs[i].Content
		}
	}
	return msgs, ""
}

// roleName capitalises the usual roles for a transcript.
func roleName(role string) string {
	switch role {
	case "system":
		return "System"
	case "user":
		return "User"
	case "assistant":
		return "Assistant"
	}
	return role
}

const (
	alpacaPreamble      = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
	alpacaInputPreamble = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request."
)

// renderAlpaca renders FormatAlpaca.
func renderAlpaca(_ string, msgs []bench.Message) string {
	before, instruction := splitLast(msgs)
	var b strings.Builder
	if len(before) == 0 {
		b.WriteString(alpacaPreamble)
		b.WriteString("\n\n### Instruction:\n")
		b.WriteString(instruction)
		b.WriteString("\n\n### Response:")
		return b.String()
	}
	b.WriteString(alpacaInputPreamble)
	b.WriteString("\n\n### Instruction:\n")
	b.WriteString(instruction)
	b.WriteString("\n\n### Input:\n")
	for i, m := range before {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(roleName(m.Role) + ": " + m.Content)
	}
	b.WriteString("\n\n### Response:")
	return b.String()
}

// renderChatML renders FormatChatML.
func renderChatML(system string, msgs []bench.Message) string {
	var b strings.Builder
	turn := func(role, content string) {
		b.WriteString("<|im_start|>" + role + "\n" + content + "<|im_end|>\n")
	}
	if system != "" {
		turn("system", system)
	}
	for _, m := range msgs {
		turn(m.Role, m.Content)
	}
	b.WriteString("<|im_start|>assistant\n")
	return b.String()
}

// renderLlama2 renders FormatLlama2, as Meta's chat_completion does: the
// system prompt goes into the first user turn, each user turn with the
// assistant's answer after it is "[INST] U [/INST] A </s><s>", and the last
// user turn is "[INST] U [/INST]".
func renderLlama2(system string, msgs []bench.Message) string {
	var b strings.Builder
	first := true
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		if m.Role == "system" {
			if system == "" {
				system = m.Content
			} else {
				system += "\n\n" + m.Content
			}
			continue
		}
		if m.Role != "user" {
			// An assistant turn without a user turn before it.
			b.WriteString(strings.TrimSpace(m.Content) + " </s><s>")
			continue
		}
		content := strings.TrimSpace(m.Content)
		if first && system != "" {
			content = "<<SYS>>\n" + strings.TrimSpace(system) + "\n<</SYS>>\n\n" + content
		}
		first = false
		b.WriteString("[INST] " + content + " [/INST]")
		if i+1 < len(msgs) && msgs[i+1].Role == "assistant" {
			b.WriteString(" " + strings.TrimSpace(msgs[i+1].Content) + " </s><s>")
			i++
		}
	}
	return b.String()
}
