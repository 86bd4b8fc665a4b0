package bench

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
)

// Price is what a model's tokens cost, in US dollars per million tokens.
type Price struct {
	Input  float64 `json:"input" yaml:"input"`
	Output float64 `json:"output" yaml:"output"`
}

// BatchDiscount is the factor applied to the price of a request answered
// through a batch (OpenAI's Batch API bills half the synchronous price).
const BatchDiscount = 0.5

// Cost returns the cost in USD of a request with the given token counts.
func (p Price) Cost(promptTokens, completionTokens int64) float64 {
	return (float64(promptTokens)*p.Input + float64(completionTokens)*p.Output) / 1e6
}

// DefaultPrices are the synchronous (standard tier) prices of well-known
// OpenAI models, USD per million tokens, from OpenAI's pricing page
// (https://platform.openai.com/docs/pricing), as listed from 2025 to March
// 2026. A price given in mores.yaml replaces them; a model not listed has no
// price (its cost is recorded as 0 and reported as unknown).
var DefaultPrices = map[string]Price{
	"gpt-4o-mini":   {0.15, 0.60},
	"gpt-4o":        {2.50, 10.00},
	"gpt-4.1":       {2.00, 8.00},
	"gpt-4.1-mini":  {0.40, 1.60},
	"gpt-4.1-nano":  {0.10, 0.40},
	"gpt-5":         {1.25, 10.00},
	"gpt-5-mini":    {0.25, 2.00},
	"gpt-5-nano":    {0.05, 0.40},
	"o1":            {15.00, 60.00},
	"o3":            {2.00, 8.00},
	"o3-mini":       {1.10, 4.40},
	"o4-mini":       {1.10, 4.40},
	"gpt-4-turbo":   {10.00, 30.00},
	"gpt-3.5-turbo": {0.50, 1.50},
}

// DefaultPrice returns the default price of an OpenAI model name: an exact
// entry of DefaultPrices, or the entry the name extends with a dated
// snapshot suffix (gpt-4o-mini-2024-07-18 is priced as gpt-4o-mini).
func DefaultPrice(model string) (Price, bool) {
	if p, ok := DefaultPrices[model]; ok {
		return p, true
	}
	best := ""
	for name := range DefaultPrices {
		rest, ok := strings.CutPrefix(model, name+"-")
		if ok && len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' && len(name) > len(best) {
			best = name
		}
	}
	if best == "" {
		return Price{}, false
	}
	return DefaultPrices[best], true
}

// EstimateTokens estimates the prompt tokens of a request: about four bytes
// of text a token, plus four tokens a message for the chat format's
// framing. It is an estimate for --dry-run and the cost budget, not a
// tokenizer.
func EstimateTokens(req Request) int64 {
	n := int64(0)
	add := func(s string) { n += int64(len(s)+3)/4 + 4 }
	if req.System != "" {
		add(req.System)
	}
	for _, m := range req.Messages {
		add(m.Content)
	}
	return n + 3
}

// DefaultOutputEstimate is the completion tokens assumed for a request that
// sets no max_tokens, until the model has answered some requests (then the
// mean of their completion tokens is used).
const DefaultOutputEstimate = 256

// ErrBudget is returned by Run when the next request would take the run's
// cost over RunSpec.MaxCost.
var ErrBudget = errors.New("cost budget reached")

// budget tracks a run's spending against its limit. Each request reserves
// its estimated cost before it is sent and settles it with its actual cost
// when it returns, so that requests in flight count: a request that does
// not fit beside those in flight waits for them, and one that does not fit
// beside what was spent stops the run.
type budget struct {
	max float64 // 0: no limit
	// halt, when set, ends every wait of reserve (the run's dispatch
	// stopped); it ends whenever the context given to reserve does.
	halt context.Context

	mu       sync.Mutex
	cond     *sync.Cond
	spent    float64
	reserved float64
	inFlight int
}

// reserve reserves est once the spending, the reservations and est stay
// within the limit, waiting for requests in flight to settle. It reports
// false when est does not fit beside what was spent, or ctx ended.
func (b *budget) reserve(ctx context.Context, est float64) bool {
	if !b.limited() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cond == nil {
		b.cond = sync.NewCond(&b.mu)
	}
	if b.halt != nil {
		ctx = b.halt
	}
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	for {
		switch {
		case ctx.Err() != nil, b.spent+est > b.max+1e-12:
			return false
		case b.inFlight == 0 || b.spent+b.reserved+est <= b.max+1e-12:
			b.reserved += est
			b.inFlight++
			return true
		}
		b.cond.Wait()
	}
}

