package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Transform is an attack: it changes a sample's prompt. Implementations live
// in package suites/attack.
type Transform interface {
	Name() string
	Transform(s Sample) (Sample, error)
}

// SuitePlan is one suite, resolved: its samples, the attacks to apply, how to
// build a request from a sample, and its judges.
type SuitePlan struct {
	Name    string
	Samples []Sample
	Attacks []Transform
	// Render builds the request of a (transformed) sample.
	Render     func(Sample) (Request, error)
	Judges     []Judge
	PairJudges []PairJudge
}

// ModelPlan is one model under test.
type ModelPlan struct {
	Name  string
	Model Model
	// Price, when set, prices the model's answers: each trial's CostUSD,
	// and the run's budget (RunSpec.MaxCost).
	Price *Price
}

// Shard selects a deterministic slice of the samples: sample number k (over
// all suites, in plan order) belongs to shard k mod N + 1. The zero value is
// the whole plan.
type Shard struct{ I, N int }

// Contains reports whether sample number k belongs to the shard.
func (s Shard) Contains(k int) bool {
	if s.N <= 1 {
		return true
	}
	return k%s.N == s.I-1
}

// RunSpec is the parameter set of one run.
type RunSpec struct {
	RunID       string
	Dir         string // the run directory
	Suites      []SuitePlan
	Models      []ModelPlan
	Epochs      int
	Seed        int64
	Concurrency int
	Shard       Shard
	// Cache, when set, stores and serves completions of Cacheable models.
	Cache *Cache
	// Progress, when set, is called after every trial with done and total.
	Progress func(done, total int64)
	// Warn reports diagnostics (to stderr in the CLI).
	Warn func(format string, args ...any)
	// UnreachableAfter is how many consecutive failures of a model that has
	// never answered abort the run (default 8).
	UnreachableAfter int
	// WriteResults asks Run to write responses.parquet and scores.parquet
	// while it runs, from the entries it journals, as WriteResults would
	// write them from the journal afterwards; Stats.Results then holds
	// their counts. Run does so only for a journal it starts, in a plan
	// without pair judges (whose scores come at the end); otherwise, and
	// when the entries come too far out of plan order, Stats.Results is
	// nil and the caller calls WriteResults.
	WriteResults bool
	// MaxCost, when positive, is the most the run may spend in USD, the
	// cost of the trials journaled before a resume included. A request
	// whose estimated cost (EstimateTokens, and max_tokens or the model's
	// mean completion so far) would take the spending and the requests in
	// flight over it is not sent: Run stops with ErrBudget.
	MaxCost float64
}

// Stats counts what a run did.
type Stats struct {
	Planned  int64 `json:"planned"`
	Skipped  int64 `json:"resumed"` // already in the journal
	Done     int64 `json:"done"`
	Errors   int64 `json:"errors"`
	Cached   int64 `json:"cached"`
	Requests int64 `json:"-"`
	// Results counts the rows of responses.parquet and scores.parquet when
	// Run wrote them (RunSpec.WriteResults), else it is nil.
	Results *ResultCounts `json:"-"`
	// Cost is what the run's journaled trials cost, per model and in all
	// (the trials of earlier processes of a resumed run included).
	Cost *CostSummary `json:"-"`
}

// ErrUnreachable is returned when a model fails every request.
var ErrUnreachable = errors.New("model unreachable")

// preparedSample is a sample after an attack, with its request.
type preparedSample struct {
	base   int64 // the number of sample × attack pairs before this one in the whole plan
	suite  int
	sample *Sample
	attack string
	req    Request
	err    error
}

// prepare transforms a sample by an attack and renders its request.
func prepare(spec *RunSpec, ps *preparedSample, a Transform) {
	ts, err := a.Transform(*ps.sample)
	if err != nil {
		ps.err = fmt.Errorf("attack %s: %w", a.Name(), err)
		return
	}
	ps.req, ps.err = spec.Suites[ps.suite].Render(ts)
	if ps.err == nil {
		ps.req.Sample = &ts
		ps.req.SampleID = ps.sample.ID
		ps.req.Seed = spec.Seed
	}
}

// attacksOf returns the attacks of a suite; none means the identity.
func attacksOf(sp *SuitePlan) []Transform {
	if len(sp.Attacks) == 0 {
		return []Transform{identity{}}
	}
	return sp.Attacks
}

