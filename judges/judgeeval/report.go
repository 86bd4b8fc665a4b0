package judgeeval

import (
	"math"
	"strconv"

	"github.com/mores-eval/mores/bench/stats"
)

// Level is the confidence level of every interval.
const Level = 0.95

// Figures are one rater's agreement with the gold labels; positive is 1.
type Figures struct {
	// Rater is "judge NAME" or a reference column.
	Rater string `json:"rater"`
	N     int    `json:"n"`
	// TP, FP, FN and TN are the confusion matrix (rows: label, columns:
	// rater).
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
	// Agreement is the share of rows where the rater equals the label,
	// with its Wilson interval.
	Agreement Interval `json:"agreement"`
	// Kappa is Cohen's κ with the Fleiss–Cohen–Everitt Wald interval (NaN,
	// shown as "–", when either side is constant).
	Kappa Interval `json:"kappa"`
	// FPR is FP / (FP + TN) and FNR is FN / (FN + TP), with Wilson
	// intervals.
	FPR Interval `json:"fpr"`
	FNR Interval `json:"fnr"`
	// For a reference: McNemar is the exact two-sided McNemar p-value of
	// the difference in accuracy from the judge, over the same rows;
	// RightOnly is the number of rows the reference got right and the judge
	// wrong, JudgeOnly the reverse.
	McNemar   *float64 `json:"mcnemar_p,omitempty"`
	RightOnly int      `json:"reference_only_right,omitempty"`
	JudgeOnly int      `json:"judge_only_right,omitempty"`
}

// Interval is an estimate with its confidence interval.
type Interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Report is the result of Run.
type Report struct {
	File      string  `json:"file"`
	Label     string  `json:"label"`
	Judge     string  `json:"judge"`
	Metric    string  `json:"metric"`
	Invert    bool    `json:"invert,omitempty"`
	Threshold float64 `json:"threshold"`
	// Rows is the number of rows in the file; Judged those with a verdict;
	// Failed those whose judgment failed (FirstError says why).
	Rows       int    `json:"rows"`
	Judged     int    `json:"judged"`
	Failed     int    `json:"failed"`
	FirstError string `json:"first_error,omitempty"`
	// JudgeFigures are the judge's figures; References those of each
	// reference column, over the same rows.
	JudgeFigures Figures   `json:"judge_figures"`
	References   []Figures `json:"references,omitempty"`
}

// measure computes a rater's figures; judge, when set, is the judge's
// verdicts on the same rows, for McNemar's test.
func measure(name string, gold, pred, judge []int8) Figures {
	f := Figures{Rater: name, N: len(gold)}
	for i := range gold {
		switch {
		case gold[i] == 1 && pred[i] == 1:
			f.TP++
		case gold[i] == 0 && pred[i] == 1:
			f.FP++
		case gold[i] == 1 && pred[i] == 0:
			f.FN++
		default:
			f.TN++
		}
		if judge != nil {
			rr, jr := pred[i] == gold[i], judge[i] == gold[i]
			if rr && !jr {
				f.RightOnly++
			}
			if jr && !rr {
				f.JudgeOnly++
			}
		}
	}
	f.Agreement = wilson(f.TP+f.TN, f.N)
	f.FPR = wilson(f.FP, f.FP+f.TN)
	f.FNR = wilson(f.FN, f.FN+f.TP)
	// Both labels always in the matrix, so κ is defined on 2×2 even when
	// one side is constant.
	cm := stats.ConfusionMatrix{Labels: []string{"0", "1"}, Counts: [][]int{{f.TN, f.FP}, {f.FN, f.TP}}}
	k, _, lo, hi, err := cm.KappaCI(Level)
	switch {
	case err != nil:
		k, lo, hi = math.NaN(), math.NaN(), math.NaN()
	case f.TP+f.FP == 0 || f.FN+f.TN == 0 || f.TP+f.FN == 0 || f.FP+f.TN == 0:
		// One side gives one label throughout: κ is 0 and its
		// large-sample interval degenerates to a point; give none.
		lo, hi = math.NaN(), math.NaN()
	}
	f.Kappa = Interval{k, lo, hi}
	if judge != nil {
		p := stats.McNemarExact(f.RightOnly, f.JudgeOnly)
		f.McNemar = &p
	}
	return f
}

// MarshalJSON writes an undefined estimate (NaN) as null.
func (iv Interval) MarshalJSON() ([]byte, error) {
	num := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "null"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return []byte(`{"value":` + num(iv.Value) + `,"lo":` + num(iv.Lo) + `,"hi":` + num(iv.Hi) + `}`), nil
}

func wilson(s, n int) Interval {
	if n == 0 {
		return Interval{math.NaN(), math.NaN(), math.NaN()}
	}
	lo, hi := stats.Wilson(s, n, Level)
	return Interval{float64(s) / float64(n), lo, hi}
}
