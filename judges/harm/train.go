package harm

import (
	"errors"
	"fmt"
	"hash/fnv"
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
	// TableBits is log2 of the number of hashed feature weights.
	TableBits uint
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
}

// DefaultTrainConfig returns the settings that produced the embedded model.
// They were chosen by validation accuracy on the held-out split of the
// training corpora (see README.md).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Seed:        1,
		TableBits:   18,
		Flags:       FlagPrompt | FlagChars,
		L2:          1e-4,
		Iterations:  300,
		ValFraction: 0.2,
		SourceWeights: map[string]float64{
			SourceXSTest:    1,
			SourceJBB:       1,
			SourceAdvBench:  0.2,
			SourceHHHarmful: 0.5,
		},
	}
}

// ValSources are the corpora whose validation accuracy selects the
// threshold (the others have only one class or only pairs).
var ValSources = []string{SourceXSTest, SourceJBB, SourceSafeRLHF}

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
		fmt.Fprintf(&b, "  %-14s train %5d  val %4d  acc %.4f  FPR %.4f  FNR %.4f\n", s.Source, s.Train, s.Val, s.Accuracy, s.FPR, s.FNR)
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

// vectorize extracts and merges the features of (prompt, response).
func vectorize(sc *scratch, prompt, response string, flags uint32, bits uint) sparse {
	extract(sc, prompt, response, flags, bits)
	return merge(sc.feats)
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

// trainItem is one term of the loss: a labelled example (pair false, with
// the bias) or a preference pair (pair true: the difference of the two
// vectors should score above zero, without the bias).
type trainItem struct {
	x      sparse
	y      float64
	weight float64
	pair   bool
}

// Train fits a logistic-regression classifier to the training split of
// examples by L-BFGS on the weighted log loss plus an L2 penalty, then picks
// the threshold that maximises the mean validation accuracy over
// ValSources. Training is deterministic: the same examples and config give
// the same weights.
func Train(examples []Example, cfg TrainConfig) (*Classifier, TrainReport, error) {
	def := DefaultTrainConfig()
	if cfg.TableBits == 0 {
		cfg.TableBits = def.TableBits
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
	if cfg.TableBits < 8 || cfg.TableBits > 26 {
		return nil, TrainReport{}, fmt.Errorf("harm: table bits %d out of range 8..26", cfg.TableBits)
	}

	var train, val []Example
	for _, e := range examples {
		if _, ok := cfg.SourceWeights[e.Source]; !ok || e.Kind == KindRequest {
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
	count := map[string]int{}
	for _, e := range train {
		count[e.Source]++
	}
	var total float64
	for src := range count {
		total += cfg.SourceWeights[src]
	}

	sc := &scratch{}
	items := make([]trainItem, 0, len(train))
	for _, e := range train {
		w := cfg.SourceWeights[e.Source] / float64(count[e.Source]) / total
		if w == 0 {
			continue
		}
		x := vectorize(sc, e.Prompt, e.Response, cfg.Flags, cfg.TableBits)
		if e.Kind == KindPair {
			x = diff(x, vectorize(sc, e.Prompt, e.Safer, cfg.Flags, cfg.TableBits))
			items = append(items, trainItem{x: x, y: 1, weight: w, pair: true})
			continue
		}
		items = append(items, trainItem{x: x, y: e.Label, weight: w})
	}

	n := 1 << cfg.TableBits
	obj := &objective{items: items, l2: cfg.L2, n: n}
	x, res := lbfgs(obj, n+1, cfg.Iterations)
	c := &Classifier{bits: cfg.TableBits, flags: cfg.Flags, bias: float32(x[n]), w: make([]float32, n)}
	for i := range c.w {
		c.w[i] = float32(x[i])
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
		var tp, fp, fn, tn, agree int
		for _, e := range val {
			if e.Source != src {
				continue
			}
			st.Val++
			p := c.Prob(e.Prompt, e.Response)
			if e.Kind == KindPair {
				if p > c.Prob(e.Prompt, e.Safer) {
					agree++
				}
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
		if src == SourceHHHarmful && st.Val > 0 {
			st.PairAgreement = float64(agree) / float64(st.Val)
		}
		if st.Val > 0 {
			st.Accuracy = float64(tp+tn) / float64(st.Val)
		}
		if fp+tn > 0 {
			st.FPR = float64(fp) / float64(fp+tn)
		}
		if fn+tp > 0 {
			st.FNR = float64(fn) / float64(fn+tp)
		}
		rep.Sources = append(rep.Sources, st)
	}
	return c, rep, nil
}

// pickThreshold returns the threshold in 0.05..0.95 (step 0.01) that
// maximises the mean accuracy over ValSources of the validation examples,
// with that mean. With no validation examples it returns 0.5.
func pickThreshold(c *Classifier, val []Example) (float64, float64) {
	type scored struct {
		p float64
		y bool
	}
	by := map[string][]scored{}
	for _, e := range val {
		if e.Kind != KindJudged || !slices.Contains(ValSources, e.Source) {
			continue
		}
		by[e.Source] = append(by[e.Source], scored{c.Prob(e.Prompt, e.Response), e.Label >= 0.5})
	}
	if len(by) == 0 {
		return 0.5, 0
	}
	best, bestAcc := 0.5, -1.0
	for k := 5; k <= 95; k++ {
		t := float64(k) / 100
		var sum float64
		for _, src := range ValSources {
			xs := by[src]
			if len(xs) == 0 {
				continue
			}
			right := 0
			for _, x := range xs {
				if (x.p >= t) == x.y {
					right++
				}
			}
			sum += float64(right) / float64(len(xs))
		}
		acc := sum / float64(len(by))
		if acc > bestAcc+1e-12 {
			best, bestAcc = t, acc
		}
	}
	return best, bestAcc
}

// objective is the weighted log loss with an L2 penalty, over the weights
// x[:n] and the bias x[n]. value computes the gradient too and keeps it for
// the gradient call at the same point.
type objective struct {
	items []trainItem
	l2    float64
	n     int
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
	var f float64
	for _, it := range o.items {
		z := 0.0
		if !it.pair {
			z = x[o.n]
		}
		for k, i := range it.x.idx {
			z += x[i] * it.x.val[k]
		}
		// Log loss of sigmoid(z) against y, written to stay finite.
		f += it.weight * (softplus(z) - it.y*z)
		d := it.weight * (sigmoid(z) - it.y)
		for k, i := range it.x.idx {
			g[i] += d * it.x.val[k]
		}
		if !it.pair {
			g[o.n] += d
		}
	}
	for i := 0; i < o.n; i++ {
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