// limited reports whether the budget has a limit.
func (b *budget) limited() bool { return b != nil && b.max > 0 }

// total returns what was spent.
func (b *budget) total() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// settle replaces a reservation with the cost actually spent.
func (b *budget) settle(est, cost float64) {
	if !b.limited() {
		return
	}
	b.mu.Lock()
	b.reserved = math.Max(0, b.reserved-est)
	b.inFlight--
	b.spent += cost
	if b.cond != nil {
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

// outputEstimator estimates the completion tokens of a model's next request:
// max_tokens when the request sets it, else the mean of what the model
// answered so far, else DefaultOutputEstimate.
type outputEstimator struct {
	maxTokens int // the model's own default max_tokens (ParamDefaults)
	mu        sync.Mutex
	n, sum    int64
}

// ParamDefaults is implemented by models that apply default sampling
// parameters of their own to a request that leaves them unset; the cost
// budget and --dry-run read max_tokens from them.
type ParamDefaults interface {
	DefaultParams() GenParams
}

// modelMaxTokens returns the default max_tokens of a model, or 0.
func modelMaxTokens(m Model) int {
	if pd, ok := m.(ParamDefaults); ok {
		return pd.DefaultParams().MaxTokens
	}
	return 0
}

func (o *outputEstimator) observe(tokens int64) {
	o.mu.Lock()
	o.n++
	o.sum += tokens
	o.mu.Unlock()
}

func (o *outputEstimator) estimate(p GenParams) int64 {
	if p.MaxTokens > 0 {
		return int64(p.MaxTokens)
	}
	if o.maxTokens > 0 {
		return int64(o.maxTokens)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		return DefaultOutputEstimate
	}
	return (o.sum + o.n - 1) / o.n
}

// ModelCost is what one model of a run spent.
type ModelCost struct {
	Model            string  `json:"model"`
	Requests         int64   `json:"requests"` // answers not served by the cache
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	// Priced is false when the model has no price (its cost counts 0).
	Priced bool `json:"priced"`
}

// CostSummary is what a run spent, per model and in all.
type CostSummary struct {
	Models  []ModelCost `json:"models"`
	CostUSD float64     `json:"cost_usd"`
}

// priceCompletion sets the cost of an answer at price p: nothing for a
// cached answer, half price for a batch answer.
func priceCompletion(c *Completion, p *Price) {
	switch {
	case c.Cached || p == nil:
		c.CostUSD = 0
	case c.Batch:
		c.CostUSD = p.Cost(c.PromptTokens, c.CompletionTokens) * BatchDiscount
	default:
		c.CostUSD = p.Cost(c.PromptTokens, c.CompletionTokens)
	}
}

// costBook adds up the cost of journaled trials per model. It is used by
// one goroutine at a time.
type costBook struct {
	order  []string
	models map[string]*ModelCost
}

func newCostBook(models []ModelPlan) *costBook {
	b := &costBook{models: map[string]*ModelCost{}}
	for _, m := range models {
		b.order = append(b.order, m.Name)
		b.models[m.Name] = &ModelCost{Model: m.Name, Priced: m.Price != nil}
	}
	return b
}

// add counts the answer of a trial entry.
func (b *costBook) add(e *Entry) {
	c := e.Result
	if e.Kind != EntryTrial || c == nil || c.Cached {
		return
	}
	mc := b.models[e.Model]
	if mc == nil {
		mc = &ModelCost{Model: e.Model}
		b.models[e.Model] = mc
		b.order = append(b.order, e.Model)
	}
	mc.Requests++
	mc.PromptTokens += c.PromptTokens
	mc.CompletionTokens += c.CompletionTokens
	mc.CostUSD += c.CostUSD
}

func (b *costBook) total() float64 {
	t := 0.0
	for _, mc := range b.models {
		t += mc.CostUSD
	}
	return t
}

func (b *costBook) summary() *CostSummary {
	s := &CostSummary{}
	for _, name := range b.order {
		mc := *b.models[name]
		s.Models = append(s.Models, mc)
		s.CostUSD += mc.CostUSD
	}
	return s
}

// cacheHolds reports whether m answers req from the response cache
// without a request (a cache that holds the request's key).
func cacheHolds(m Model, req Request) bool {
	cm, ok := m.(*cachedModel)
	return ok && cm.cache.Has(cm.cache.Key(req))
}