// flushEvery is how long finished trials may wait in the journal's buffer
// while more keep coming; when none is waiting the journal is flushed at
// once. Flushing after every entry would cost a system call per trial at
// tens of thousands of trials a second; a SIGKILL loses at most this much
// work, which a resume does again.
const flushEvery = 20 * time.Millisecond

// Run executes the plan, appending each finished trial to the journal in
// spec.Dir. Trials already in the journal are skipped (resume). It returns
// when every trial is done, the context is cancelled, or a model is
// unreachable; finished trials are always kept.
//
// Memory does not grow with the number of trials: each sample × attack is
// transformed and rendered when its trials are produced, not before, and
// the journal is written as trials finish. A resumed run holds 8 bytes per
// journaled trial (the hashes of their keys).
func Run(ctx context.Context, spec RunSpec) (Stats, error) {
	var st Stats
	if spec.Epochs < 1 {
		spec.Epochs = 1
	}
	if spec.Concurrency < 1 {
		spec.Concurrency = 8
	}
	if spec.UnreachableAfter < 1 {
		spec.UnreachableAfter = 8
	}
	if spec.Warn == nil {
		spec.Warn = func(string, ...any) {}
	}
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return st, err
	}
	jpath := JournalPath(spec.Dir)
	RemoveStaleTemps(spec.Dir)

	// What is done already: the sorted hashes of journaled trial keys.
	jd, err := scanDone(jpath, spec.Models)
	if err != nil {
		return st, err
	}
	isDone, journaled, costs := jd.isDone, jd.entries, jd.costs
	bud := &budget{max: spec.MaxCost, spent: costs.total()}

	j, err := OpenJournal(jpath)
	if err != nil {
		return st, err
	}
	defer j.Close()
	if spec.Cache != nil {
		// A trial reaches the journal file only after its answer is in
		// the cache: after a kill -9, the resume skips journaled trials,
		// and a rerun finds all of them cached.
		j.BeforeWrite = spec.Cache.Sync
	}

	// The results, written as entries are journaled, when the journal is
	// this run's alone and in plan order.
	var results *orderedWriter
	if spec.WriteResults && journaled == 0 && !hasPairJudges(&spec) {
		if results, err = newOrderedWriter(spec.Dir, spec.RunID); err != nil {
			return st, err
		}
		defer func() {
			if results != nil {
				results.abort()
			}
		}()
	}

	// Count the samples × attacks in the shard; they are prepared later, as
	// the producer reaches them.
	var pairs int64
	k := 0
	for si := range spec.Suites {
		na := int64(len(attacksOf(&spec.Suites[si])))
		for range spec.Suites[si].Samples {
			if spec.Shard.Contains(k) {
				pairs += na
			}
			k++
		}
	}
	total := pairs * int64(len(spec.Models)) * int64(spec.Epochs)
	st.Planned = total

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// dispatch ends when the cost budget stops the run: no trial is
	// started after it, but requests already sent finish and are
	// recorded (they are paid for; cancelling them would pay for answers
	// that are thrown away and sent again on --resume).
	dispatch, stopDispatch := context.WithCancelCause(ctx)
	defer stopDispatch(nil)
	bud.halt = dispatch

	trials := make(chan work, spec.Concurrency*2)
	entries := make(chan *Entry, spec.Concurrency*4)

	// Producer: trials in stable order, skipping journaled ones.
	var skipped int64
	go func() {
		defer close(trials)
		produce(&spec, isDone, &skipped, func(w work) bool {
			select {
			case trials <- w:
				return true
			case <-dispatch.Done():
				return false
			}
		})
	}()

	models := make([]*modelState, len(spec.Models))
	for i, m := range spec.Models {
		mm := m.Model
		if spec.Cache != nil {
			mm = WithCache(mm, spec.Cache)
		}
		models[i] = &modelState{m: mm, price: m.Price, out: outputEstimator{maxTokens: modelMaxTokens(m.Model)}}
	}

	// Workers.
	var wg sync.WaitGroup
	for w := 0; w < spec.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wk := range trials {
				if dispatch.Err() != nil {
					continue // drain
				}
				t := wk.t
				ms := models[wk.model]
				e := runTrial(ctx, spec.Suites[wk.suite].Judges, ms, t, wk.err, bud)
				if e == nil {
					if dispatch.Err() == nil {
						stopDispatch(fmt.Errorf("%w: the next request of %s would take the run over --max-cost $%g (spent $%.6f)", ErrBudget, t.Model, spec.MaxCost, bud.total()))
					}
					continue // cancelled mid-trial or over budget: not recorded
				}
				e.seq = wk.seq
				if e.Error != "" {
					n := ms.fail.Add(1)
					switch {
					case ms.ok.Load():
					case ms.noHost.Load():
						// Its host does not exist: every request would fail.
						cancel(fmt.Errorf("%w: %s: its host does not exist (no such host); error: %s", ErrUnreachable, t.Model, e.Error))
					case n >= int64(spec.UnreachableAfter):
						cancel(fmt.Errorf("%w: %s failed %d requests in a row and answered none; last error: %s", ErrUnreachable, t.Model, n, e.Error))
					}
				} else {
					ms.fail.Store(0)
					ms.ok.Store(true)
				}
				entries <- e // kept even when stopping: the writer drains them all
			}
		}()
	}
	go func() {
		wg.Wait()
		close(entries)
	}()

	// Writer: the only goroutine that touches the journal. It flushes when
	// no entry is waiting, at most every flushEvery while entries keep
	// coming, and after flushEvery of quiet.
	var werr error
	var lastFlush time.Time
	pending := false
	flush := func() {
		if werr == nil {
			werr = j.Flush()
		}
		lastFlush = time.Now()
		pending = false
	}
	timer := time.NewTimer(flushEvery)
	defer timer.Stop()
	for open := true; open; {
		select {
		case e, ok := <-entries:
			if !ok {
				open = false
				break
			}
			if werr == nil {
				werr = j.Append(e)
			}
			if results != nil {
				if werr != nil || results.addInTurn(e) != nil {
					results.abort() // WriteResults will read the journal
					results = nil
				}
			}
			pending = true
			costs.add(e)
			st.Done++
			if e.Error != "" {
				st.Errors++
			}
			if e.Result != nil && e.Result.Cached {
				st.Cached++
			}
			if len(entries) == 0 && time.Since(lastFlush) >= flushEvery {
				flush()
			}
			if spec.Progress != nil {
				spec.Progress(st.Done+atomic.LoadInt64(&skipped), total)
			}
		case <-timer.C:
			if pending {
				flush()
			}
			timer.Reset(flushEvery)
		}
	}
	st.Skipped = atomic.LoadInt64(&skipped)
	st.Cost = costs.summary()
	flush()
	if werr != nil {
		return st, fmt.Errorf("journal: %w", werr)
	}
	if results != nil {
		rc, err := results.close()
		results = nil
		if err == nil {
			st.Results = &rc
		}
	}

	// Pair judges run once every trial is in.
	if dispatch.Err() == nil {
		if err := runPairJudges(ctx, &spec, j); err != nil {
			return st, err
		}
	}
	if cause := context.Cause(dispatch); cause != nil {
		return st, cause // the run's own cause, or the budget's
	}
	return st, nil
}

