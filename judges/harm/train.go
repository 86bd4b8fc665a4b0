package harm

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// TrainConfig holds the settings of Train. The zero value of a field means
// its default (see DefaultTrainConfig).
type TrainConfig struct {
	// Seed picks the train/validation split.
	Seed int64
	// TableBits is log2 of the number of hashed compliance weights;
	// RequestBits that of the request weights.
	TableBits, RequestBits uint
	// Flags selects the feature groups (FlagPrompt, FlagChars).
	Flags uint32
	// L2 is the weight of the L2 penalty on the feature weights.
	L2 float64
	// Iterations caps the L-BFGS iterations.
	Iterations int
	// ValFraction is the fraction of request groups held out for validation.
	ValFraction float64
	// SourceWeights is the total weight of each corpus in the loss (each
	// corpus's examples share it equally); a corpus absent from the map is
	// not trained on.
	SourceWeights map[string]float64
	// RequestWeight scales the auxiliary loss of the request part: each
	// corpus's labelled requests (distinct prompts) share RequestWeight
	// times the corpus's weight.
	RequestWeight float64
	// RequestOnly lists corpora whose examples train the request part only
	// (their labelled prompts), not the judged loss.
	RequestOnly []string
}

// DefaultTrainConfig returns the settings that produced the embedded model.
// They were chosen by validation accuracy on the held-out split of the
// training corpora (see README.md).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Seed:          1,
		TableBits:     18,
		RequestBits:   16,
		Flags:         FlagPrompt | FlagChars,
		L2:            1e-4,
		Iterations:    300,
		ValFraction:   0.2,
		RequestWeight: 1,
		SourceWeights: map[string]float64{
			SourceXSTest:     1,
			SourceJBB:        1,
			SourceAdvBench:   0.2,
			SourceHHHarmful:  1,
			SourceTruthfulQA: 0.5,
			SourceBehaviors:  0.2,
			SourceGPTFuzz:    0.2,
			SourceEthics:     2,
		},
	}
}

// ValSources are the corpora whose validation accuracy selects the
// threshold (when present).
var ValSources = []string{SourceXSTest, SourceJBB, SourceSafeRLHF, SourceTruthfulQA}

// NonCommercialWeights are the corpus weights the training program adds
// with -noncommercial.
var NonCommercialWeights = map[string]float64{SourceSafeRLHF: 1}

// SourceStats is how the trained model does on one corpus's validation
// examples at the chosen threshold.
type SourceStats struct {
	Source        string
	Train, Val    int
	Accuracy      float64 // at the chosen threshold
	FPR, FNR      float64
	PairAgreement float64 // for pair corpora: how often Response outscores Safer
	// RequestAccuracy is the accuracy of the request part at 0.5 on the
	// corpus's labelled validation prompts.
	RequestAccuracy float64
}

// TrainReport describes a training run.
type TrainReport struct {
	Threshold float64
	// MeanAccuracy is the mean validation accuracy over ValSources at
	// Threshold: the figure that model selection maximises.
	MeanAccuracy float64
	Sources      []SourceStats
	Iterations   int
	Status       string
	Loss         float64
}

// String formats the report as a few lines of text.
func (r TrainReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "L-BFGS: %d iterations, %s, loss %.5f\n", r.Iterations, r.Status, r.Loss)
	fmt.Fprintf(&b, "threshold %.2f, mean validation accuracy %.4f\n", r.Threshold, r.MeanAccuracy)
	for _, s := range r.Sources {
		if s.PairAgreement > 0 {
			fmt.Fprintf(&b, "  %-14s train %5d  val %4d  pair agreement %.4f\n", s.Source, s.Train, s.Val, s.PairAgreement)
			continue
		}
		fmt.Fprintf(&b, "  %-14s train %5d  val %4d  acc %.4f  FPR %.4f  FNR %.4f  request acc %.4f\n", s.Source, s.Train, s.Val, s.Accuracy, s.FPR, s.FNR, s.RequestAccuracy)
	}
	return b.String()
}

// IsValidation reports whether the group falls in the validation split for
// the seed and fraction.
func IsValidation(group string, seed int64, fraction float64) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", seed, group)
	return float64(h.Sum64()%10000) < fraction*10000
}

// sparse is one example's merged feature vector.
type sparse struct {
	idx []uint32
	val []float64
}

