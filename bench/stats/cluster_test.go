package stats

import (
	"math"
	"testing"
)

func TestClusterStderrKnownValues(t *testing.T) {
	// Clusters {1,1}, {0,0}, {1,0}: N 6, mean 0.5, residual sums 1, −1, 0,
	// so SE = sqrt(3/2 · 2) / 6 = √3/6.
	if got, want := ClusterStderr([]float64{2, 0, 1}, []float64{2, 2, 2}), math.Sqrt(3)/6; math.Abs(got-want) > 1e-12 {
		t.Errorf("ClusterStderr = %v, want %v", got, want)
	}
	// One value per cluster: the usual standard error s/√n.
	xs := []float64{3, 7, 7, 19, 4, 2, 11}
	ones := make([]float64, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	if got, want := ClusterStderr(xs, ones), Summarize(xs).Stderr; math.Abs(got-want) > 1e-12 {
		t.Errorf("singletons: %v, want the usual %v", got, want)
	}
	if !math.IsNaN(ClusterStderr([]float64{1}, []float64{1})) {
		t.Error("one cluster: want NaN")
	}
}

func TestClusterBootstrapWidensForRepeatedRatings(t *testing.T) {
	// 60 items rated 1–7, each by three raters who agree: the information
	// is that of 60 values, not 180.
	var items, all, sums, sizes []float64
	for i := range 60 {
		v := float64(1 + (i*5)%7)
		items = append(items, v)
		all = append(all, v, v, v)
		sums = append(sums, 3*v)
		sizes = append(sizes, 3)
	}
	clo, chi := ClusterBootstrapMeanCI(sums, sizes, 0.95, 4000, 1)
	ilo, ihi := BootstrapMeanCI(items, 0.95, 4000, 1)
	nlo, nhi := BootstrapMeanCI(all, 0.95, 4000, 1)
	cw, iw, nw := chi-clo, ihi-ilo, nhi-nlo
	if math.Abs(cw/iw-1) > 0.1 {
		t.Errorf("cluster width %.3f, items width %.3f: want about equal", cw, iw)
	}
	if r := cw / nw; r < 1.5 || r > 2.0 {
		t.Errorf("cluster width / naive width = %.2f, want about √3", r)
	}
	if lo2, hi2 := ClusterBootstrapMeanCI(sums, sizes, 0.95, 4000, 1); lo2 != clo || hi2 != chi {
		t.Error("not deterministic for a seed")
	}
	if lo, _ := ClusterBootstrapMeanCI(sums, []float64{0}, 0.95, 100, 1); !math.IsNaN(lo) {
		t.Error("mismatched input: want NaN")
	}
}
