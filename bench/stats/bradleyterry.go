package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"strings"
)

// Comparison is one pairwise verdict between models A and B. Outcome is 1
// when A won, 0 when B won and 0.5 for a tie; values in between give A that
// share of a win.
type Comparison struct {
	A, B    string
	Outcome float64
}

// BTOptions sets how [BradleyTerry] fits and how it estimates intervals.
type BTOptions struct {
	// Resamples is the number of bootstrap resamples of the comparisons
	// used for the confidence intervals; 0 leaves the intervals NaN.
	Resamples int
	// Seed seeds the bootstrap.
	Seed uint64
	// Prior adds, for every model, Prior virtual comparisons that are ties
	// against a fixed reference model (which is not rated). It shrinks the
	// scores towards each other and keeps them finite when a model won or
	// lost all its comparisons. 0 fits the plain maximum-likelihood
	// estimate.
	Prior float64
}

// Rating is the fitted strength of one model.
type Rating struct {
	Name string
	// Score is on an Elo-like scale: 1000 + 400·log10(π/g), where π is the
	// model's Bradley–Terry strength and g the geometric mean strength, so
	// the scores average 1000 and a 400-point lead means 10:1 odds of
	// winning.
	Score float64
	// CILow and CIHigh bound a 95% percentile bootstrap interval of Score
	// (NaN without resamples).
	CILow, CIHigh float64
	// LogStrength is ln π − mean ln π, the natural-log strength with mean 0
	// (the parameters of BTm in R's BradleyTerry2 up to a constant).
	LogStrength float64
	// Games is the number of comparisons the model took part in.
	Games int
}

// btFallbackPrior is the prior used for a bootstrap resample whose
// comparison graph is not strongly connected (so that no finite maximum-
// likelihood estimate exists) when BTOptions.Prior is smaller.
const btFallbackPrior = 0.01

// ErrNotConnected reports that no finite Bradley–Terry maximum-likelihood
// estimate exists because some group of models never lost (or never won)
// against the others; set BTOptions.Prior to shrink the estimate.
var ErrNotConnected = errors.New("stats: Bradley–Terry: the comparison graph is not strongly connected (a model or group of models never won or never lost against the rest); no finite maximum-likelihood estimate exists, set a Prior")

