package sandboxreport

import (
	"errors"
	"reflect"
	"testing"

	"github.com/mores-eval/mores/judges/sandbox"
	"github.com/mores-eval/mores/reports/plot"
)

func f(x float64) *float64 { return &x }

// TestSandboxTable checks the order of the table (worlds, then rounds, the
// pooled rounds last) and its two decimals, with a dash for no value.
func TestSandboxTable(t *testing.T) {
	var rows []sandbox.SummaryRow
	for _, w := range []int32{2, 1} {
		for _, r := range []int32{0, 2, 1} {
			for _, m := range sandbox.Metrics {
				row := sandbox.SummaryRow{World: w, Model: map[int32]string{1: "a", 2: "b"}[w], Round: r, Metric: m, Mean: f(float64(w) + float64(r)/10)}
				if m == "mean_peer_rating" && r == 2 {
					row.Mean = nil
				}
				rows = append(rows, row)
			}
		}
	}
	got := SandboxTable(rows)
	want := [][]string{
		{"a", "1", "1.10", "1.10", "1.10", "1.10", "1.10"},
		{"a", "2", "1.20", "1.20", "1.20", "1.20", "–"},
		{"a", "all", "1.00", "1.00", "1.00", "1.00", "1.00"},
		{"b", "1", "2.10", "2.10", "2.10", "2.10", "2.10"},
		{"b", "2", "2.20", "2.20", "2.20", "2.20", "–"},
		{"b", "all", "2.00", "2.00", "2.00", "2.00", "2.00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := plot.SandboxRounds(nil, plot.Options{}); !errors.Is(err, plot.ErrNoData) {
		t.Errorf("no series: %v, want ErrNoData", err)
	}
}