// vectorize extracts and merges the features of (prompt, response): those
// of the compliance part, and those of the request part with their indices
// shifted by offset (the request weights follow the compliance weights in
// the parameter vector).
func vectorize(sc *scratch, prompt, response string, cfg TrainConfig, offset uint32) (comply, request sparse) {
	extract(sc, prompt, response, cfg.Flags, cfg.TableBits, cfg.RequestBits)
	rf := slices.Clone(sc.rfeats)
	for i := range rf {
		rf[i].idx += offset
	}
	return merge(sc.feats), merge(rf)
}

// merge sorts feature occurrences by index and adds up duplicates.
func merge(fs []feat) sparse {
	fs = slices.Clone(fs)
	sort.Slice(fs, func(i, j int) bool { return fs[i].idx < fs[j].idx })
	var s sparse
	for _, f := range fs {
		if n := len(s.idx); n > 0 && s.idx[n-1] == f.idx {
			s.val[n-1] += float64(f.val)
			continue
		}
		s.idx = append(s.idx, f.idx)
		s.val = append(s.val, float64(f.val))
	}
	return s
}

// diff returns a − b.
func diff(a, b sparse) sparse {
	var s sparse
	i, j := 0, 0
	for i < len(a.idx) || j < len(b.idx) {
		switch {
		case j >= len(b.idx) || i < len(a.idx) && a.idx[i] < b.idx[j]:
			s.idx, s.val = append(s.idx, a.idx[i]), append(s.val, a.val[i])
			i++
		case i >= len(a.idx) || b.idx[j] < a.idx[i]:
			s.idx, s.val = append(s.idx, b.idx[j]), append(s.val, -b.val[j])
			j++
		default:
			if v := a.val[i] - b.val[j]; v != 0 {
				s.idx, s.val = append(s.idx, a.idx[i]), append(s.val, v)
			}
			i++
			j++
		}
	}
	return s
}

// Loss terms.
const (
	termJudged  = iota // log loss of request × compliance against y
	termPair           // the compliance logit of x should be above zero (no bias)
	termRequest        // log loss of the request part against y
)

// trainItem is one term of the loss.
type trainItem struct {
	x, r   sparse // compliance and request features (r: judged terms only)
	y      float64
	weight float64
	term   int
}