// produce calls emit with every trial of the plan in the shard, in stable
// order, but those isDone reports (counted in skipped), until emit returns
// false. Each sample × attack is transformed and rendered when its first
// trial is produced.
func produce(spec *RunSpec, isDone func(TrialKey) bool, skipped *int64, emit func(work) bool) {
	nm, ne := int64(len(spec.Models)), int64(spec.Epochs)
	k := 0
	var base, seq int64
	for si := range spec.Suites {
		sp := &spec.Suites[si]
		attacks := attacksOf(sp)
		for i := range sp.Samples {
			inShard := spec.Shard.Contains(k)
			k++
			if !inShard {
				base += int64(len(attacks))
				continue
			}
			for _, a := range attacks {
				ps := preparedSample{base: base, suite: si, sample: &sp.Samples[i], attack: a.Name()}
				base++
				prepared := false
				for mi, m := range spec.Models {
					for e := 1; e <= spec.Epochs; e++ {
						idx := (ps.base*nm+int64(mi))*ne + int64(e-1)
						key := TrialKey{Suite: sp.Name, SampleID: ps.sample.ID, Model: m.Name, Attack: ps.attack, Epoch: e}
						if isDone(key) {
							atomic.AddInt64(skipped, 1)
							continue
						}
						if !prepared {
							prepare(spec, &ps, a)
							prepared = true
						}
						t := Trial{Index: idx, RunID: spec.RunID, Suite: sp.Name, SampleID: ps.sample.ID,
							Model: m.Name, Attack: ps.attack, Epoch: e, Request: ps.req, Sample: ps.req.Sample}
						t.Request.Epoch = e
						seq++
						if !emit(work{t: t, err: ps.err, suite: si, model: mi, seq: seq}) {
							return
						}
					}
				}
			}
		}
	}
}

