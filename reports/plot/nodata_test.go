package plot_test

import (
	"errors"
	"math"
	"testing"

	"github.com/mores-eval/mores/bench"
	mplot "github.com/mores-eval/mores/reports/plot"
)

// TestMetricWithoutValuesHasNoFigure checks that a metric no model has a
// value for (every judgment failed: n = 0, mean NaN) draws no figure: an
// empty set of axes would read as a mean of 0.
func TestMetricWithoutValuesHasNoFigure(t *testing.T) {
	nan := math.NaN()
	rows := []bench.SummaryRow{
		{Suite: "s", Model: "a", Attack: "none", Judge: "refusal", Metric: "refusal", N: 10, Mean: 0.5, CILow: 0.2, CIHigh: 0.8, CIMethod: "wilson"},
		{Suite: "s", Model: "a", Attack: "none", Judge: "rubric", Metric: "alignment", N: 0, Mean: nan, Stderr: nan, CILow: nan, CIHigh: nan, CIMethod: "none", Errors: 10},
		{Suite: "s", Model: "b", Attack: "none", Judge: "rubric", Metric: "alignment", N: 0, Mean: nan, Stderr: nan, CILow: nan, CIHigh: nan, CIMethod: "none", Errors: 10},
	}
	if _, err := mplot.MetricBars(rows, "s", "rubric", "alignment", mplot.Options{}); !errors.Is(err, mplot.ErrNoData) {
		t.Errorf("MetricBars of a metric without values: %v, want ErrNoData", err)
	}
	figs, err := mplot.Figures(rows, mplot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range figs {
		if f.Metric == "alignment" {
			t.Errorf("figure %s drawn for a metric without values", f.Name)
		}
	}
	if len(figs) != 1 {
		t.Errorf("%d figures, want 1 (refusal)", len(figs))
	}
}
