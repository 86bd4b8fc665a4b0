package stats

import "math"

// KappaCI returns Cohen's kappa of the matrix with a Wald confidence
// interval at the given level (e.g. 0.95), using the large-sample standard
// error of Fleiss, Cohen and Everitt (1969), "Large sample standard errors of
// kappa and weighted kappa", Psychological Bulletin 72(5):323–327 — the
// asymptotic standard error that SAS PROC FREQ (AGREE) and Stata's kapci
// report:
//
//	var(κ) = [ Σᵢ pᵢᵢ (1 − (pᵢ. + p.ᵢ)(1 − κ))² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ (p.ᵢ + pⱼ.)² − (κ − pₑ(1 − κ))² ] / (n (1 − pₑ)²)
//
// The bounds are clipped to [−1, 1]. The error is that of [ConfusionMatrix.Kappa].
func (m ConfusionMatrix) KappaCI(level float64) (kappa, se, lo, hi float64, err error) {
	kappa, err = m.Kappa()
	if err != nil {
		return kappa, math.NaN(), math.NaN(), math.NaN(), err
	}
	n := float64(m.N())
	k := len(m.Counts)
	row := make([]float64, k)
	col := make([]float64, k)
	pe := 0.0
	for i := range m.Counts {
		for j := range m.Counts {
			row[i] += float64(m.Counts[i][j]) / n
			col[j] += float64(m.Counts[i][j]) / n
		}
	}
	for i := range row {
		pe += row[i] * col[i]
	}
	var a, b float64
	for i := range m.Counts {
		for j := range m.Counts {
			p := float64(m.Counts[i][j]) / n
			if i == j {
				d := 1 - (row[i]+col[i])*(1-kappa)
				a += p * d * d
			} else {
				s := col[i] + row[j]
				b += p * s * s
			}
		}
	}
	b *= (1 - kappa) * (1 - kappa)
	c := kappa - pe*(1-kappa)
	v := (a + b - c*c) / (n * (1 - pe) * (1 - pe))
	if v < 0 {
		v = 0 // rounding, when agreement is perfect
	}
	se = math.Sqrt(v)
	z := zCritical(level)
	return kappa, se, math.Max(-1, kappa-z*se), math.Min(1, kappa+z*se), nil
}
