package reports

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// HumanJudge is the judge name of the ratings collected by `mores serve`.
const HumanJudge = "human"

// humanMetrics are the metrics people rate, with their level of
// measurement: the two SANDBOX 1–7 scales (ordinal) and the pairwise
// verdict (nominal: win, tie or loss).
var humanMetrics = map[string]stats.Level{
	"alignment":  stats.Ordinal,
	"engagement": stats.Ordinal,
	"win":        stats.Nominal,
}

// HumanAgreementReport is how well human raters agree with each other and
// how well each other judge of a run agrees with them.
type HumanAgreementReport struct {
	// Raters is the number of distinct human raters.
	Raters int
	// Metrics holds inter-rater agreement, one entry per rated metric.
	Metrics []RaterAgreement
	// Judges holds agreement of each LLM or rule judge with the human
	// consensus, one entry per judge × metric rated by both.
	Judges []JudgeAgreement
}

// RaterAgreement is the agreement among human raters on one metric. A unit
// is one trial (for win: one pair of trials) rated on the metric.
type RaterAgreement struct {
	Metric string
	Level  stats.Level
	// Ratings, Raters and Units count the human ratings, the raters who
	// gave them and the units rated.
	Ratings, Raters, Units int
	// Pairable is the number of units rated by two or more raters, the
	// units agreement is computed on.
	Pairable int
	// Alpha is Krippendorff's alpha at Level (NaN when undefined; Note says
	// why).
	Alpha float64
	// Percent is the share of pairs of ratings of a unit that are equal.
	Percent float64
	// Note explains an undefined coefficient.
	Note string
}

// JudgeAgreement is the agreement of one judge with the human consensus
// on one metric: the mean of the raters' values for the 1–7 scales, the
// majority verdict (the sign of the mean win value) for win.
type JudgeAgreement struct {
	// Judge is the judge's name, without a pairwise ":vs=OTHER" suffix.
	Judge  string
	Metric string
	Level  stats.Level
	// Units is the number of units both the judge and a human rated.
	Units int
	// Alpha is Krippendorff's alpha with the human consensus and the judge
	// as two raters (NaN when undefined; Note says why).
	Alpha float64
	// Confusion tabulates the human consensus (truth) against the judge
	// (prediction): for the 1–7 scales binarised into "1-4" and "5-7" (a
	// mean of 4.5 or more is "5-7"), for win as "loss", "tie" and "win".
	Confusion stats.ConfusionMatrix
	// Accuracy is the share of units on the diagonal of Confusion, and
	// Kappa is Cohen's kappa of it (NaN when undefined).
	Accuracy, Kappa float64
	// Bias is the mean of the judge's value minus the human mean (NaN for
	// nominal metrics).
	Bias float64
	Note string
}

// unitKey identifies a rated unit: a trial and a metric, and for win the
// other model of the pair.
type unitKey struct {
	trial  bench.TrialKey
	metric string
	other  string
}

func (u unitKey) String() string {
	return fmt.Sprint(u.trial.Suite, "\x00", u.trial.SampleID, "\x00", u.trial.Model, "\x00", u.trial.Attack, "\x00",
		u.trial.Epoch, "\x00", u.metric, "\x00", u.other)
}

func rowTrial(r bench.ScoreRow) bench.TrialKey {
	return bench.TrialKey{Suite: r.Suite, SampleID: r.SampleID, Model: r.Model, Attack: r.Attack, Epoch: int(r.Epoch)}
}

type humanValue struct {
	rater string
	value float64
}

