package attack

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// kind is one attack of the registry.
type kind struct {
	name string
	// usage is how the name is written with its option, for error messages.
	usage string
	desc  string
	// build makes the step for one spec part; opt is the text after the
	// first ":" and hasOpt says whether there was one.
	build func(part, opt string, hasOpt bool, o Options) ([]step, error)
}

// registry lists the attacks in the order Known returns them.
var registry = []kind{
	{name: "none", desc: "The prompt unchanged: the baseline every attack is compared with.",
		build: plain(nil, false)},
	{name: "role-play", desc: "Frames the request as a question to a fictional character who answers everything in character.",
		build: plain(rolePlay, false)},
	{name: "prefix-injection", desc: `Asks the model to begin its answer with the affirmative prefix "Sure, here is" (Wei et al., 2023).`,
		build: plain(prefixInjection, false)},
	{name: "refusal-suppression", desc: "Surrounds the request with rules that forbid apologies, disclaimers and refusal words (Wei et al., 2023).",
		build: plain(refusalSuppression, false)},
	{name: "base64", desc: "Sends the request base64-encoded, with an instruction to decode it and answer in plain text.",
		build: plain(base64Encode, false)},
	{name: "leetspeak", desc: "Writes the request in leetspeak (a→4, b→8, e→3, g→9, i→1, o→0, s→5, t→7).",
		build: plain(leetspeak, false)},
	{name: "payload-splitting", desc: "Splits the request into two or three string variables and asks the model to answer their concatenation (Kang et al., 2023).",
		build: plain(payloadSplitting, true)},
	{name: "few-shot", usage: "few-shot[:K]", desc: "Puts K fabricated, harmless compliant Q/A demonstrations before the request (few-shot:K, default 3).",
		build: shotsKind(3)},
	{name: "many-shot", usage: "many-shot[:K]", desc: "Puts many fabricated, harmless compliant Q/A demonstrations before the request (many-shot:K, default 32; Anil et al., 2024).",
		build: shotsKind(32)},
	{name: "template", usage: "template:PATH", desc: "One attack per jailbreak template of a GPTFuzz-style file (CSV id,text; JSON; or text separated by ---), the request put in place of [INSERT PROMPT HERE].",
		build: templateKind},
}

// plain builds an attack that takes no option.
func plain(rw rewriter, random bool) func(string, string, bool, Options) ([]step, error) {
	return func(part, opt string, hasOpt bool, _ Options) ([]step, error) {
		if hasOpt {
			return nil, inputErr("attack %q takes no option", part)
		}
		return []step{{name: part, rewrite: rw, random: random}}, nil
	}
}

// shotsKind builds a few-shot or many-shot attack with k demonstrations.
func shotsKind(def int) func(string, string, bool, Options) ([]step, error) {
	return func(part, opt string, hasOpt bool, _ Options) ([]step, error) {
		k := def
		if hasOpt {
			n, err := strconv.Atoi(opt)
			if err != nil || n < 1 || n > maxShots {
				return nil, inputErr("attack %q: the number of demonstrations must be an integer from 1 to %d", part, maxShots)
			}
			k = n
		}
		return []step{{name: part, rewrite: shots(k), random: true}}, nil
	}
}

// templateKind builds one attack per template of a file.
func templateKind(part, path string, hasOpt bool, o Options) ([]step, error) {
	if !hasOpt || strings.TrimSpace(path) == "" {
		return nil, inputErr("attack %q needs a file: template:PATH", part)
	}
	full := path
	if o.Dir != "" && !filepath.IsAbs(path) {
		full = filepath.Join(o.Dir, path)
	}
	ts, err := LoadTemplates(full)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	steps := make([]step, len(ts))
	for i, t := range ts {
		steps[i] = step{name: "template:" + base + "#" + t.ID, rewrite: fillTemplate(t.Text)}
	}
	return steps, nil
}

// Known returns the names of the attacks, in a fixed order. Attacks that
// take an option are listed by their bare name (few-shot, many-shot,
// template).
func Known() []string {
	out := make([]string, len(registry))
	for i, k := range registry {
		out[i] = k.name
	}
	return out
}