// BradleyTerry fits a Bradley–Terry model, P(i beats j) = πi / (πi + πj), to
// pairwise comparisons by the MM algorithm of Hunter (2004, Ann. Statist.
// 32:384–406), counting a tie as half a win for each side. Ratings are
// returned by descending Score (ties by name) on the Elo-like scale
// described at [Rating]; with opt.Resamples > 0 the comparisons are
// resampled with replacement and refitted to give percentile intervals.
//
// Without a prior the maximum-likelihood estimate must exist: every model
// must have both won and lost something, transitively (the directed
// win graph must be strongly connected), or ErrNotConnected is returned.
// A bootstrap resample that breaks that condition is fitted with a prior of
// 0.01 virtual ties, which keeps its scores finite but extreme: wide
// intervals then mean too few comparisons.
func BradleyTerry(pairs []Comparison, opt BTOptions) ([]Rating, error) {
	if len(pairs) == 0 {
		return nil, errors.New("stats: Bradley–Terry: no comparisons")
	}
	if opt.Prior < 0 || math.IsNaN(opt.Prior) || math.IsInf(opt.Prior, 0) {
		return nil, fmt.Errorf("stats: Bradley–Terry: prior %v is not a finite number ≥ 0", opt.Prior)
	}
	nameSet := map[string]bool{}
	for i, c := range pairs {
		if c.A == "" || c.B == "" {
			return nil, fmt.Errorf("stats: Bradley–Terry: comparison %d: empty model name", i)
		}
		if c.A == c.B {
			return nil, fmt.Errorf("stats: Bradley–Terry: comparison %d: model %q compared with itself", i, c.A)
		}
		if !(c.Outcome >= 0 && c.Outcome <= 1) {
			return nil, fmt.Errorf("stats: Bradley–Terry: comparison %d: outcome %v is not in [0, 1]", i, c.Outcome)
		}
		nameSet[c.A] = true
		nameSet[c.B] = true
	}
	names := make([]string, 0, len(nameSet))
	for n := range nameSet {
		names = append(names, n)
	}
	slices.Sort(names)
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	type pair struct {
		a, b int
		o    float64
	}
	ps := make([]pair, len(pairs))
	games := make([]int, len(names))
	for i, c := range pairs {
		ps[i] = pair{index[c.A], index[c.B], c.Outcome}
		games[ps[i].a]++
		games[ps[i].b]++
	}

	k := len(names)
	fit := newBTFit(k)
	for _, p := range ps {
		fit.add(p.a, p.b, p.o)
	}
	if opt.Prior == 0 && !fit.stronglyConnected() {
		return nil, ErrNotConnected
	}
	logp := slices.Clone(fit.solve(opt.Prior, nil))
	const eloPerNat = 400 / math.Ln10

	ratings := make([]Rating, k)
	for i := range k {
		ratings[i] = Rating{
			Name:        names[i],
			LogStrength: logp[i],
			Score:       1000 + eloPerNat*logp[i],
			CILow:       math.NaN(),
			CIHigh:      math.NaN(),
			Games:       games[i],
		}
	}

	if opt.Resamples > 0 {
		scores := make([][]float64, k)
		for i := range scores {
			scores[i] = make([]float64, opt.Resamples)
		}
		src := newWyrand(opt.Seed, 0xb7e151628aed2a6b)
		n := uint64(len(ps))
		for r := range opt.Resamples {
			fit.reset()
			for range n {
				p := ps[src.index(n)]
				fit.add(p.a, p.b, p.o)
			}
			prior := opt.Prior
			if prior < btFallbackPrior && !fit.stronglyConnected() {
				prior = btFallbackPrior
			}
			lp := fit.solve(prior, logp)
			for i := range k {
				scores[i][r] = 1000 + eloPerNat*lp[i]
			}
		}
		for i := range k {
			slices.Sort(scores[i])
			ratings[i].CILow = quantileSorted(scores[i], 0.025)
			ratings[i].CIHigh = quantileSorted(scores[i], 0.975)
		}
	}
	slices.SortStableFunc(ratings, func(x, y Rating) int {
		if x.Score != y.Score {
			if x.Score > y.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	return ratings, nil
}

// btFit holds the aggregated comparisons of k models: w[i*k+j] is the
// score i earned against j and n[i*k+j] the number of their comparisons.
type btFit struct {
	k       int
	w, n    []float64
	logp    []float64
	p, next []float64
	seen    []bool
	stack   []int
}

func newBTFit(k int) *btFit {
	return &btFit{
		k: k, w: make([]float64, k*k), n: make([]float64, k*k),
		logp: make([]float64, k), p: make([]float64, k), next: make([]float64, k),
		seen: make([]bool, k), stack: make([]int, 0, k),
	}
}

func (f *btFit) reset() {
	clear(f.w)
	clear(f.n)
}

func (f *btFit) add(a, b int, o float64) {
	k := f.k
	f.w[a*k+b] += o
	f.w[b*k+a] += 1 - o
	f.n[a*k+b]++
	f.n[b*k+a]++
}

// stronglyConnected reports whether every model can reach every other along
// edges i→j where i earned something against j.
func (f *btFit) stronglyConnected() bool {
	return f.reaches(false) && f.reaches(true)
}

// reaches reports whether model 0 reaches all models, along the edges or
// (reverse) against them.
func (f *btFit) reaches(reverse bool) bool {
	k := f.k
	clear(f.seen)
	f.seen[0] = true
	f.stack = append(f.stack[:0], 0)
	count := 1
	for len(f.stack) > 0 {
		i := f.stack[len(f.stack)-1]
		f.stack = f.stack[:len(f.stack)-1]
		for j := range k {
			w := f.w[i*k+j]
			if reverse {
				w = f.w[j*k+i]
			}
			if w > 0 && !f.seen[j] {
				f.seen[j] = true
				count++
				f.stack = append(f.stack, j)
			}
		}
	}
	return count == k
}

// solve fits log strengths from start (or zeros if nil) and returns them
// centred at mean 0; the returned slice is reused by the next call. It runs
// Hunter's MM iteration,
//
//	πi ← (Wi + prior/2) / (Σj nij/(πi+πj) + prior/(πi+1)),
//
// which increases the likelihood at every step, until the largest change
// of a log strength is below 1e-10. MM converges linearly and can crawl
// when strengths are far apart (as in a resample fitted with the fallback
// prior), so after mmIterations it hands over to Newton's method with
// step halving on the same concave log-likelihood.
func (f *btFit) solve(prior float64, start []float64) []float64 {
	k := f.k
	for i := range k {
		if start != nil {
			f.p[i] = math.Exp(start[i])
		} else {
			f.p[i] = 1
		}
	}
	const mmIterations = 500
	converged := false
	for range mmIterations {
		delta := 0.0
		for i := range k {
			wins := prior / 2
			denom := prior / (f.p[i] + 1)
			for j := range k {
				if nij := f.n[i*k+j]; nij > 0 {
					wins += f.w[i*k+j]
					denom += nij / (f.p[i] + f.p[j])
				}
			}
			if denom == 0 {
				f.next[i] = f.p[i] // a model without comparisons keeps its strength
			} else {
				f.next[i] = wins / denom
			}
		}
		// Without a prior the scale is free: fix the geometric mean at 1.
		if prior == 0 {
			g := 0.0
			for i := range k {
				g += math.Log(f.next[i])
			}
			g = math.Exp(g / float64(k))
			for i := range k {
				f.next[i] /= g
			}
		}
		for i := range k {
			delta = math.Max(delta, math.Abs(math.Log(f.next[i])-math.Log(f.p[i])))
		}
		f.p, f.next = f.next, f.p
		if delta < 1e-10 {
			converged = true
			break
		}
	}
	for i := range k {
		f.logp[i] = math.Log(f.p[i])
	}
	if !converged {
		f.newton(prior)
	}
	mean := 0.0
	for i := range k {
		mean += f.logp[i]
	}
	mean /= float64(k)
	for i := range k {
		f.logp[i] -= mean
	}
	return f.logp
}

// logLik returns the log-likelihood of log strengths theta, including the
// prior's virtual ties against a reference of log strength 0.
func (f *btFit) logLik(theta []float64, prior float64) float64 {
	k := f.k
	ll := 0.0
	for i := range k {
		for j := range k {
			if w := f.w[i*k+j]; w > 0 {
				// log P(i beats j) = −log(1 + e^(θj−θi)).
				ll -= w * softplus(theta[j]-theta[i])
			}
		}
		if prior > 0 {
			ll -= prior / 2 * (softplus(-theta[i]) + softplus(theta[i]))
		}
	}
	return ll
}

// softplus returns log(1 + e^x) without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// newton maximises the log-likelihood over f.logp by Newton's method with
// step halving. Without a prior the last model's log strength is held
// fixed, since only differences are identified.
func (f *btFit) newton(prior float64) {
	k := f.k
	m := k
	if prior == 0 {
		m = k - 1
	}
	if m == 0 {
		return
	}
	grad := mat.NewVecDense(m, nil)
	hess := mat.NewSymDense(m, nil)
	step := mat.NewVecDense(m, nil)
	trial := make([]float64, k)
	ll := f.logLik(f.logp, prior)
	for range 100 {
		hess.Zero()
		grad.Zero()
		for i := range m {
			g := 0.0
			h := 0.0
			for j := range k {
				nij := f.n[i*k+j]
				if nij == 0 {
					continue
				}
				pij := 1 / (1 + math.Exp(f.logp[j]-f.logp[i]))
				g += f.w[i*k+j] - nij*pij
				v := nij * pij * (1 - pij)
				h += v
				if j < m && j > i {
					hess.SetSym(i, j, v)
				}
			}
			if prior > 0 {
				q := 1 / (1 + math.Exp(-f.logp[i]))
				g += prior/2 - prior*q
				h += prior * q * (1 - q)
			}
			grad.SetVec(i, g)
			hess.SetSym(i, i, h)
		}
		// The negative Hessian is a weighted graph Laplacian (plus the
		// prior's diagonal), positive definite once one model is fixed.
		var chol mat.Cholesky
		if !chol.Factorize(laplacian(hess)) {
			return
		}
		if err := chol.SolveVecTo(step, grad); err != nil {
			return
		}
		t := 1.0
		improved := false
		for range 50 {
			copy(trial, f.logp)
			for i := range m {
				trial[i] += t * step.AtVec(i)
			}
			if nl := f.logLik(trial, prior); nl >= ll {
				ll = nl
				improved = true
				break
			}
			t /= 2
		}
		if !improved {
			return
		}
		copy(f.logp, trial)
		if t*mat.Norm(step, math.Inf(1)) < 1e-10 {
			return
		}
	}
}

// laplacian turns the accumulated Hessian terms (diagonal: total weight;
// off-diagonal: pair weights stored as positive numbers) into the negative
// Hessian of the log-likelihood by negating the off-diagonal entries.
func laplacian(h *mat.SymDense) *mat.SymDense {
	m := h.SymmetricDim()
	for i := range m {
		for j := i + 1; j < m; j++ {
			h.SetSym(i, j, -h.At(i, j))
		}
	}
	return h
}
