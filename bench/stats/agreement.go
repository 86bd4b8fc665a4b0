package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Level is the level of measurement of ratings, which decides how much two
// different values disagree in [KrippendorffAlpha].
type Level int

const (
	// Nominal values are categories: any two different values disagree
	// equally.
	Nominal Level = iota
	// Ordinal values are ranked: the disagreement of two values grows with
	// the number of observed values between them.
	Ordinal
	// Interval values are numbers: disagreement is the squared difference.
	Interval
	// Ratio values are numbers with a true zero: disagreement is the squared
	// difference relative to the sum, ((a − b)/(a + b))².
	Ratio
)

// String returns the lower-case name of the level, as ParseLevel accepts it.
func (l Level) String() string {
	switch l {
	case Nominal:
		return "nominal"
	case Ordinal:
		return "ordinal"
	case Interval:
		return "interval"
	case Ratio:
		return "ratio"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses "nominal", "ordinal", "interval" or "ratio" (any case).
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{Nominal, Ordinal, Interval, Ratio} {
		if strings.EqualFold(s, l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("stats: unknown level of measurement %q (want nominal, ordinal, interval or ratio)", s)
}

// ErrNoPairableValues reports that no unit has values from at least two
// raters, so agreement cannot be measured.
var ErrNoPairableValues = errors.New("stats: agreement: no unit has values from two or more raters")

// ErrNoVariation reports that an agreement coefficient is undefined because
// the data show no variation (every rating is the same value, so agreement
// expected by chance is already perfect).
var ErrNoVariation = errors.New("stats: agreement: every rating has the same value; the coefficient is undefined")

// UnitRating is one rating in long form: the value a rater gave a unit
// (a sample, or a sample and metric). NaN is a missing rating.
type UnitRating struct {
	Unit, Rater string
	Value       float64
}

// KrippendorffAlpha returns Krippendorff's alpha reliability coefficient
// for data[rater][unit], where NaN marks a missing rating, at the given
// level of measurement. It uses the coincidence-matrix formulation of
// Krippendorff (2011, "Computing Krippendorff's Alpha-Reliability"):
// α = 1 − Do/De with observed disagreement Do from the pairs of values
// within units and expected disagreement De from all pairable values. Units
// with fewer than two values are dropped. α is 1 for perfect agreement and
// 0 for agreement at chance level; it can be negative.
//
// The ordinal metric is computed as the interval metric on the mid-ranks of
// the values (cumulative frequency minus half the value's own frequency),
// which equals Krippendorff's definition; nominal, ordinal and interval
// alpha take O(number of values · log) time, ratio alpha also
// O(Σ values per unit² + distinct values²).
//
// It returns an error for ragged data, an infinite value,
// ErrNoPairableValues when no unit has two values, and (NaN,
// ErrNoVariation) when all pairable values are equal.
func KrippendorffAlpha(data [][]float64, level Level) (float64, error) {
	if len(data) == 0 {
		return math.NaN(), ErrNoPairableValues
	}
	units := len(data[0])
	for r, row := range data {
		if len(row) != units {
			return math.NaN(), fmt.Errorf("stats: Krippendorff's alpha: rater %d has %d units, rater 0 has %d", r, len(row), units)
		}
	}
	var byUnit [][]float64
	buf := make([]float64, 0, len(data))
	for u := range units {
		buf = buf[:0]
		for r := range data {
			v := data[r][u]
			if math.IsNaN(v) {
				continue
			}
			if math.IsInf(v, 0) {
				return math.NaN(), fmt.Errorf("stats: Krippendorff's alpha: rater %d, unit %d: infinite value", r, u)
			}
			buf = append(buf, v)
		}
		if len(buf) >= 2 {
			byUnit = append(byUnit, slices.Clone(buf))
		}
	}
	return alphaUnits(byUnit, level)
}

// KrippendorffAlphaRatings is [KrippendorffAlpha] for ratings in long form
// (unit, rater, value). A rater may rate a unit at most once; NaN values are
// missing ratings.
func KrippendorffAlphaRatings(rs []UnitRating, level Level) (float64, error) {
	units, err := groupRatings(rs)
	if err != nil {
		return math.NaN(), err
	}
	return alphaUnits(units, level)
}

// groupRatings returns the non-missing values of each unit that has at
// least two, in the order units first appear.
func groupRatings(rs []UnitRating) ([][]float64, error) {
	type key struct{ unit, rater string }
	seen := make(map[key]bool, len(rs))
	unitIndex := map[string]int{}
	var units [][]float64
	for i, r := range rs {
		k := key{r.Unit, r.Rater}
		if seen[k] {
			return nil, fmt.Errorf("stats: rating %d: rater %q rated unit %q more than once", i, r.Rater, r.Unit)
		}
		seen[k] = true
		if math.IsNaN(r.Value) {
			continue
		}
		if math.IsInf(r.Value, 0) {
			return nil, fmt.Errorf("stats: rating %d (unit %q, rater %q): infinite value", i, r.Unit, r.Rater)
		}
		u, ok := unitIndex[r.Unit]
		if !ok {
			u = len(units)
			unitIndex[r.Unit] = u
			units = append(units, nil)
		}
		units[u] = append(units[u], r.Value)
	}
	pairable := units[:0]
	for _, u := range units {
		if len(u) >= 2 {
			pairable = append(pairable, u)
		}
	}
	return pairable, nil
}

// alphaUnits computes alpha from the values of pairable units (each with at
// least two values).
func alphaUnits(units [][]float64, level Level) (float64, error) {
	if len(units) == 0 {
		return math.NaN(), ErrNoPairableValues
	}
	// The pairable values and their frequencies n_c.
	var all []float64
	for _, u := range units {
		all = append(all, u...)
	}
	slices.Sort(all)
	var vals []float64
	var freq []float64
	for _, v := range all {
		if len(vals) > 0 && vals[len(vals)-1] == v {
			freq[len(freq)-1]++
		} else {
			vals = append(vals, v)
			freq = append(freq, 1)
		}
	}
	if len(vals) < 2 {
		return math.NaN(), ErrNoVariation
	}
	n := float64(len(all))
	var obs, exp float64 // Σ o_ck δ_ck and Σ n_c n_k δ_ck
	switch level {
	case Nominal:
		for _, u := range units {
			s := slices.Clone(u)
			slices.Sort(s)
			m := float64(len(s))
			same := 0.0
			run := 1.0
			for i := 1; i <= len(s); i++ {
				if i < len(s) && s[i] == s[i-1] {
					run++
					continue
				}
				same += run * run
				run = 1
			}
			obs += (m*m - same) / (m - 1)
		}
		sq := 0.0
		for _, f := range freq {
			sq += f * f
		}
		exp = n*n - sq
	case Ordinal, Interval:
		transform := func(v float64) float64 { return v }
		if level == Ordinal {
			rank := make(map[float64]float64, len(vals))
			cum := 0.0
			for i, v := range vals {
				cum += freq[i]
				rank[v] = cum - freq[i]/2
			}
			transform = func(v float64) float64 { return rank[v] }
		}
		// Σ_{i≠j} (x_i − x_j)² = 2m Σ (x_i − x̄)², per unit and overall.
		grand := 0.0
		for i, v := range vals {
			grand += freq[i] * transform(v)
		}
		grand /= n
		for _, u := range units {
			m := float64(len(u))
			mean := 0.0
			for _, v := range u {
				mean += transform(v)
			}
			mean /= m
			ss := 0.0
			for _, v := range u {
				d := transform(v) - mean
				ss += d * d
			}
			obs += 2 * m * ss / (m - 1)
		}
		ss := 0.0
		for i, v := range vals {
			d := transform(v) - grand
			ss += freq[i] * d * d
		}
		exp = 2 * n * ss
	case Ratio:
		delta := func(a, b float64) float64 {
			if a+b == 0 {
				return 0
			}
			d := (a - b) / (a + b)
			return d * d
		}
		for _, u := range units {
			m := float64(len(u))
			s := 0.0
			for i := range u {
				for j := i + 1; j < len(u); j++ {
					s += 2 * delta(u[i], u[j])
				}
			}
			obs += s / (m - 1)
		}
		for i := range vals {
			for j := i + 1; j < len(vals); j++ {
				exp += 2 * freq[i] * freq[j] * delta(vals[i], vals[j])
			}
		}
	default:
		return math.NaN(), fmt.Errorf("stats: Krippendorff's alpha: unknown level %v", level)
	}
	if exp == 0 {
		return math.NaN(), ErrNoVariation
	}
	return 1 - (n-1)*obs/exp, nil
}

// PercentAgreement returns the share of agreeing pairs of ratings within a
// unit, averaged over units: for a unit with m ratings, the number of
// ordered pairs of different raters that gave the same value divided by
// m(m − 1). Values are compared exactly; units with fewer than two
// non-missing ratings are dropped (ErrNoPairableValues if none is left).
func PercentAgreement(rs []UnitRating) (float64, error) {
	units, err := groupRatings(rs)
	if err != nil {
		return math.NaN(), err
	}
	if len(units) == 0 {
		return math.NaN(), ErrNoPairableValues
	}
	total := 0.0
	for _, u := range units {
		s := slices.Clone(u)
		slices.Sort(s)
		m := float64(len(s))
		same := 0.0
		run := 1.0
		for i := 1; i <= len(s); i++ {
			if i < len(s) && s[i] == s[i-1] {
				run++
				continue
			}
			same += run * (run - 1)
			run = 1
		}
		total += same / (m * (m - 1))
	}
	return total / float64(len(units)), nil
}

// CohenKappa returns Cohen's (1960) kappa for two raters who labelled the
// same items: κ = (po − pe) / (1 − pe), with po the share of items on which
// they agree and pe the agreement expected from their label frequencies.
// It returns an error if the lists differ in length or are empty, and
// (NaN, ErrNoVariation) when both raters used one and the same label
// throughout (pe = 1).
func CohenKappa(a, b []string) (float64, error) {
	if len(a) != len(b) {
		return math.NaN(), fmt.Errorf("stats: Cohen's kappa: %d labels from rater a but %d from rater b", len(a), len(b))
	}
	if len(a) == 0 {
		return math.NaN(), errors.New("stats: Cohen's kappa: no labels")
	}
	return Confusion(a, b).Kappa()
}

// FleissKappa returns Fleiss' (1971) kappa for items each rated by the same
// number of raters: counts[i][j] is how many raters put item i in category
// j. It returns an error for an empty or ragged table, a negative count,
// fewer than two ratings per item or items with different numbers of
// ratings, and (NaN, ErrNoVariation) when all ratings fall in one category.
func FleissKappa(counts [][]int) (float64, error) {
	if len(counts) == 0 {
		return math.NaN(), errors.New("stats: Fleiss' kappa: no items")
	}
	k := len(counts[0])
	raters := -1
	colTotals := make([]float64, k)
	sumP := 0.0
	for i, row := range counts {
		if len(row) != k {
			return math.NaN(), fmt.Errorf("stats: Fleiss' kappa: item %d has %d categories, item 0 has %d", i, len(row), k)
		}
		m, sq := 0, 0.0
		for j, c := range row {
			if c < 0 {
				return math.NaN(), fmt.Errorf("stats: Fleiss' kappa: item %d, category %d: negative count %d", i, j, c)
			}
			m += c
			sq += float64(c) * float64(c)
			colTotals[j] += float64(c)
		}
		if raters == -1 {
			raters = m
			if m < 2 {
				return math.NaN(), fmt.Errorf("stats: Fleiss' kappa: item %d has %d ratings, need at least 2", i, m)
			}
		} else if m != raters {
			return math.NaN(), fmt.Errorf("stats: Fleiss' kappa: item %d has %d ratings, item 0 has %d (every item needs the same number)", i, m, raters)
		}
		fm := float64(m)
		sumP += (sq - fm) / (fm * (fm - 1))
	}
	nItems := float64(len(counts))
	pBar := sumP / nItems
	pe := 0.0
	for _, t := range colTotals {
		p := t / (nItems * float64(raters))
		pe += p * p
	}
	if pe >= 1 {
		return math.NaN(), ErrNoVariation
	}
	return (pBar - pe) / (1 - pe), nil
}
