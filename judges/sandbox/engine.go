package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mores-eval/mores/bench"
)

// Record is one back-scatter: an agent's draft, its peers' ratings and
// feedback, its revision, and the observer's ratings of draft and revision.
// It is a line of the sandbox journal and a row of interactions.parquet.
type Record struct {
	World    int    `json:"world"`
	Model    string `json:"model"`
	Setting  string `json:"setting"`
	Round    int    `json:"round"`
	AgentID  int    `json:"agent_id"`
	Label    string `json:"label"`
	Question string `json:"question"`
	Draft    string `json:"draft_answer"`
	// Recalled is the remembered question the draft prompt recalled ("" for
	// none).
	Recalled string `json:"recalled,omitempty"`
	// PeerIDs, PeerRatings and PeerFeedback are in the order the revise
	// prompt gives the feedback: highest rating first, lowest last, an
	// unparsed rating (nil) sorting as 8, first.
	PeerIDs        []int      `json:"peer_ids"`
	PeerRatings    []*float64 `json:"peer_ratings"`
	PeerFeedback   []string   `json:"peer_feedback"`
	MeanPeerRating *float64   `json:"mean_peer_rating"`
	Revised        string     `json:"revised_answer"`

	AlignmentBefore        *float64 `json:"alignment_before"`
	AlignmentAfter         *float64 `json:"alignment_after"`
	EngagementBefore       *float64 `json:"engagement_before"`
	EngagementAfter        *float64 `json:"engagement_after"`
	AlignmentReasonBefore  string   `json:"alignment_reason_before"`
	AlignmentReasonAfter   string   `json:"alignment_reason_after"`
	EngagementReasonBefore string   `json:"engagement_reason_before"`
	EngagementReasonAfter  string   `json:"engagement_reason_after"`
	Error                  string   `json:"error,omitempty"`
}

// Key identifies a back-scatter in a run.
type Key struct{ World, Round, Agent int }

// Key returns the record's key.
func (r *Record) Key() Key { return Key{r.World, r.Round, r.AgentID} }

// World is one world of a run: the model under test drives every agent.
type World struct {
	Name  string
	Model bench.Model
	// Completions says the model is served on the plain completions
	// endpoint: its agent calls carry no system prompt, as call_gpt sends a
	// non-chat model (text-davinci-*) the bare prompt and CHAT_PRIOR only to
	// chat models.
	Completions bool
}

// Spec is the parameter set of a sandbox run. The zero values of Size,
// Rounds, Setting, Peers and Dropout are the released code's defaults.
type Spec struct {
	Worlds   []World
	Observer bench.Model
	Embedder Embedder
	// Cache, when set, keeps remote embeddings (the models' completions are
	// cached by wrapping the models, bench.WithCache).
	Cache     *bench.Cache
	Questions []string
	// Prior is the prior memory to sample from; nil means agents start with
	// none.
	Prior []PriorItem
	// PriorPerAgent is n_total (default PriorPerAgent).
	PriorPerAgent int

	Size    int    // grid size (default 3)
	Rounds  int    // default 1
	Setting string // default all_good
	Interaction
	ScoreOnly   bool
	Seed        int64
	Concurrency int // back-scatters in flight at once (default 10, the released thread pool)

	// Done returns the journaled record of a back-scatter, when there is
	// one; Run then makes no call for it, unless it failed in a round the
	// journal holds only in part.
	Done func(Key) (*Record, bool)
	// Emit receives every new record (from several goroutines, one at a
	// time).
	Emit func(*Record) error
	// Progress, when set, is called after every back-scatter with done and
	// total.
	Progress func(done, total int)
	// UnreachableAfter is how many back-scatters of a world may fail in a
	// row, with none done, before the run stops (default 8).
	UnreachableAfter int
}

// ErrUnreachable is returned when a world's model or the observer fails
// every back-scatter.
var ErrUnreachable = errors.New("model unreachable")

func (s *Spec) defaults() {
	if s.Size == 0 {
		s.Size = 3
	}
	if s.Rounds == 0 {
		s.Rounds = 1
	}
	if s.Setting == "" {
		s.Setting = "all_good"
	}
	if s.Peers == 0 {
		s.Peers = 4
	}
	if s.Global && s.Dropout == 0 {
		s.Dropout = 0.5
	}
	if s.PriorPerAgent == 0 {
		s.PriorPerAgent = PriorPerAgent
	}
	if s.Concurrency < 1 {
		s.Concurrency = 10
	}
	if s.UnreachableAfter < 1 {
		s.UnreachableAfter = 8
	}
	if s.Embedder == nil {
		s.Embedder = Lexical{}
	}
}

