package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// PanelAgreement is the agreement of a panel's members on one metric of one
// suite: Krippendorff's alpha over the trials, with the members as raters.
type PanelAgreement struct {
	Suite, Metric string
	Members       []string
	Units         int // trials rated by at least two members
	Level         stats.Level
	Alpha         float64
	Err           string // why alpha is undefined, when it is
}

// PanelAgreements reads the member scores of panel judges (judge names
// "panel/MEMBER") from a run's scores.parquet and computes, per suite and
// metric, Krippendorff's alpha across the members: nominal for 0/1
// metrics, interval otherwise.
func PanelAgreements(dir string) ([]PanelAgreement, error) {
	type key struct{ suite, metric string }
	ratings := map[key][]stats.UnitRating{}
	members := map[key]map[string]bool{}
	err := bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		member, ok := strings.CutPrefix(r.Judge, "panel/")
		if !ok || r.Value == nil {
			return nil
		}
		k := key{r.Suite, r.Metric}
		unit := fmt.Sprint(r.SampleID, "\x00", r.Model, "\x00", r.Attack, "\x00", r.Epoch)
		ratings[k] = append(ratings[k], stats.UnitRating{Unit: unit, Rater: member, Value: *r.Value})
		if members[k] == nil {
			members[k] = map[string]bool{}
		}
		members[k][member] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []PanelAgreement
	for k, rs := range ratings {
		pa := PanelAgreement{Suite: k.suite, Metric: k.metric, Level: stats.Interval}
		for m := range members[k] {
			pa.Members = append(pa.Members, m)
		}
		sort.Strings(pa.Members)
		vals := make([]float64, len(rs))
		perUnit := map[string]int{}
		for i, r := range rs {
			vals[i] = r.Value
			perUnit[r.Unit]++
		}
		if binary(vals) {
			pa.Level = stats.Nominal
		}
		for _, n := range perUnit {
			if n >= 2 {
				pa.Units++
			}
		}
		a, err := stats.KrippendorffAlphaRatings(rs, pa.Level)
		pa.Alpha = a
		if err != nil {
			pa.Err = err.Error()
		}
		out = append(out, pa)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Suite != out[j].Suite {
			return out[i].Suite < out[j].Suite
		}
		return out[i].Metric < out[j].Metric
	})
	return out, nil
}

// WritePanelAgreementSection appends a "Panel agreement" table to a text
// report when the run has panel member scores; otherwise it writes nothing.
func WritePanelAgreementSection(w io.Writer, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, bench.ScoresFile)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pas, err := PanelAgreements(dir)
	if err != nil || len(pas) == 0 {
		return err
	}
	fmt.Fprintln(w, "\nPanel agreement (Krippendorff's alpha across the members of each panel)")
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleLight)
	t.AppendHeader(table.Row{"suite", "metric", "members", "trials", "level", "alpha"})
	for _, pa := range pas {
		alpha := fmtNum(pa.Alpha)
		if pa.Err != "" {
			alpha = "— (" + pa.Err + ")"
		}
		t.AppendRow(table.Row{pa.Suite, pa.Metric, strings.Join(pa.Members, ", "), pa.Units, pa.Level.String(), alpha})
	}
	t.Render()
	return nil
}