// journalState is what a run's journal says is done.
type journalState struct {
	isDone  func(TrialKey) bool
	entries int // journal entries of every kind
	costs   *costBook
	// batches are the batch entries, in journal order.
	batches []*Entry
}

// scanDone reads the journal at jpath: the keys of its trials (8 bytes
// each), their cost, and its batch entries.
func scanDone(jpath string, models []ModelPlan) (*journalState, error) {
	seed := maphash.MakeSeed()
	var done []uint64
	js := &journalState{costs: newCostBook(models)}
	if err := ScanJournal(jpath, func(_ int64, e *Entry) error {
		js.entries++
		switch e.Kind {
		case EntryTrial:
			done = append(done, keyHash(seed, e.Key()))
			js.costs.add(e)
		case EntryBatch:
			js.batches = append(js.batches, e)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.Sort(done)
	js.isDone = func(k TrialKey) bool {
		if len(done) == 0 {
			return false
		}
		_, found := slices.BinarySearch(done, keyHash(seed, k))
		return found
	}
	return js, nil
}

type work struct {
	t     Trial
	err   error
	suite int   // index in RunSpec.Suites
	model int   // index in RunSpec.Models
	seq   int64 // the trial's place in production order, from 1
}

type modelState struct {
	m     Model
	price *Price
	out   outputEstimator
	fail  atomic.Int64
	ok    atomic.Bool
	// noHost is set when a request failed because the model's host does
	// not exist (a DNS "no such host" answer).
	noHost atomic.Bool
}

// isNoSuchHost reports whether err is a DNS answer that its host does not
// exist.
func isNoSuchHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

func keyHash(seed maphash.Seed, k TrialKey) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(k.Suite)
	h.WriteByte(0)
	h.WriteString(k.SampleID)
	h.WriteByte(0)
	h.WriteString(k.Model)
	h.WriteByte(0)
	h.WriteString(k.Attack)
	h.WriteByte(0)
	var b [8]byte
	for i := range b {
		b[i] = byte(k.Epoch >> (8 * i))
	}
	h.Write(b[:])
	return h.Sum64()
}

// runTrial generates and judges one trial. It returns nil when the context
// was cancelled before the trial finished, or when the budget does not
// allow its request (then the context is not cancelled).
func runTrial(ctx context.Context, judges []Judge, ms *modelState, t Trial, prepErr error, bud *budget) *Entry {
	e := &Entry{Kind: EntryTrial, Index: t.Index, Suite: t.Suite, SampleID: t.SampleID, Model: t.Model,
		Attack: t.Attack, Epoch: t.Epoch, Prompt: t.Request.Prompt(), System: t.Request.System}
	if len(t.Request.Messages) > 1 {
		e.Messages = t.Request.Messages
	}
	if prepErr != nil {
		e.Error = prepErr.Error()
		return e
	}
	var est float64
	reserved := false
	if ms.price != nil && bud.limited() && !cacheHolds(ms.m, t.Request) {
		est = ms.price.Cost(EstimateTokens(t.Request), ms.out.estimate(t.Request.Params))
		if !bud.reserve(ctx, est) {
			return nil
		}
		reserved = true
	}
	start := time.Now()
	c, err := ms.m.Generate(ctx, t.Request)
	if err != nil {
		if reserved {
			bud.settle(est, 0)
		}
		if ctx.Err() != nil {
			return nil
		}
		if isNoSuchHost(err) {
			ms.noHost.Store(true)
		}
		e.Error = err.Error()
		e.Attempts = c.Attempts
		return e
	}
	priceCompletion(&c, ms.price)
	if reserved {
		bud.settle(est, c.CostUSD)
	}
	if !c.Cached && bud.limited() {
		ms.out.observe(c.CompletionTokens)
	}
	if c.Latency == 0 && !c.Cached {
		c.Latency = time.Since(start)
	}
	e.Result = &c
	e.Scores = JudgeAll(ctx, judges, t, c)
	if ctx.Err() != nil && len(e.Scores) == 0 {
		return nil
	}
	return e
}

func suiteIndex(spec *RunSpec, name string) int {
	for i := range spec.Suites {
		if spec.Suites[i].Name == name {
			return i
		}
	}
	return 0
}

// JudgeAll runs judges on one completion; a judge that fails whole yields
// one Score carrying its error.
func JudgeAll(ctx context.Context, judges []Judge, t Trial, c Completion) []Score {
	var out []Score
	for _, jd := range judges {
		ss, err := jd.Score(ctx, t, c)
		if err != nil {
			out = append(out, Score{Judge: jd.Name(), Metric: jd.Name(), Error: err.Error()})
			continue
		}
		for i := range ss {
			if ss[i].Judge == "" {
				ss[i].Judge = jd.Name()
			}
		}
		out = append(out, ss...)
	}
	return out
}

type identity struct{}

func (identity) Name() string                       { return "none" }
func (identity) Transform(s Sample) (Sample, error) { return s, nil }

// hasPairJudges reports whether a suite of the plan has pair judges.
func hasPairJudges(spec *RunSpec) bool {
	for _, sp := range spec.Suites {
		if len(sp.PairJudges) > 0 {
			return true
		}
	}
	return false
}

// runPairJudges runs each suite's pair judges over every pair of models that
// answered the same sample, attack and epoch, and journals their scores
// against the first model's trial, with judge name "NAME:vs=OTHER". Pairs
// already scored (a resumed run) are skipped.
func runPairJudges(ctx context.Context, spec *RunSpec, j *Journal) error {
	need := false
	for _, sp := range spec.Suites {
		if len(sp.PairJudges) > 0 {
			need = true
		}
	}
	if !need || len(spec.Models) < 2 {
		return nil
	}
	type group struct{ byModel map[string]*Entry }
	groups := map[TrialKey]*group{}
	var order []TrialKey
	scored := map[string]bool{}
	jpath := JournalPath(spec.Dir)
	if err := ScanJournal(jpath, func(_ int64, e *Entry) error {
		switch e.Kind {
		case EntryTrial:
			if e.Result == nil {
				return nil
			}
			sp := &spec.Suites[suiteIndex(spec, e.Suite)]
			if sp.Name != e.Suite || len(sp.PairJudges) == 0 {
				return nil
			}
			k := e.Key()
			k.Model = ""
			g := groups[k]
			if g == nil {
				g = &group{byModel: map[string]*Entry{}}
				groups[k] = g
				order = append(order, k)
			}
			g.byModel[e.Model] = e
		case EntryScores:
			for _, s := range e.Scores {
				scored[fmt.Sprint(e.Key(), s.Judge)] = true
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range order {
		g := groups[k]
		sp := &spec.Suites[suiteIndex(spec, k.Suite)]
		var sample *Sample
		for i := range sp.Samples {
			if sp.Samples[i].ID == k.SampleID {
				sample = &sp.Samples[i]
				break
			}
		}
		for ai, ma := range spec.Models {
			for _, mb := range spec.Models[ai+1:] {
				ea, eb := g.byModel[ma.Name], g.byModel[mb.Name]
				if ea == nil || eb == nil {
					continue
				}
				for _, pj := range sp.PairJudges {
					name := pj.Name() + ":vs=" + mb.Name
					if scored[fmt.Sprint(ea.Key(), name)] {
						continue
					}
					ta := entryTrial(spec, ea, sample)
					tb := entryTrial(spec, eb, sample)
					ss, err := pj.ScorePair(ctx, ta, tb, *ea.Result, *eb.Result)
					if ctx.Err() != nil {
						return nil
					}
					if err != nil {
						ss = []Score{{Metric: pj.Name(), Error: err.Error()}}
					}
					for i := range ss {
						ss[i].Judge = name
					}
					out := &Entry{Kind: EntryScores, Index: ea.Index, Suite: ea.Suite, SampleID: ea.SampleID,
						Model: ea.Model, Attack: ea.Attack, Epoch: ea.Epoch, Scores: ss}
					if err := j.Append(out); err != nil {
						return err
					}
					if err := j.Flush(); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// entryTrial rebuilds the trial of a journal entry.
func entryTrial(spec *RunSpec, e *Entry, s *Sample) Trial {
	msgs := e.Messages
	if len(msgs) == 0 {
		msgs = []Message{{Role: "user", Content: e.Prompt}}
	}
	return Trial{Index: e.Index, RunID: spec.RunID, Suite: e.Suite, SampleID: e.SampleID, Model: e.Model,
		Attack: e.Attack, Epoch: e.Epoch, Sample: s,
		Request: Request{System: e.System, Messages: msgs, SampleID: e.SampleID, Sample: s, Epoch: e.Epoch}}
}