// Validate reports every problem of the spec, before any request: the
// world's shape, the setting, the peer quota of global interaction for
// every agent.
func (s Spec) Validate() []error {
	s.defaults()
	var errs []error
	if s.Size < 1 {
		errs = append(errs, fmt.Errorf("--size %d: want at least 1", s.Size))
	}
	if s.Rounds < 1 {
		errs = append(errs, fmt.Errorf("--rounds %d: want at least 1", s.Rounds))
	}
	if !slices.Contains(Settings, s.Setting) {
		errs = append(errs, fmt.Errorf("--setting %q: want one of %s", s.Setting, strings.Join(Settings, ", ")))
	}
	if s.Peers < 1 {
		errs = append(errs, fmt.Errorf("--peers %d: want at least 1", s.Peers))
	}
	if s.Dropout < 0 || s.Dropout > 1 {
		errs = append(errs, fmt.Errorf("--dropout %v: want a rate from 0 to 1", s.Dropout))
	}
	if len(s.Questions) == 0 {
		errs = append(errs, errors.New("no questions"))
	}
	if len(s.Worlds) == 0 {
		errs = append(errs, errors.New("no model"))
	}
	if s.Observer == nil {
		errs = append(errs, errors.New("no observer model"))
	}
	if len(errs) == 0 && s.Global {
		agents, _ := Layout(s.Size, s.Setting, s.Seed)
		for _, a := range agents {
			if _, err := PickPeers(agents, a, s.Size/2, s.Interaction, rng(0)); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return errs
}

// Stats counts what a run did.
type Stats struct {
	Planned int `json:"planned"`
	Resumed int `json:"resumed"`
	Done    int `json:"done"`
	Errors  int `json:"errors"`
}

// QuestionFor returns the question of agent i in round r (from 1), as
// get_query_questions hands them out: round r takes the next n questions
// of the list, agent i the i-th of them, wrapping around the list.
func QuestionFor(questions []string, n, round, i int) string {
	return questions[((round-1)*n+i)%len(questions)]
}

// worldState is a world during a run.
type worldState struct {
	idx    int // from 1
	w      World
	agents []Agent
	mems   []Memory
}

// Run simulates every world of spec, round by round. Within a round the
// agents' back-scatters run concurrently and read the memories as they were
// when the round began; the revisions are saved at the end of the round,
// in agent order. So a back-scatter depends on the seed, the world and the
// earlier rounds only, and a resumed run makes the same records.
func Run(ctx context.Context, spec Spec) (Stats, error) {
	spec.defaults()
	var st Stats
	if errs := spec.Validate(); len(errs) > 0 {
		return st, &bench.InputError{Msg: errors.Join(errs...).Error()}
	}
	n := spec.Size * spec.Size
	st.Planned = len(spec.Worlds) * n * spec.Rounds
	ec := newEmbedCache(spec.Embedder, spec.Cache)
	var emitMu sync.Mutex
	done := 0
	for wi, w := range spec.Worlds {
		ws := &worldState{idx: wi + 1, w: w}
		var err error
		if ws.agents, err = Layout(spec.Size, spec.Setting, spec.Seed); err != nil {
			return st, err
		}
		ws.mems = make([]Memory, n)
		if spec.Prior != nil {
			priors := make([][]PriorItem, n)
			var texts []string
			for i, a := range ws.agents {
				priors[i] = SamplePrior(spec.Prior, a.Label, spec.PriorPerAgent, rng(spec.Seed, "prior", ws.idx, a.ID))
				for _, it := range priors[i] {
					texts = append(texts, it.Question)
				}
			}
			if err := ec.ensure(ctx, texts); err != nil {
				return st, err
			}
			for i := range priors {
				for _, it := range priors[i] {
					ws.mems[i].put(it.Question, it.Answer, ec.get(it.Question))
				}
			}
		}
		for round := 1; round <= spec.Rounds; round++ {
			qs := make([]string, n)
			for i := range n {
				qs[i] = QuestionFor(spec.Questions, n, round, i)
			}
			if err := ec.ensure(ctx, qs); err != nil {
				return st, err
			}
			// A journaled back-scatter is not run again. In a round the
			// journal holds only in part, where the run stopped, a failed
			// one is run again: no memory has changed since.
			recs := make([]*Record, n)
			journaled := 0
			if spec.Done != nil {
				for i := range n {
					if r, ok := spec.Done(Key{ws.idx, round, i}); ok {
						recs[i] = r
						journaled++
					}
				}
			}
			var todo []int
			for i := range n {
				if recs[i] != nil && (journaled == n || recs[i].Error == "") {
					st.Resumed++
					done++
					continue
				}
				recs[i] = nil
				todo = append(todo, i)
			}
			rctx, cancel := context.WithCancelCause(ctx)
			var wg sync.WaitGroup
			sem := make(chan struct{}, spec.Concurrency)
			var failRun, okAny atomic.Int64
			for _, i := range todo {
				select {
				case sem <- struct{}{}:
				case <-rctx.Done():
				}
				if rctx.Err() != nil {
					break
				}
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					defer func() { <-sem }()
					rec := spec.backScatter(rctx, ec, ws, round, i, qs[i])
					if rec == nil {
						return
					}
					if rec.Error != "" {
						if okAny.Load() == 0 && int(failRun.Add(1)) >= spec.UnreachableAfter {
							cancel(fmt.Errorf("%w: world %d (%s): %d back-scatters failed in a row, none done; the last: %s", ErrUnreachable, ws.idx, w.Name, failRun.Load(), rec.Error))
						}
					} else {
						okAny.Add(1)
					}
					emitMu.Lock()
					defer emitMu.Unlock()
					if spec.Emit != nil {
						if err := spec.Emit(rec); err != nil {
							cancel(err)
							return
						}
					}
					recs[i] = rec
					st.Done++
					if rec.Error != "" {
						st.Errors++
					}
					done++
					if spec.Progress != nil {
						spec.Progress(done, st.Planned)
					}
				}(i)
			}
			wg.Wait()
			err := context.Cause(rctx)
			cancel(nil)
			if err != nil {
				return st, err
			}
			// The revisions join the memories, in agent order.
			for i, r := range recs {
				if r != nil && r.Revised != "" && r.Error == "" {
					ws.mems[i].Save(r.Question, r.Revised, ec.get(r.Question))
				}
			}
		}
	}
	return st, nil
}

// backScatter runs one agent's draft → feedback → revision, with the
// observer's ratings. It returns nil when ctx ended first.
func (s *Spec) backScatter(ctx context.Context, ec *embedCache, ws *worldState, round, i int, question string) *Record {
	a := ws.agents[i]
	rec := &Record{World: ws.idx, Model: ws.w.Name, Setting: s.Setting, Round: round, AgentID: a.ID, Label: a.Label, Question: question}
	site := func(role string) string {
		return fmt.Sprintf("sandbox/%d/%d/%d/%s", ws.idx, round, a.ID, role)
	}
	agentCall := func(role, prompt string) (string, error) {
		req := bench.Request{System: ChatPrior, Messages: []bench.Message{{Role: "user", Content: prompt}},
			Params: agentParams(), SampleID: site(role), Epoch: round, Seed: s.Seed}
		if ws.w.Completions {
			req.System = ""
		}
		c, err := ws.w.Model.Generate(ctx, req)
		return c.Text, err
	}
	fail := func(stage string, err error) *Record {
		if ctx.Err() != nil {
			return nil
		}
		rec.Error = stage + ": " + err.Error()
		return rec
	}
	qe := ec.get(question)

	// Draft (Agent.response).
	h, _ := ws.mems[i].Recall(qe, s.Embedder.Threshold())
	if h != nil {
		rec.Recalled = h.Question
	}
	draft, err := agentCall("draft", DraftPrompt(a.ID, question, h))
	if err != nil {
		return fail("draft", err)
	}
	rec.Draft = strings.TrimSpace(draft)

	// The observer rates the draft.
	rec.AlignmentBefore, rec.AlignmentReasonBefore, err = s.observe(ctx, site("alignment-before"), round, AlignmentPrompt(question, rec.Draft))
	if err != nil {
		return fail("observer", err)
	}
	rec.EngagementBefore, rec.EngagementReasonBefore, err = s.observe(ctx, site("engagement-before"), round, EngagementPrompt(question, rec.Draft))
	if err != nil {
		return fail("observer", err)
	}

	// Back-scatter: the peers rate the draft.
	peers, err := PickPeers(ws.agents, a, s.Size/2, s.Interaction, rng(s.Seed, "peers", ws.idx, round, a.ID))
	if err != nil {
		return fail("peers", err)
	}
	fbs := make([]peerFeedback, len(peers))
	for k, p := range peers {
		ph, _ := ws.mems[p.ID].Recall(qe, s.Embedder.Threshold())
		raw, err := agentCall("peer-"+strconv.Itoa(p.ID), FeedbackPrompt(p.ID, a.ID, question, rec.Draft, ph))
		if err != nil {
			return fail(fmt.Sprintf("feedback of agent %d", p.ID), err)
		}
		fbs[k] = peerFeedback{id: p.ID, reply: ParseReply(strings.TrimSpace(raw))}
	}
	OrderFeedback(fbs)
	mean, ok := MeanRating(fbs)
	if ok {
		rec.MeanPeerRating = &mean
	}
	var reasons []string
	for _, f := range fbs {
		rec.PeerIDs = append(rec.PeerIDs, f.id)
		rec.PeerRatings = append(rec.PeerRatings, f.reply.Rating)
		rec.PeerFeedback = append(rec.PeerFeedback, f.reply.Reason)
		reasons = append(reasons, f.reply.Reason)
	}

	// Revision.
	revised, err := agentCall("revise", RevisePrompt(mean, rec.Draft, question, reasons, s.ScoreOnly))
	if err != nil {
		return fail("revision", err)
	}
	rec.Revised = strings.TrimSpace(revised)
	rec.AlignmentAfter, rec.AlignmentReasonAfter, err = s.observe(ctx, site("alignment-after"), round, AlignmentPrompt(question, rec.Revised))
	if err != nil {
		return fail("observer", err)
	}
	rec.EngagementAfter, rec.EngagementReasonAfter, err = s.observe(ctx, site("engagement-after"), round, EngagementPrompt(question, rec.Revised))
	if err != nil {
		return fail("observer", err)
	}
	return rec
}

// agentParams are call_gpt's sampling parameters: temperature 1.0, at most
// 256 tokens.
func agentParams() bench.GenParams {
	t := 1.0
	return bench.GenParams{Temperature: &t, MaxTokens: 256}
}

// observe asks the observer one rating prompt (no system prompt, as
// call_gpt with is_obs=True) and parses its reply; an unparsed rating (the
// released code's -1.0) is nil.
func (s *Spec) observe(ctx context.Context, site string, round int, prompt string) (*float64, string, error) {
	req := bench.Request{Messages: []bench.Message{{Role: "user", Content: prompt}}, Params: agentParams(),
		SampleID: site, Epoch: round, Seed: s.Seed}
	c, err := s.Observer.Generate(ctx, req)
	if err != nil {
		return nil, "", err
	}
	r := ParseReply(c.Text)
	return r.Rating, r.Reason, nil
}

// peerFeedback is one peer's parsed reply.
type peerFeedback struct {
	id    int
	reply Reply
}

// sortKey is the rating a reply sorts by: its rating, or 8 when unparsed.
func (f peerFeedback) sortKey() float64 {
	if f.reply.Rating == nil {
		return 8
	}
	return *f.reply.Rating
}

// OrderFeedback sorts feedback as _social_interaction does: by rating,
// highest first, so that the lowest ratings come last, nearest the end of
// the revise prompt; an unparsed rating counts as "8" and so comes first;
// equal ratings keep their order (Python's sort is stable, also reversed).
func OrderFeedback(fbs []peerFeedback) {
	slices.SortStableFunc(fbs, func(a, b peerFeedback) int { return cmp.Compare(b.sortKey(), a.sortKey()) })
}

// MeanRating is the average of the ratings other than "8" (unparsed ones
// are "8"). With no feedback it is 0.0, as in the released code; when every
// rating is "8" the released code divides by zero, and Mores sends 0.0 and
// reports no mean (ok false).
func MeanRating(fbs []peerFeedback) (float64, bool) {
	var sum float64
	n := 0
	for _, f := range fbs {
		if f.reply.Rating == nil || f.reply.RawRating == "8" {
			continue
		}
		sum += *f.reply.Rating
		n++
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}
