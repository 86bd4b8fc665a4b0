package bench

import (
	"path/filepath"
)

// ModelEstimate is what a dry run expects of one model.
type ModelEstimate struct {
	Model    string `json:"model"`
	Trials   int64  `json:"trials"`   // trials still to run
	Cached   int64  `json:"cached"`   // of which the response cache answers
	Requests int64  `json:"requests"` // requests to send: Trials − Cached
	// PromptTokens and OutputTokens are estimates for the requests to
	// send (EstimateTokens; max_tokens or DefaultOutputEstimate).
	PromptTokens int64   `json:"prompt_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	Priced       bool    `json:"priced"`
}

// Estimate is what a dry run expects a run to send and spend.
type Estimate struct {
	Models       []ModelEstimate `json:"models"`
	Journaled    int64           `json:"journaled"` // trials done already (a resumed run)
	Trials       int64           `json:"trials"`
	Cached       int64           `json:"cached"`
	Requests     int64           `json:"requests"`
	PromptTokens int64           `json:"prompt_tokens"`
	OutputTokens int64           `json:"output_tokens"`
	CostUSD      float64         `json:"cost_usd"`
}

// EstimateOptions refine an estimate.
type EstimateOptions struct {
	// Batch prices the requests at the batch price (BatchDiscount).
	Batch bool
}

// EstimateRun walks the plan of spec as Run would, without sending
// anything, and counts the trials not journaled yet in spec.Dir, the
// requests among them that the response cache does not answer, their
// estimated tokens and their cost at the models' prices. It neither creates
// nor changes any file. It counts the requests of the models under test,
// not those of LLM judges.
func EstimateRun(spec RunSpec, opt EstimateOptions) (Estimate, error) {
	var est Estimate
	if spec.Epochs < 1 {
		spec.Epochs = 1
	}
	js, err := scanDone(filepath.Join(spec.Dir, JournalFile), spec.Models)
	if err != nil {
		return est, err
	}
	models := make([]Model, len(spec.Models))
	per := make([]ModelEstimate, len(spec.Models))
	for i, m := range spec.Models {
		models[i] = m.Model
		if spec.Cache != nil {
			models[i] = WithCache(m.Model, spec.Cache)
		}
		per[i] = ModelEstimate{Model: m.Name, Priced: m.Price != nil}
	}
	var skipped int64
	produce(&spec, js.isDone, &skipped, func(w work) bool {
		me := &per[w.model]
		me.Trials++
		if w.err != nil {
			return true // fails before any request
		}
		if cacheHolds(models[w.model], w.t.Request) {
			me.Cached++
			return true
		}
		me.Requests++
		in := EstimateTokens(w.t.Request)
		out := int64(w.t.Request.Params.MaxTokens)
		if out <= 0 {
			out = int64(modelMaxTokens(spec.Models[w.model].Model))
		}
		if out <= 0 {
			out = DefaultOutputEstimate
		}
		me.PromptTokens += in
		me.OutputTokens += out
		if p := spec.Models[w.model].Price; p != nil {
			c := p.Cost(in, out)
			if opt.Batch {
				c *= BatchDiscount
			}
			me.CostUSD += c
		}
		return true
	})
	est.Journaled = skipped
	for _, me := range per {
		est.Models = append(est.Models, me)
		est.Trials += me.Trials
		est.Cached += me.Cached
		est.Requests += me.Requests
		est.PromptTokens += me.PromptTokens
		est.OutputTokens += me.OutputTokens
		est.CostUSD += me.CostUSD
	}
	return est, nil
}
