package judges

import (
	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/protocol"
)

// The published judge protocols of package protocol.
func init() {
	Register("jailbreakbench", newJailbreakBench)
	Register("harmbench", newHarmBench)
	Register("llamaguard", newLlamaGuard)
	Register("strongreject", newStrongREJECT)
}

// protocolOptions are the options every protocol judge takes.
type protocolOptions struct {
	Model       string   `json:"model"`
	Temperature *float64 `json:"temperature"`
	Seed        *int     `json:"seed"`
	MaxTokens   int      `json:"max_tokens"`
}

func (o protocolOptions) params() protocol.Params {
	return protocol.Params{Temperature: o.Temperature, Seed: o.Seed, MaxTokens: o.MaxTokens}
}

// protocolName is the judge's name: its kind, and the model when it is not
// the run's judge model (as for LLM judges).
func protocolName(spec bench.JudgeSpec, model string) string {
	if model != "" && model != "judge" {
		return spec.Name + "@" + model
	}
	return spec.Name
}

type jailbreakBenchOptions struct {
	protocolOptions
	Refusal      bool   `json:"refusal"`
	RefusalModel string `json:"refusal_model"`
}

func newJailbreakBench(spec bench.JudgeSpec, env Env) (any, error) {
	var o jailbreakBenchOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	m, err := judgeModel(spec, env, o.Model)
	if err != nil {
		return nil, err
	}
	jo := protocol.JailbreakBenchOptions{Name: protocolName(spec, o.Model), Refusal: o.Refusal || o.RefusalModel != "", Params: o.params()}
	if o.RefusalModel != "" {
		if jo.RefusalModel, err = judgeModel(spec, env, o.RefusalModel); err != nil {
			return nil, err
		}
	}
	return protocol.NewJailbreakBench(m, jo)
}

type harmBenchOptions struct {
	protocolOptions
	Behavior string `json:"behavior"`
	Context  string `json:"context"`
}

func newHarmBench(spec bench.JudgeSpec, env Env) (any, error) {
	var o harmBenchOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	m, err := judgeModel(spec, env, o.Model)
	if err != nil {
		return nil, err
	}
	j, err := protocol.NewHarmBench(m, protocol.HarmBenchOptions{Name: protocolName(spec, o.Model), Behavior: o.Behavior, Context: o.Context, Params: o.params()})
	if err != nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".model", Msg: err.Error()}
	}
	return j, nil
}

func newLlamaGuard(spec bench.JudgeSpec, env Env) (any, error) {
	var o protocolOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	m, err := judgeModel(spec, env, o.Model)
	if err != nil {
		return nil, err
	}
	j, err := protocol.NewLlamaGuard(m, protocol.LlamaGuardOptions{Name: protocolName(spec, o.Model), Params: o.params()})
	if err != nil {
		return nil, &bench.InputError{Field: "judges." + spec.Name + ".model", Msg: err.Error()}
	}
	return j, nil
}

func newStrongREJECT(spec bench.JudgeSpec, env Env) (any, error) {
	var o protocolOptions
	if err := decodeOptions(spec, &o); err != nil {
		return nil, err
	}
	m, err := judgeModel(spec, env, o.Model)
	if err != nil {
		return nil, err
	}
	return protocol.NewStrongREJECT(m, protocol.StrongREJECTOptions{Name: protocolName(spec, o.Model), Params: o.params()})
}
