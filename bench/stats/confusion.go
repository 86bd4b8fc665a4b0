package stats

import (
	"math"
	"slices"
)

// ConfusionMatrix counts how the labels of one rater (pred, e.g. a judge)
// relate to those of a reference (truth, e.g. the human majority).
type ConfusionMatrix struct {
	// Labels are the labels seen in either list, sorted.
	Labels []string
	// Counts[i][j] is the number of items with truth Labels[i] and
	// prediction Labels[j].
	Counts [][]int
}

// Confusion tabulates two label lists of the same items. It panics if they
// differ in length (a programming error: the caller pairs the items).
func Confusion(truth, pred []string) ConfusionMatrix {
	if len(truth) != len(pred) {
		panic("stats: Confusion: truth and pred differ in length")
	}
	set := map[string]int{}
	for i := range truth {
		set[truth[i]] = 0
		set[pred[i]] = 0
	}
	labels := make([]string, 0, len(set))
	for l := range set {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for i, l := range labels {
		set[l] = i
	}
	counts := make([][]int, len(labels))
	for i := range counts {
		counts[i] = make([]int, len(labels))
	}
	for i := range truth {
		counts[set[truth[i]]][set[pred[i]]]++
	}
	return ConfusionMatrix{Labels: labels, Counts: counts}
}

// index returns the position of a label, or −1.
func (m ConfusionMatrix) index(label string) int {
	i, ok := slices.BinarySearch(m.Labels, label)
	if !ok {
		return -1
	}
	return i
}

// N returns the number of items.
func (m ConfusionMatrix) N() int {
	n := 0
	for _, row := range m.Counts {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Count returns the number of items with the given truth and prediction.
func (m ConfusionMatrix) Count(truth, pred string) int {
	i, j := m.index(truth), m.index(pred)
	if i < 0 || j < 0 {
		return 0
	}
	return m.Counts[i][j]
}

// Accuracy returns the share of items whose prediction equals the truth
// (NaN with no items).
func (m ConfusionMatrix) Accuracy() float64 {
	agree := 0
	for i := range m.Counts {
		agree += m.Counts[i][i]
	}
	n := m.N()
	if n == 0 {
		return math.NaN()
	}
	return float64(agree) / float64(n)
}

// Binary collapses the matrix to one positive label against all others and
// returns the true positives, false positives, false negatives and true
// negatives.
func (m ConfusionMatrix) Binary(positive string) (tp, fp, fn, tn int) {
	p := m.index(positive)
	for i, row := range m.Counts {
		for j, c := range row {
			switch {
			case i == p && j == p:
				tp += c
			case i != p && j == p:
				fp += c
			case i == p && j != p:
				fn += c
			default:
				tn += c
			}
		}
	}
	return tp, fp, fn, tn
}

// FPR returns the false positive rate for a positive label, FP / (FP + TN):
// the share of truly negative items predicted positive (NaN if there are
// none).
func (m ConfusionMatrix) FPR(positive string) float64 {
	_, fp, _, tn := m.Binary(positive)
	return ratio(fp, fp+tn)
}

// FNR returns the false negative rate for a positive label, FN / (FN + TP):
// the share of truly positive items predicted negative (NaN if there are
// none).
func (m ConfusionMatrix) FNR(positive string) float64 {
	tp, _, fn, _ := m.Binary(positive)
	return ratio(fn, fn+tp)
}

// Kappa returns Cohen's kappa of the two label lists (see [CohenKappa]).
func (m ConfusionMatrix) Kappa() (float64, error) {
	n := float64(m.N())
	if n == 0 {
		return math.NaN(), ErrNoPairableValues
	}
	po, pe := 0.0, 0.0
	for i := range m.Counts {
		po += float64(m.Counts[i][i])
		row, col := 0, 0
		for j := range m.Counts {
			row += m.Counts[i][j]
			col += m.Counts[j][i]
		}
		pe += float64(row) / n * float64(col) / n
	}
	po /= n
	if pe >= 1 {
		return math.NaN(), ErrNoVariation
	}
	return (po - pe) / (1 - pe), nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}