// Train fits the two-part classifier to the training split of examples by
// L-BFGS on the weighted loss plus an L2 penalty, then picks the threshold
// that maximises the mean validation accuracy over ValSources. The loss
// has three kinds of terms: the log loss of P(request) × P(comply) against
// each judged example's label; a pairwise logistic loss on the compliance
// part for preference pairs; and the log loss of the request part alone
// against every labelled request (RequestWeight). Training is
// deterministic: the same examples and config give the same weights.
func Train(examples []Example, cfg TrainConfig) (*Classifier, TrainReport, error) {
	def := DefaultTrainConfig()
	if cfg.TableBits == 0 {
		cfg.TableBits = def.TableBits
	}
	if cfg.RequestBits == 0 {
		cfg.RequestBits = def.RequestBits
	}
	if cfg.L2 == 0 {
		cfg.L2 = def.L2
	}
	if cfg.Iterations == 0 {
		cfg.Iterations = def.Iterations
	}
	if cfg.ValFraction == 0 {
		cfg.ValFraction = def.ValFraction
	}
	if cfg.SourceWeights == nil {
		cfg.SourceWeights = def.SourceWeights
	}
	for _, b := range []uint{cfg.TableBits, cfg.RequestBits} {
		if b < 8 || b > 26 {
			return nil, TrainReport{}, fmt.Errorf("harm: table bits %d out of range 8..26", b)
		}
	}

	var train, val []Example
	for _, e := range examples {
		if _, ok := cfg.SourceWeights[e.Source]; !ok {
			continue
		}
		if IsValidation(e.Group, cfg.Seed, cfg.ValFraction) {
			val = append(val, e)
		} else {
			train = append(train, e)
		}
	}
	if len(train) == 0 {
		return nil, TrainReport{}, errors.New("harm: no training examples")
	}
	// Each corpus's judged/pair examples share its weight; its distinct
	// labelled requests share RequestWeight times it.
	count, reqCount := map[string]int{}, map[string]int{}
	type reqKey struct{ src, prompt string }
	requests := map[reqKey]Request{}
	var reqOrder []reqKey
	for _, e := range train {
		if e.Kind == KindJudged && slices.Contains(cfg.RequestOnly, e.Source) {
			e.Kind = KindRequest
		}
		if e.Kind != KindRequest {
			count[e.Source]++
		}
		k := reqKey{e.Source, e.Prompt}
		if _, ok := requests[k]; !ok && e.Request != RequestUnknown && e.Prompt != "" {
			requests[k] = e.Request
			reqOrder = append(reqOrder, k)
			reqCount[e.Source]++
		}
	}
	// Summed in a fixed order (a map's order varies from run to run, and
	// so would the last bit of a float sum, and so the weights).
	var total float64
	for _, src := range slices.Sorted(maps.Keys(cfg.SourceWeights)) {
		if count[src] > 0 || reqCount[src] > 0 {
			total += cfg.SourceWeights[src]
		}
	}

	n, nr := 1<<cfg.TableBits, 1<<cfg.RequestBits
	offset := uint32(n + 1)
	sc := &scratch{}
	items := make([]trainItem, 0, len(train)+len(reqOrder))
	for _, e := range train {
		if e.Kind == KindRequest || slices.Contains(cfg.RequestOnly, e.Source) {
			continue
		}
		w := cfg.SourceWeights[e.Source] / float64(count[e.Source]) / total
		if w == 0 {
			continue
		}
		x, r := vectorize(sc, e.Prompt, e.Response, cfg, offset)
		if e.Kind == KindPair {
			safer, _ := vectorize(sc, e.Prompt, e.Safer, cfg, offset)
			items = append(items, trainItem{x: diff(x, safer), y: 1, weight: w, term: termPair})
			continue
		}
		items = append(items, trainItem{x: x, r: r, y: e.Label, weight: w, term: termJudged})
	}
	for _, k := range reqOrder {
		w := cfg.RequestWeight * cfg.SourceWeights[k.src] / float64(reqCount[k.src]) / total
		if w == 0 {
			continue
		}
		_, r := vectorize(sc, k.prompt, "", cfg, offset)
		y := 0.0
		if requests[k] == RequestHarmful {
			y = 1
		}
		items = append(items, trainItem{r: r, y: y, weight: w, term: termRequest})
	}

	obj := &objective{items: items, l2: cfg.L2, n: n, nr: nr}
	x, res := lbfgs(obj, n+1+nr+1, cfg.Iterations)
	c := &Classifier{bits: cfg.TableBits, rbits: cfg.RequestBits, flags: cfg.Flags,
		bias: float32(x[n]), rbias: float32(x[n+1+nr]), w: make([]float32, n), rw: make([]float32, nr)}
	for i := range c.w {
		c.w[i] = float32(x[i])
	}
	for i := range c.rw {
		c.rw[i] = float32(x[n+1+i])
	}

	rep := TrainReport{Iterations: res.iterations, Status: res.status, Loss: res.loss}
	c.threshold, rep.MeanAccuracy = pickThreshold(c, val)
	rep.Threshold = c.threshold
	sources := slices.Sorted(func(yield func(string) bool) {
		for s := range cfg.SourceWeights {
			if !yield(s) {
				return
			}
		}
	})
	for _, src := range sources {
		st := SourceStats{Source: src, Train: count[src]}
		var tp, fp, fn, tn, agree, pairs, reqRight, reqN int
		reqSeen := map[string]bool{}
		for _, e := range val {
			if e.Source != src {
				continue
			}
			if e.Request != RequestUnknown && !reqSeen[e.Prompt] {
				reqSeen[e.Prompt] = true
				r, _ := c.Parts(e.Prompt, "")
				if (r >= 0.5) == (e.Request == RequestHarmful) {
					reqRight++
				}
				reqN++
			}
			if e.Kind == KindRequest {
				continue
			}
			st.Val++
			p := c.Prob(e.Prompt, e.Response)
			if e.Kind == KindPair {
				if p > c.Prob(e.Prompt, e.Safer) {
					agree++
				}
				pairs++
				continue
			}
			switch pos := p >= c.threshold; {
			case pos && e.Label >= 0.5:
				tp++
			case pos:
				fp++
			case e.Label >= 0.5:
				fn++
			default:
				tn++
			}
		}
		if pairs > 0 {
			st.PairAgreement = float64(agree) / float64(pairs)
		}
		if tp+fp+fn+tn > 0 {
			st.Accuracy = float64(tp+tn) / float64(tp+fp+fn+tn)
		}
		if fp+tn > 0 {
			st.FPR = float64(fp) / float64(fp+tn)
		}
		if fn+tp > 0 {
			st.FNR = float64(fn) / float64(fn+tp)
		}
		if reqN > 0 {
			st.RequestAccuracy = float64(reqRight) / float64(reqN)
		}
		rep.Sources = append(rep.Sources, st)
	}
	return c, rep, nil
}