// HumanAgreement reads the scores of a run directory and measures the
// agreement of its human ratings (judge "human", as `mores serve --export`
// writes them): among the raters, per metric, with Krippendorff's alpha
// (ordinal for the 1–7 scales, nominal for pairwise verdicts) and percent
// agreement; and of every other judge that scored the same metric on the
// same trials with the human consensus, with alpha, a confusion matrix,
// accuracy, Cohen's kappa and the mean difference. Pairwise judges match
// human verdicts by the other model: the human label "vs=B" on a trial
// matches judge "NAME:vs=B" on that trial. A run without human scores gives
// a report with no metrics.
func HumanAgreement(dir string) (*HumanAgreementReport, error) {
	path := filepath.Join(dir, bench.ScoresFile)
	human := map[unitKey][]humanValue{}
	raters := map[string]bool{}
	err := bench.ReadParquet(path, func(r bench.ScoreRow) error {
		if r.Judge != HumanJudge || r.Value == nil || math.IsNaN(*r.Value) {
			return nil
		}
		if _, ok := humanMetrics[r.Metric]; !ok {
			return nil
		}
		u := unitKey{trial: rowTrial(r), metric: r.Metric}
		if r.Metric == "win" {
			u.other = strings.TrimPrefix(r.Label, "vs=")
		}
		human[u] = append(human[u], humanValue{rater: r.Rater, value: *r.Value})
		raters[r.Rater] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &HumanAgreementReport{Raters: len(raters)}
	if len(human) == 0 {
		return rep, nil
	}

	// The other judges' values on the human units.
	type jm struct{ judge, metric string }
	judged := map[jm]map[unitKey]float64{}
	err = bench.ReadParquet(path, func(r bench.ScoreRow) error {
		if r.Judge == HumanJudge || r.Value == nil || math.IsNaN(*r.Value) {
			return nil
		}
		if _, ok := humanMetrics[r.Metric]; !ok {
			return nil
		}
		judge, other, _ := strings.Cut(r.Judge, ":vs=")
		if r.Metric != "win" {
			judge, other = r.Judge, ""
		}
		u := unitKey{trial: rowTrial(r), metric: r.Metric, other: other}
		if _, ok := human[u]; !ok {
			return nil
		}
		k := jm{judge, r.Metric}
		if judged[k] == nil {
			judged[k] = map[unitKey]float64{}
		}
		judged[k][u] = *r.Value
		return nil
	})
	if err != nil {
		return nil, err
	}

	units := make([]unitKey, 0, len(human))
	for u := range human {
		units = append(units, u)
	}
	slices.SortFunc(units, func(a, b unitKey) int { return strings.Compare(a.String(), b.String()) })

	metrics := make([]string, 0, len(humanMetrics))
	for m := range humanMetrics {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	for _, metric := range metrics {
		level := humanMetrics[metric]
		ra := RaterAgreement{Metric: metric, Level: level}
		var rs []stats.UnitRating
		who := map[string]bool{}
		for _, u := range units {
			if u.metric != metric {
				continue
			}
			ra.Units++
			vs := human[u]
			if len(vs) >= 2 {
				ra.Pairable++
			}
			for _, v := range vs {
				rs = append(rs, stats.UnitRating{Unit: u.String(), Rater: v.rater, Value: v.value})
				who[v.rater] = true
			}
		}
		if ra.Units == 0 {
			continue
		}
		ra.Ratings, ra.Raters = len(rs), len(who)
		ra.Alpha, ra.Note = alphaNote(stats.KrippendorffAlphaRatings(rs, level))
		ra.Percent, err = stats.PercentAgreement(rs)
		if err != nil {
			ra.Percent = math.NaN()
		}
		rep.Metrics = append(rep.Metrics, ra)
	}

	keys := make([]jm, 0, len(judged))
	for k := range judged {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b jm) int { return cmp.Or(cmp.Compare(a.judge, b.judge), cmp.Compare(a.metric, b.metric)) })
	for _, k := range keys {
		level := humanMetrics[k.metric]
		ja := JudgeAgreement{Judge: k.judge, Metric: k.metric, Level: level, Bias: math.NaN()}
		var rs []stats.UnitRating
		var truth, pred []string
		diff := 0.0
		for _, u := range units {
			jv, ok := judged[k][u]
			if !ok {
				continue
			}
			ja.Units++
			hv := 0.0
			for _, v := range human[u] {
				hv += v.value
			}
			hv /= float64(len(human[u]))
			if level == stats.Nominal {
				hv = winValue(hv)
				jv = winValue(jv)
			}
			diff += jv - hv
			rs = append(rs, stats.UnitRating{Unit: u.String(), Rater: "human", Value: hv},
				stats.UnitRating{Unit: u.String(), Rater: "judge", Value: jv})
			truth = append(truth, category(k.metric, hv))
			pred = append(pred, category(k.metric, jv))
		}
		ja.Alpha, ja.Note = alphaNote(stats.KrippendorffAlphaRatings(rs, level))
		ja.Confusion = stats.Confusion(truth, pred)
		ja.Accuracy = ja.Confusion.Accuracy()
		ja.Kappa, err = ja.Confusion.Kappa()
		if err != nil {
			ja.Kappa = math.NaN()
		}
		if level != stats.Nominal {
			ja.Bias = diff / float64(ja.Units)
		}
		rep.Judges = append(rep.Judges, ja)
	}
	return rep, nil
}

// winValue rounds a mean win value to a verdict: 1, 0.5 or 0.
func winValue(v float64) float64 {
	switch {
	case v > 0.5:
		return 1
	case v < 0.5:
		return 0
	}
	return 0.5
}

// category names the value of a metric for a confusion matrix.
func category(metric string, v float64) string {
	if metric == "win" {
		switch v {
		case 1:
			return "win"
		case 0:
			return "loss"
		}
		return "tie"
	}
	if v >= 4.5 {
		return "5-7"
	}
	return "1-4"
}

// alphaNote turns an alpha result into a value and a note.
func alphaNote(a float64, err error) (float64, string) {
	switch {
	case err == nil:
		return a, ""
	case errors.Is(err, stats.ErrNoPairableValues):
		return math.NaN(), "no unit rated twice"
	case errors.Is(err, stats.ErrNoVariation):
		return math.NaN(), "all values equal"
	}
	return math.NaN(), err.Error()
}

// WriteHumanAgreement renders a report as text: the raters' agreement per
// metric, each judge's agreement with the human consensus, and the judges'
// confusion matrices.
func WriteHumanAgreement(w io.Writer, rep *HumanAgreementReport) error {
	var b strings.Builder
	plural := "s"
	if rep.Raters == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "Human agreement (%d rater%s)\n\n", rep.Raters, plural)
	if len(rep.Metrics) == 0 {
		b.WriteString("No human ratings.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("Between raters (alpha: Krippendorff's; agreement: share of equal pairs of ratings of an item)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tlevel\tratings\traters\titems\trated twice+\talpha\tagreement\t")
	for _, m := range rep.Metrics {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", m.Metric, m.Level, m.Ratings, m.Raters, m.Units, m.Pairable,
			fmtNum(m.Alpha), fmtNum(m.Percent), m.Note)
	}
	tw.Flush()
	if len(rep.Judges) > 0 {
		b.WriteString("\nJudges against the human consensus (the raters' mean; for win, their majority)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "judge\tmetric\titems\talpha\taccuracy\tkappa\tbias (judge − human)\t")
		for _, j := range rep.Judges {
			bias := "—"
			if !math.IsNaN(j.Bias) {
				bias = fmt.Sprintf("%+.3f", j.Bias)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", j.Judge, j.Metric, j.Units, fmtNum(j.Alpha), fmtNum(j.Accuracy),
				fmtNum(j.Kappa), bias, j.Note)
		}
		tw.Flush()
		for _, j := range rep.Judges {
			fmt.Fprintf(&b, "\nConfusion: %s %s (rows: humans, columns: judge)\n", j.Judge, j.Metric)
			tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprint(tw, "\t")
			for _, l := range j.Confusion.Labels {
				fmt.Fprintf(tw, "%s\t", l)
			}
			fmt.Fprintln(tw)
			for i, l := range j.Confusion.Labels {
				fmt.Fprintf(tw, "%s\t", l)
				for _, c := range j.Confusion.Counts[i] {
					fmt.Fprintf(tw, "%d\t", c)
				}
				fmt.Fprintln(tw)
			}
			tw.Flush()
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// WriteHumanAgreementSection appends the "Human agreement" section of a
// text report for the run directory dir, preceded by a blank line; it
// writes nothing when the run has no human scores.
func WriteHumanAgreementSection(w io.Writer, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, bench.ScoresFile)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	rep, err := HumanAgreement(dir)
	if err != nil {
		return err
	}
	if len(rep.Metrics) == 0 {
		return nil
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return WriteHumanAgreement(w, rep)
}
