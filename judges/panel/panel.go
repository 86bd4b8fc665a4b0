// Package panel holds the panel judge: several judges (or one judge over
// several judge models) score the same trial, and the panel reports their
// aggregate, their spread, and each member's own scores.
//
// For one trial, the panel runs its members concurrently and then, for every
// metric any member reported (in the order members reported them), emits:
//
//   - the aggregate, under the metric's own name and the judge name "panel":
//     the mean of the members' values, or with "majority" the value most
//     members gave (the mean of the tied values when several values are
//     equally common, so a 1–0 split of a binary metric gives 0.5);
//   - "<metric>_spread": with "mean", the population standard deviation of
//     the members' values; with "majority", the share of members that
//     disagree with the majority value (0 when unanimous);
//   - every member's score for the metric, under the judge name
//     "panel/<member name>", so that the report can compute the members'
//     agreement across trials (Krippendorff's alpha; see Agreement).
//
// A member whose score for a metric carries an error (or that failed as a
// whole) is left out of the aggregate and recorded with its error; when no
// member could score a metric, the aggregate carries an error too.
package panel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/mores-eval/mores/bench"
)

// Aggregation names how member values are combined.
const (
	Mean     = "mean"
	Majority = "majority"
)

// Panel is a judge made of member judges. It is safe for concurrent use when
// its members are.
type Panel struct {
	members []bench.Judge
	agg     string
}

// versioned is implemented by judges that report the version of their prompt.
type versioned interface{ Version() string }

// New returns a panel of members aggregated by agg ("mean" or "majority";
// empty means "mean"). Members must have distinct, non-empty names.
func New(members []bench.Judge, agg string) (*Panel, error) {
	if agg == "" {
		agg = Mean
	}
	if agg != Mean && agg != Majority {
		return nil, fmt.Errorf("panel: unknown aggregation %q (want %q or %q)", agg, Mean, Majority)
	}
	if len(members) == 0 {
		return nil, errors.New("panel: no member judges")
	}
	seen := map[string]bool{}
	for _, m := range members {
		if m == nil {
			return nil, errors.New("panel: a member judge is nil")
		}
		n := m.Name()
		if n == "" || seen[n] {
			return nil, fmt.Errorf("panel: member judge names must be distinct and non-empty; %q is not", n)
		}
		seen[n] = true
	}
	return &Panel{members: append([]bench.Judge(nil), members...), agg: agg}, nil
}

// Name returns "panel".
func (p *Panel) Name() string { return "panel" }

// Version lists the aggregation and the members' versions (or names, for
// members without one).
func (p *Panel) Version() string {
	parts := make([]string, len(p.members))
	for i, m := range p.members {
		parts[i] = m.Name()
		if v, ok := m.(versioned); ok {
			parts[i] = v.Version()
		}
	}
	return "panel@v1[" + p.agg + "](" + strings.Join(parts, ",") + ")"
}

// Score runs the members on the trial concurrently and aggregates their
// scores. It returns an error only when the context is done or every member
// failed as a whole.
func (p *Panel) Score(ctx context.Context, t bench.Trial, c bench.Completion) ([]bench.Score, error) {
	results := make([][]bench.Score, len(p.members))
	errs := make([]error, len(p.members))
	var wg sync.WaitGroup
	for i, m := range p.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = m.Score(ctx, t, c)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed == len(p.members) {
		return nil, fmt.Errorf("panel: every member failed: %w", errors.Join(errs...))
	}

	// The metrics, in the order members reported them.
	var metrics []string
	known := map[string]bool{}
	for _, rs := range results {
		for _, s := range rs {
			if !known[s.Metric] {
				known[s.Metric] = true
				metrics = append(metrics, s.Metric)
			}
		}
	}
	var out []bench.Score
	for _, metric := range metrics {
		var (
			vals    []float64
			labels  []string
			parts   []string
			members []bench.Score
		)
		for i, m := range p.members {
			name := "panel/" + m.Name()
			if errs[i] != nil {
				members = append(members, bench.Score{Judge: name, Metric: metric, Error: errs[i].Error()})
				parts = append(parts, m.Name()+"=error")
				continue
			}
			for _, s := range results[i] {
				if s.Metric != metric {
					continue
				}
				s.Judge = name
				members = append(members, s)
				if s.Error != "" {
					parts = append(parts, m.Name()+"=error")
					continue
				}
				vals = append(vals, s.Value)
				labels = append(labels, s.Label)
				parts = append(parts, fmt.Sprintf("%s=%g", m.Name(), s.Value))
			}
		}
		agg := bench.Score{Judge: "panel", Metric: metric, Version: p.Version()}
		spread := bench.Score{Judge: "panel", Metric: metric + "_spread", Version: p.Version()}
		if len(vals) == 0 {
			agg.Error = "panel: no member could score " + metric
			spread.Error = agg.Error
		} else {
			if p.agg == Majority {
				agg.Value, agg.Label, spread.Value = majority(vals, labels)
			} else {
				agg.Value, spread.Value = meanSD(vals)
			}
			agg.Explanation = fmt.Sprintf("%s of %d of %d members: %s", p.agg, len(vals), len(p.members), strings.Join(parts, ", "))
			spread.Explanation = agg.Explanation
		}
		out = append(out, agg, spread)
		out = append(out, members...)
	}
	return out, nil
}

// meanSD returns the mean and the population standard deviation of xs.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}

// majority returns the most common value (the mean of the tied values when
// several are equally common), the label shared by every score with that
// value (or ""), and the share of values that differ from the majority.
func majority(vals []float64, labels []string) (value float64, label string, dissent float64) {
	counts := map[float64]int{}
	best := 0
	for _, v := range vals {
		counts[v]++
		best = max(best, counts[v])
	}
	var tied []float64
	for _, v := range vals {
		if counts[v] == best && !contains(tied, v) {
			tied = append(tied, v)
		}
	}
	value, _ = meanSD(tied)
	if len(tied) == 1 {
		first := true
		for i, v := range vals {
			switch {
			case v != value:
			case first:
				label, first = labels[i], false
			case labels[i] != label:
				label = ""
			}
		}
	}
	agreeing := 0
	for _, v := range vals {
		if v == value {
			agreeing++
		}
	}
	return value, label, 1 - float64(agreeing)/float64(len(vals))
}

func contains(xs []float64, x float64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