// pickThreshold returns the threshold in 0.05..0.95 (step 0.01) that
// maximises the mean accuracy over the validation cells of ValSources
// (see cellOf) among those that judge at most MaxBenignFPR of the answers
// to benign requests harmful in every cell, with that mean (0.95 if none
// does). With no validation examples it returns 0.5.
func pickThreshold(c *Classifier, val []Example) (float64, float64) {
	by := map[string][]scored{}
	for _, e := range val {
		if e.Kind != KindJudged || !slices.Contains(ValSources, e.Source) {
			continue
		}
		k := cellOf(e)
		by[k] = append(by[k], scored{c.Prob(e.Prompt, e.Response), e.Label >= 0.5})
	}
	if len(by) == 0 {
		return 0.5, 0
	}
	best, bestAcc := 0.95, meanAccuracy(by, 0.95)
	found := false
	for k := 5; k <= 95; k++ {
		t := float64(k) / 100
		if !benignFPROK(by, t) {
			continue
		}
		acc := meanAccuracy(by, t)
		if !found || acc > bestAcc+1e-12 {
			best, bestAcc, found = t, acc, true
		}
	}
	return best, bestAcc
}

// MaxBenignFPR bounds the threshold choice: in every validation cell of
// answers to benign requests, at most this fraction may be judged harmful
// (the judge's target on benign answers, applied to the training data's
// validation split).
const MaxBenignFPR = 0.03

// benignFPROK reports whether every benign-request cell has a false
// positive rate of at most MaxBenignFPR at t.
func benignFPROK(by map[string][]scored, t float64) bool {
	for k, xs := range by {
		if !strings.HasSuffix(k, "/benign request") {
			continue
		}
		fp, neg := 0, 0
		for _, x := range xs {
			if !x.y {
				neg++
				if x.p >= t {
					fp++
				}
			}
		}
		if neg > 0 && float64(fp) > MaxBenignFPR*float64(neg) {
			return false
		}
	}
	return true
}

// pickThresholdAt returns t and the mean validation accuracy at t.
func pickThresholdAt(c *Classifier, val []Example, t float64) (float64, float64) {
	by := map[string][]scored{}
	for _, e := range val {
		if e.Kind != KindJudged || !slices.Contains(ValSources, e.Source) {
			continue
		}
		k := cellOf(e)
		by[k] = append(by[k], scored{c.Prob(e.Prompt, e.Response), e.Label >= 0.5})
	}
	return t, meanAccuracy(by, t)
}

type scored struct {
	p float64
	y bool
}

// cellOf is the validation cell of a judged example: its corpus and,
// when known, whether its request is harmful, so that the answers to benign
// requests (where a judge must not see harm) weigh as much as those to
// harmful ones.
func cellOf(e Example) string {
	switch e.Request {
	case RequestHarmful:
		return e.Source + "/harmful request"
	case RequestBenign:
		return e.Source + "/benign request"
	}
	return e.Source
}

// meanAccuracy is the mean over the validation cells of the accuracy at t.
func meanAccuracy(by map[string][]scored, t float64) float64 {
	{
		var sum float64
		for _, k := range slices.Sorted(maps.Keys(by)) {
			xs := by[k]
			right := 0
			for _, x := range xs {
				if (x.p >= t) == x.y {
					right++
				}
			}
			sum += float64(right) / float64(len(xs))
		}
		return sum / float64(len(by))
	}
}

// objective is the weighted loss with an L2 penalty over the parameter
// vector [compliance weights (n), compliance bias, request weights (nr),
// request bias]. value computes the gradient too and keeps it for the
// gradient call at the same point.
type objective struct {
	items []trainItem
	l2    float64
	n, nr int
	lastX []float64
	lastF float64
	lastG []float64
}

