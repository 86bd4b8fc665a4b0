package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// judgeModelKey names the judge model in runOptions.Redacted.
const judgeModelKey = "judge_model"

// redactOptions returns the options to record in the manifest: o with the
// credentials of every model spec's URL replaced by REDACTED (see
// bench.RedactURL), and the models whose spec lost one named in Redacted.
// The options themselves keep the real specs: the requests use them.
func redactOptions(o runOptions) runOptions {
	r := o
	r.Redacted = nil
	r.Models = make([]string, len(o.Models))
	for i, m := range o.Models {
		name, spec, ok := strings.Cut(m, "=")
		if !ok {
			r.Models[i] = m // a config name: its URL is in the config file
			continue
		}
		red := bench.RedactURL(spec)
		if red != spec {
			r.Redacted = append(r.Redacted, name)
		}
		r.Models[i] = name + "=" + red
	}
	if red := bench.RedactURL(o.JudgeModel); red != o.JudgeModel {
		r.JudgeModel = red
		r.Redacted = append(r.Redacted, judgeModelKey)
	}
	return r
}

// restoreSecrets puts back into o, read from a manifest, the model specs
// given again to --resume (models as NAME=SPEC, judgeModel a spec). A spec
// given again must be the one the run used, but for its credentials; a
// spec that was recorded without its credentials must be given again.
func restoreSecrets(dir string, o *runOptions, models []string, judgeModel string) error {
	restored := map[string]bool{}
	for _, m := range models {
		name, spec, ok := strings.Cut(m, "=")
		if !ok {
			return usagef("--model %q: with --resume, give NAME=SPEC for a model of the run", bench.RedactURL(m))
		}
		i := slices.IndexFunc(o.Models, func(x string) bool { n, _, _ := strings.Cut(x, "="); return n == name })
		if i < 0 {
			return usagef("--model %s: the run in %s has no model %s (it has: %s); a resumed run keeps its models",
				name, dir, name, strings.Join(modelNames(o.Models), ", "))
		}
		_, was, _ := strings.Cut(o.Models[i], "=")
		if bench.RedactURL(spec) != bench.RedactURL(was) {
			return usagef("--model %s=%s: the run used %s=%s; a resumed run keeps its models (start a new run to change one)",
				name, bench.RedactURL(spec), name, bench.RedactURL(was))
		}
		o.Models[i] = name + "=" + spec
		restored[name] = true
	}
	if judgeModel != "" {
		if bench.RedactURL(judgeModel) != bench.RedactURL(o.JudgeModel) {
			return usagef("--judge-model %s: the run used %q; a resumed run keeps its judge model (start a new run to change it)",
				bench.RedactURL(judgeModel), bench.RedactURL(o.JudgeModel))
		}
		o.JudgeModel = judgeModel
		restored[judgeModelKey] = true
	}
	var flags []string
	for _, name := range o.Redacted {
		if restored[name] {
			continue
		}
		if name == judgeModelKey {
			flags = append(flags, fmt.Sprintf("--judge-model %s", o.JudgeModel))
			continue
		}
		for _, m := range o.Models {
			if n, _, _ := strings.Cut(m, "="); n == name {
				flags = append(flags, "--model "+m)
			}
		}
	}
	o.Redacted = nil
	if len(flags) > 0 {
		return usagef("--resume %s: the run's model URLs held credentials, which are not recorded; give them again, with REDACTED replaced: mores run --resume %s %s",
			dir, dir, strings.Join(flags, " "))
	}
	return nil
}

// modelNames returns the names of NAME=SPEC model options.
func modelNames(models []string) []string {
	out := make([]string, len(models))
	for i, m := range models {
		out[i], _, _ = strings.Cut(m, "=")
	}
	return out
}

// judgeModelError names where a judge model that cannot be used came from:
// --judge-model, or judge_model in the config file.
func judgeModelError(err error, fromFlag bool, config string) error {
	var ie *bench.InputError
	if errors.As(err, &ie) && ie.File == "--model" {
		if fromFlag {
			ie.File = "--judge-model"
		} else {
			ie.File, ie.Field = config, "judge_model"
		}
	}
	return err
}