// Describe returns a one-line description of an attack, given its name with
// or without an option ("few-shot", "few-shot:5", "template:x.csv"), or ""
// when there is no such attack. A composed name is described part by part.
func Describe(name string) string {
	if parts := strings.Split(name, "+"); len(parts) > 1 && !strings.HasPrefix(name, "template:") {
		descs := make([]string, 0, len(parts))
		for _, p := range parts {
			d := Describe(p)
			if d == "" {
				return ""
			}
			descs = append(descs, strings.TrimSuffix(d, "."))
		}
		return "Applied left to right: " + strings.Join(descs, "; then ") + "."
	}
	head, _, _ := strings.Cut(strings.TrimSpace(name), ":")
	for _, k := range registry {
		if k.name == head {
			return k.desc
		}
	}
	return ""
}

// Usage returns how an attack is written, with its option when it takes one
// ("few-shot[:K]", "template:PATH"), for help texts.
func Usage(name string) string {
	for _, k := range registry {
		if k.name == name {
			if k.usage != "" {
				return k.usage
			}
			return k.name
		}
	}
	return ""
}

// Options are the settings of ResolveWith.
type Options struct {
	// Dir is the folder that relative template paths are read from (for
	// example the folder of the suite file); "" means the working directory.
	Dir string
}

// Resolve turns one attack spec into the attacks it names, reading template
// paths relative to the working directory. It is ResolveWith with zero
// Options.
func Resolve(spec string) ([]Attack, error) {
	return ResolveWith(spec, Options{})
}

// ResolveWith turns one attack spec into the attacks it names. A spec is
// one attack ("base64", "few-shot:5"), a template file that expands to one
// attack per template ("template:jailbreaks.csv"), or a composition of these
// joined by "+" and applied left to right ("base64+role-play"); a
// composition that contains template files expands to every combination, in
// file order. Errors are *bench.InputError with Field "attacks" (and, for a
// bad template file, its File and Line).
func ResolveWith(spec string, o Options) ([]Attack, error) {
	parts := splitSpec(spec)
	combos := [][]step{nil}
	for _, part := range parts {
		if part == "" {
			return nil, inputErr("empty attack in %q", spec)
		}
		head, opt, hasOpt := strings.Cut(part, ":")
		k := lookup(head)
		if k == nil {
			return nil, inputErr("unknown attack %q (known: %s)", head, strings.Join(Known(), ", "))
		}
		steps, err := k.build(part, opt, hasOpt, o)
		if err != nil {
			return nil, err
		}
		next := make([][]step, 0, len(combos)*len(steps))
		for _, c := range combos {
			for _, st := range steps {
				next = append(next, append(append([]step(nil), c...), st))
			}
		}
		combos = next
	}
	out := make([]Attack, len(combos))
	for i, c := range combos {
		out[i] = &chain{name: joinNames(c), steps: c}
	}
	return out, nil
}

// splitSpec splits a spec at "+", trimming spaces around each part. A "+"
// inside a template path (the following text is not a known attack) stays in
// the path.
func splitSpec(spec string) []string {
	raw := strings.Split(spec, "+")
	var parts []string
	for _, r := range raw {
		t := strings.TrimSpace(r)
		if n := len(parts); n > 0 && strings.HasPrefix(parts[n-1], "template:") {
			head, _, _ := strings.Cut(t, ":")
			if t != "" && lookup(head) == nil {
				parts[n-1] = strings.TrimSpace(parts[n-1] + "+" + r)
				continue
			}
		}
		parts = append(parts, t)
	}
	return parts
}

// lookup returns the registry entry of a bare attack name, or nil.
func lookup(name string) *kind {
	for i := range registry {
		if registry[i].name == name {
			return &registry[i]
		}
	}
	return nil
}

// inputErr returns an *bench.InputError about the attacks field.
func inputErr(format string, args ...any) *bench.InputError {
	return &bench.InputError{Field: "attacks", Msg: fmt.Sprintf(format, args...)}
}
