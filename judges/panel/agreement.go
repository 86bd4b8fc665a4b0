package panel

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// MetricAgreement is the agreement of a panel's members on one metric.
type MetricAgreement struct {
	Metric string
	// Alpha is Krippendorff's alpha (NaN when Err is set).
	Alpha float64
	// Units is the number of trials with scores from two or more members;
	// Raters the number of distinct members.
	Units, Raters int
	// Err says why alpha is undefined (for example stats.ErrNoVariation).
	Err error
}

// Agreement computes, for every metric, Krippendorff's alpha among a panel's
// members across trials. trials[i] holds the scores the panel emitted for
// trial i (other judges' scores may be mixed in; only the member scores,
// judge "panel/<member>", without error, are used). The result is sorted by
// metric.
func Agreement(trials [][]bench.Score, level stats.Level) []MetricAgreement {
	ratings := map[string][]stats.UnitRating{}
	raters := map[string]map[string]bool{}
	units := map[string]map[int]map[string]bool{}
	for i, scores := range trials {
		for _, s := range scores {
			member, ok := strings.CutPrefix(s.Judge, "panel/")
			if !ok || s.Error != "" || math.IsNaN(s.Value) {
				continue
			}
			if units[s.Metric] == nil {
				units[s.Metric] = map[int]map[string]bool{}
				raters[s.Metric] = map[string]bool{}
			}
			if units[s.Metric][i] == nil {
				units[s.Metric][i] = map[string]bool{}
			}
			if units[s.Metric][i][member] {
				continue // a member rates a trial once
			}
			units[s.Metric][i][member] = true
			raters[s.Metric][member] = true
			ratings[s.Metric] = append(ratings[s.Metric], stats.UnitRating{Unit: strconv.Itoa(i), Rater: member, Value: s.Value})
		}
	}
	var out []MetricAgreement
	for metric, rs := range ratings {
		a := MetricAgreement{Metric: metric, Raters: len(raters[metric])}
		for _, members := range units[metric] {
			if len(members) >= 2 {
				a.Units++
			}
		}
		a.Alpha, a.Err = stats.KrippendorffAlphaRatings(rs, level)
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out
}