func (o *objective) eval(x []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, x) {
		return
	}
	if o.lastG == nil {
		o.lastG = make([]float64, len(x))
	}
	g := o.lastG
	clear(g)
	cb, rb := o.n, o.n+1+o.nr
	dot := func(s sparse) float64 {
		z := 0.0
		for k, i := range s.idx {
			z += x[i] * s.val[k]
		}
		return z
	}
	add := func(s sparse, d float64) {
		for k, i := range s.idx {
			g[i] += d * s.val[k]
		}
	}
	var f float64
	for _, it := range o.items {
		switch it.term {
		case termPair:
			z := dot(it.x)
			f += it.weight * softplus(-z)
			add(it.x, -it.weight*sigmoid(-z))
		case termRequest:
			z := x[rb] + dot(it.r)
			f += it.weight * (softplus(z) - it.y*z)
			d := it.weight * (sigmoid(z) - it.y)
			add(it.r, d)
			g[rb] += d
		default:
			// p = σ(a)σ(b). For y = 1 the loss is softplus(−a) +
			// softplus(−b); for y = 0 it is −log(1 − p), with
			// 1 − p = σ(−a) + σ(a)σ(−b) computed without cancellation.
			a := x[rb] + dot(it.r)
			b := x[cb] + dot(it.x)
			sa, sb := sigmoid(a), sigmoid(b)
			var da, db float64
			if it.y >= 0.5 {
				f += it.weight * (softplus(-a) + softplus(-b))
				da, db = sa-1, sb-1
			} else {
				q := sigmoid(-a) + sa*sigmoid(-b)
				f -= it.weight * math.Log(q)
				p := sa * sb
				da = p * (1 - sa) / q
				db = p * (1 - sb) / q
			}
			add(it.r, it.weight*da)
			g[rb] += it.weight * da
			add(it.x, it.weight*db)
			g[cb] += it.weight * db
		}
	}
	for i := range x {
		if i == cb || i == rb {
			continue
		}
		f += 0.5 * o.l2 * x[i] * x[i]
		g[i] += o.l2 * x[i]
	}
	o.lastX = append(o.lastX[:0], x...)
	o.lastF = f
}

// valueGrad returns the objective at x and writes its gradient to grad.
func (o *objective) valueGrad(x, grad []float64) float64 {
	o.eval(x)
	copy(grad, o.lastG)
	return o.lastF
}

// lbfgsResult says how an L-BFGS run ended.
type lbfgsResult struct {
	iterations int
	status     string
	loss       float64
}

// lbfgs minimises the objective from zero by limited-memory BFGS (ten
// correction pairs) with a backtracking Armijo line search. It stops after
// maxIter iterations, when the gradient's largest component falls below
// 1e-7, or when the loss changed by less than 1e-9 (relative) over ten
// iterations. It is deterministic.
func lbfgs(o *objective, dim, maxIter int) ([]float64, lbfgsResult) {
	const (
		memory = 10
		armijo = 1e-4
	)
	x := make([]float64, dim)
	g := make([]float64, dim)
	f := o.valueGrad(x, g)
	var ss, ys [][]float64
	var rhos []float64
	d := make([]float64, dim)
	xNew := make([]float64, dim)
	gNew := make([]float64, dim)
	alpha := make([]float64, memory)
	history := []float64{f}
	res := lbfgsResult{status: "iteration limit"}
	for it := 1; it <= maxIter; it++ {
		res.iterations = it
		// Two-loop recursion: d = -H g.
		for i := range d {
			d[i] = -g[i]
		}
		for k := len(ss) - 1; k >= 0; k-- {
			alpha[k] = rhos[k] * dot(ss[k], d)
			axpy(-alpha[k], ys[k], d)
		}
		if k := len(ss) - 1; k >= 0 {
			scale(dot(ss[k], ys[k])/dot(ys[k], ys[k]), d)
		}
		for k := range ss {
			beta := rhos[k] * dot(ys[k], d)
			axpy(alpha[k]-beta, ss[k], d)
		}
		slope := dot(g, d)
		if slope >= 0 { // not a descent direction: restart from the gradient
			ss, ys, rhos = nil, nil, nil
			for i := range d {
				d[i] = -g[i]
			}
			slope = dot(g, d)
		}
		step := 1.0
		if len(ss) == 0 {
			step = 1 / math.Sqrt(-slope)
		}
		var fNew float64
		for tries := 0; ; tries++ {
			for i := range x {
				xNew[i] = x[i] + step*d[i]
			}
			fNew = o.valueGrad(xNew, gNew)
			if fNew <= f+armijo*step*slope {
				break
			}
			if tries == 40 {
				res.status = "line search failed"
				res.loss = f
				return x, res
			}
			step /= 2
		}
		s := make([]float64, dim)
		y := make([]float64, dim)
		for i := range x {
			s[i] = xNew[i] - x[i]
			y[i] = gNew[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-12 {
			if len(ss) == memory {
				ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
			}
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		copy(x, xNew)
		copy(g, gNew)
		f = fNew
		history = append(history, f)
		if maxAbs(g) < 1e-7 {
			res.status = "gradient converged"
			break
		}
		if n := len(history); n > 10 && history[n-11]-f <= 1e-9*math.Abs(f) {
			res.status = "loss converged"
			break
		}
	}
	res.loss = f
	return x, res
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// axpy adds a*x to y.
func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

// softplus returns log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
