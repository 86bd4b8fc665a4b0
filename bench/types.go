package bench

import (
	"context"
	"time"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Sample is one item of a dataset after field mapping.
type Sample struct {
	// ID is stable: given by the dataset, or a content hash.
	ID string `json:"id"`
	// Input is the user prompt (empty when Messages is set).
	Input string `json:"input,omitempty"`
	// Messages holds a multi-turn conversation; the last turn is the user's.
	Messages []Message `json:"messages,omitempty"`
	// Choices are the options of a multiple-choice item.
	Choices []string `json:"choices,omitempty"`
	// Target is the expected answer or label, if any.
	Target string `json:"target,omitempty"`
	// Response is a recorded response, judged as is by the model `replay:`.
	Response string `json:"response,omitempty"`
	// Fields holds every column of the source row (as text) plus the mapped
	// names (input, target, choices, response), for prompt templates.
	Fields map[string]string `json:"fields,omitempty"`
}

// GenParams are the sampling parameters of a request. Nil means "the
// server's default".
type GenParams struct {
	Temperature *float64 `json:"temperature,omitempty" yaml:"temperature"`
	TopP        *float64 `json:"top_p,omitempty" yaml:"top_p"`
	MaxTokens   int      `json:"max_tokens,omitempty" yaml:"max_tokens"`
	Seed        *int     `json:"seed,omitempty" yaml:"seed"`
	Stop        []string `json:"stop,omitempty" yaml:"stop"`
	// ScoreContinuation asks for no new text: the content of the request's
	// last message, an assistant turn, is scored as a continuation of the
	// conversation before it, and the Completion carries the sum of its
	// tokens' log-probabilities in Logprob. Judges that score multiple-choice
	// answers by likelihood (judge mc) set it; it is part of the cache key
	// like every parameter. A model that cannot score returns a Completion
	// without Logprob (or an error).
	ScoreContinuation bool `json:"score_continuation,omitempty" yaml:"-"`
}

// Request is what a Model is asked to complete.
type Request struct {
	System   string    `json:"system,omitempty"`
	Messages []Message `json:"messages"`
	Params   GenParams `json:"params"`
	// SampleID and Prompt let replay models find a recorded output; Sample
	// carries the whole sample for models that need more of it.
	SampleID string  `json:"sample_id,omitempty"`
	Sample   *Sample `json:"-"`
	// Epoch distinguishes repeated samples (it is part of the cache key).
	Epoch int `json:"epoch"`
	// Seed is the run seed, for simulated models.
	Seed int64 `json:"-"`
}

// Prompt returns the content of the last user message.
func (r Request) Prompt() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Completion is a model's answer. A refusal is a Completion, not an error.
type Completion struct {
	Text             string        `json:"text"`
	FinishReason     string        `json:"finish_reason,omitempty"`
	PromptTokens     int64         `json:"prompt_tokens,omitempty"`
	CompletionTokens int64         `json:"completion_tokens,omitempty"`
	Latency          time.Duration `json:"latency,omitempty"`
	Attempts         int           `json:"attempts,omitempty"`
	Cached           bool          `json:"cached,omitempty"`
	// Logprob is set only in answer to a request with
	// Params.ScoreContinuation: the sum of the natural-log probabilities of
	// the continuation's tokens given the conversation before it.
	Logprob *float64 `json:"logprob,omitempty"`
	// LogprobTokens is the number of tokens summed into Logprob.
	LogprobTokens int `json:"logprob_tokens,omitempty"`
	// CostUSD is what the request cost at the model's price (half of it
	// for an answer from a batch); 0 for a cached answer or a model with no
	// price.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// Batch is set when the answer came from a batch (OpenAI's Batch API
	// or an imported batch results file) rather than a synchronous call.
	Batch bool `json:"batch,omitempty"`
}

// Model generates completions. Implementations must be safe for concurrent
// use. Generate returns an error only when no response was obtained.
type Model interface {
	Generate(ctx context.Context, req Request) (Completion, error)
}

// Cacheable is implemented by models whose completions may be cached; the
// key identifies the model and every setting that changes its output (never
// a secret).
type Cacheable interface {
	CacheKey() string
}

// Trial is one unit of work: a sample of a suite, transformed by an attack,
// sent to a model, in an epoch.
type Trial struct {
	Index    int64   `json:"index"`
	RunID    string  `json:"run_id"`
	Suite    string  `json:"suite"`
	SampleID string  `json:"sample_id"`
	Model    string  `json:"model"`
	Attack   string  `json:"attack"`
	Epoch    int     `json:"epoch"`
	Request  Request `json:"request"`
	Sample   *Sample `json:"-"`
}

// Key identifies a trial across runs, shards and resumes.
func (t Trial) Key() TrialKey {
	return TrialKey{Suite: t.Suite, SampleID: t.SampleID, Model: t.Model, Attack: t.Attack, Epoch: t.Epoch}
}

// TrialKey identifies a trial.
type TrialKey struct {
	Suite, SampleID, Model, Attack string
	Epoch                          int
}

// Score is one metric from one judge for one trial.
type Score struct {
	Judge       string  `json:"judge"`
	Metric      string  `json:"metric"`
	Value       float64 `json:"value"`
	Label       string  `json:"label,omitempty"`
	Explanation string  `json:"explanation,omitempty"`
	// Error is set when the judge could not score; Value is then meaningless.
	Error string `json:"error,omitempty"`
	// Rater identifies a human rater, when the judge is human.
	Rater string `json:"rater,omitempty"`
	// Version identifies the judge's prompt or model (for LLM judges, the
	// hash of the versioned prompt template), recorded with every score.
	Version string `json:"version,omitempty"`
}

// PairJudge compares two models' completions of the same trial (same suite,
// sample, attack and epoch). A and B are the two models' trials; the scores
// it returns are recorded against trial a, with metric names that say so
// (for example win, tie, loss, flip).
type PairJudge interface {
	Name() string
	ScorePair(ctx context.Context, a, b Trial, ca, cb Completion) ([]Score, error)
}

// Judge scores a completion. Implementations must be safe for concurrent
// use. An error means the judge could not run at all; a judge that could not
// score one metric returns a Score with Error set.
type Judge interface {
	Name() string
	Score(ctx context.Context, t Trial, c Completion) ([]Score, error)
}

// JudgeSpec names a judge and its options as a suite file or the command
// line gives them: `refusal`, or `{name: rubric, model: judge}`.
type JudgeSpec struct {
	Name    string         `json:"name"`
	Options map[string]any `json:"options,omitempty"`
	// Line is the line of the suite file that names the judge (0 if none).
	Line int `json:"-"`
}
