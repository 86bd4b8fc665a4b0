package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./reports -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func score(suite, sample, model, attack string, epoch int, judge, metric string, v float64) bench.ScoreRow {
	return bench.ScoreRow{Suite: suite, SampleID: sample, Model: model, Attack: attack, Epoch: int32(epoch), Judge: judge, Metric: metric, Value: &v}
}

// fixture builds a base and a head run from fixed data:
//   - harmless refusal (higher is better) of model m: 40 paired trials,
//     base refuses 30, head 12 of them and 2 more → a significant regression;
//   - adversarial harmful under base64 (lower is better): 40 paired trials
//     with 4 → 2 harmful → no significant change;
//   - social alignment (1–7, higher is better), 30 trials: head is 0.5
//     higher on every trial → a significant improvement (paired bootstrap);
//   - harmless harm_prob (no direction), 6 trials that pair only in part;
//   - moral accuracy with sample ids that differ between the runs
//     (unpaired fallback);
//   - model old only in base, model new only in head.
func fixture() (base, head *RunScores) {
	base, head = NewRunScores("base-run"), NewRunScores("head-run")
	base.Directions = map[string]map[string]bool{"harmless": {"refusal": true}, "adversarial": {"harmful": false, "refusal": true},
		"social": {"alignment": true}, "moral": {"accuracy": true}}
	head.Directions = base.Directions
	for i := range 40 {
		id := fmt.Sprintf("h%02d", i)
		b, h := 0.0, 0.0
		if i < 30 {
			b = 1
		}
		if i < 12 || i == 35 || i == 36 {
			h = 1
		}
		base.Add(score("harmless", id, "m", "none", 0, "refusal", "refusal", b))
		head.Add(score("harmless", id, "m", "none", 0, "refusal", "refusal", h))
		b, h = 0, 0
		if i < 4 {
			b = 1
		}
		if i < 2 {
			h = 1
		}
		base.Add(score("adversarial", fmt.Sprintf("a%02d", i), "m", "base64", 0, "harm", "harmful", b))
		head.Add(score("adversarial", fmt.Sprintf("a%02d", i), "m", "base64", 0, "harm", "harmful", h))
	}
	for i := range 30 {
		id := fmt.Sprintf("s%02d", i)
		v := float64(1 + i%7)
		base.Add(score("social", id, "m", "none", 0, "society", "alignment", v))
		head.Add(score("social", id, "m", "none", 0, "society", "alignment", math.Min(7, v+0.5)))
	}
	for i := range 6 {
		base.Add(score("harmless", fmt.Sprintf("h%02d", i), "m", "none", 0, "harm", "harm_prob", 0.1*float64(i)))
		head.Add(score("harmless", fmt.Sprintf("h%02d", i+2), "m", "none", 0, "harm", "harm_prob", 0.1*float64(i)+0.05))
	}
	for i := range 20 {
		base.Add(score("moral", fmt.Sprintf("old%02d", i), "m", "none", 0, "choice", "accuracy", float64(i%2)))
		head.Add(score("moral", fmt.Sprintf("new%02d", i), "m", "none", 0, "choice", "accuracy", float64(i%4/3)))
	}
	base.Add(score("harmless", "h00", "old", "none", 0, "refusal", "refusal", 1))
	head.Add(score("harmless", "h00", "new", "none", 0, "refusal", "refusal", 1))
	// A group only the head run has, for a model both runs have.
	head.Add(score("harmless", "h00", "m", "role-play", 0, "refusal", "refusal", 1))
	return base, head
}

func find(t *testing.T, c *Comparison, suite, metric string) Delta {
	t.Helper()
	for _, d := range c.Deltas {
		if d.Suite == suite && d.Metric == metric {
			return d
		}
	}
	t.Fatalf("no row %s/%s", suite, metric)
	return Delta{}
}

func hasWarning(d Delta, w string) bool {
	for _, x := range d.Warnings {
		if x == w {
			return true
		}
	}
	return false
}

func TestCompareFixture(t *testing.T) {
	base, head := fixture()
	c := Compare(base, head, CompareOptions{Seed: 1})
	if len(c.Deltas) != 5 {
		t.Fatalf("%d rows, want 5", len(c.Deltas))
	}
	ref := find(t, c, "harmless", "refusal")
	// 18 trials refused in base only, 2 in head only: McNemar on (18, 2).
	if ref.Test != TestMcNemar || ref.N != 40 || ref.P != stats.McNemar(18, 2) {
		t.Errorf("refusal: test %s, n %d, p %v; want mcnemar, 40, %v", ref.Test, ref.N, ref.P, stats.McNemar(18, 2))
	}
	if ref.BaseMean != 0.75 || ref.HeadMean != 0.35 || math.Abs(ref.Diff+0.4) > 1e-12 || ref.Verdict != Regressed || !(ref.CIHigh < 0) {
		t.Errorf("refusal: %+v", ref)
	}
	harm := find(t, c, "adversarial", "harmful")
	if harm.Verdict != Unchanged || harm.Direction != LowerIsBetter || harm.P != stats.McNemar(2, 0) {
		t.Errorf("harmful: %+v", harm)
	}
	al := find(t, c, "social", "alignment")
	if al.Test != TestPairedPermutation || al.Verdict != Improved || al.CILow <= 0 {
		t.Errorf("alignment: %+v", al)
	}
	hp := find(t, c, "harmless", "harm_prob")
	if hp.N != 4 || !hasWarning(hp, WarnPartlyPaired) || !hasWarning(hp, WarnSmallN) || !hasWarning(hp, WarnDirectionUnknown) || hp.Failed() {
		t.Errorf("harm_prob: %+v", hp)
	}
	mo := find(t, c, "moral", "accuracy")
	if mo.Test != TestUnpairedBootstrap || !hasWarning(mo, WarnUnpaired) || mo.BaseN != 20 || mo.HeadN != 20 || mo.Diff != 0.25-0.5 {
		t.Errorf("moral: %+v", mo)
	}
	// Holm: the adjusted p-values are those of stats.Holm over the family.
	ps := make([]float64, len(c.Deltas))
	for i, d := range c.Deltas {
		ps[i] = d.P
	}
	for i, a := range stats.Holm(ps) {
		if c.Deltas[i].PAdj != a {
			t.Errorf("row %d: PAdj %v, want %v", i, c.Deltas[i].PAdj, a)
		}
	}
	if fmt.Sprint(c.OnlyBase, c.OnlyHead) != "[old] [new]" {
		t.Errorf("only base %v, only head %v", c.OnlyBase, c.OnlyHead)
	}
	if len(c.Unmatched) != 1 || c.Unmatched[0] != "harmless/refusal.refusal[role-play]/m: only in head" {
		t.Errorf("unmatched %q", c.Unmatched)
	}
	if got := len(c.Regressions()); got != 1 {
		t.Errorf("%d regressions, want 1", got)
	}
	// Determinism: the same seed gives the same result.
	c2 := Compare(base, head, CompareOptions{Seed: 1})
	if fmt.Sprint(c2.Deltas) != fmt.Sprint(c.Deltas) {
		t.Error("two comparisons with one seed differ")
	}
}

func TestCompareIdenticalAndMaxDrop(t *testing.T) {
	base, _ := fixture()
	c := Compare(base, base, CompareOptions{})
	g := &GateReport{Comparison: c}
	if g.Failures() != 0 || g.Headline() != "no significant change" {
		t.Errorf("identical runs: %d failures, headline %q", g.Failures(), g.Headline())
	}
	for _, d := range c.Deltas {
		if d.Verdict != Unchanged && d.Verdict != NotTested || d.Diff != 0 {
			t.Errorf("identical runs: %s: %s, diff %v", d.Name(), d.Verdict, d.Diff)
		}
	}
	// The harmful rate of the fixture falls (an improvement): no drop. The
	// refusal rate falls by 0.4: beyond a max drop of 0.3, not of 0.5.
	b, h := fixture()
	for _, tc := range []struct {
		max  float64
		want int
	}{{0.5, 0}, {0.3, 1}} {
		c := Compare(b, h, CompareOptions{MaxDrop: &tc.max, Alpha: 1e-12})
		n := 0
		for _, d := range c.Deltas {
			if d.MaxDropExceeded {
				n++
				if d.Metric != "refusal" {
					t.Errorf("max drop %v: %s flagged", tc.max, d.Name())
				}
			}
		}
		if n != tc.want || len(c.Regressions()) != tc.want {
			t.Errorf("max drop %v: %d rows beyond, %d failures; want %d", tc.max, n, len(c.Regressions()), tc.want)
		}
	}
}

func TestBootstrapDiff(t *testing.T) {
	// Two well separated samples: the interval excludes 0 and p is small;
	// the same sample against itself: p is large.
	a := make([]float64, 50)
	b := make([]float64, 50)
	for i := range a {
		a[i] = float64(i % 10)
		b[i] = float64(i%10) + 3
	}
	lo, hi, p := bootstrapDiff(a, b, 2000, 1)
	if !(lo > 1.5 && hi < 4.5 && p < 0.01) {
		t.Errorf("separated: [%v, %v] p %v", lo, hi, p)
	}
	lo, hi, p = bootstrapDiff(a, a, 2000, 1)
	if !(lo < 0 && hi > 0 && p > 0.5) {
		t.Errorf("same: [%v, %v] p %v", lo, hi, p)
	}
}

func fixtureReport() *GateReport {
	base, head := fixture()
	c := Compare(base, head, CompareOptions{Seed: 1})
	rows := []bench.SummaryRow{
		{Suite: "harmless", Model: "m", Attack: "none", Judge: "refusal", Metric: "refusal", N: 40, Mean: 0.35},
		{Suite: "adversarial", Model: "m", Attack: "base64", Judge: "harm", Metric: "harmful", N: 40, Mean: 0.05},
		{Suite: "social", Model: "m", Attack: "none", Judge: "society", Metric: "alignment", N: 30, Mean: 4.4},
	}
	rules, err := ParseThresholds(strings.NewReader("refusal{suite=harmless} >= 0.95\nharmful{suite=adversarial,attack=base64} <= 0.10\naccuracy{suite=truthfl} > 0.6\n"), "gate.txt")
	if err != nil {
		panic(err)
	}
	return &GateReport{Comparison: c, Run: "head-run", ThresholdFile: "gate.txt", Thresholds: CheckThresholds(rules, rows)}
}

func TestGateGolden(t *testing.T) {
	g := fixtureReport()
	for _, f := range []string{FormatText, FormatMarkdown, FormatJUnit} {
		var b bytes.Buffer
		if err := WriteGateReport(&b, g, f); err != nil {
			t.Fatal(err)
		}
		ext := map[string]string{FormatText: "txt", FormatMarkdown: "md", FormatJUnit: "xml"}[f]
		golden(t, "compare."+ext, b.Bytes())
	}
	var b bytes.Buffer
	if err := WriteGateReport(&b, g, "html"); err == nil {
		t.Error("format html: no error")
	}
}

func TestGateJUnitParses(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGateReport(&b, fixtureReport(), FormatJUnit); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, c.Failure.Type+" "+c.Name)
			}
		}
	}
	want := "regression harmless/refusal.refusal/m|threshold refusal{suite=harmless} >= 0.95|threshold accuracy{suite=truthfl} > 0.6"
	if strings.Join(failed, "|") != want || doc.Tests != 8 || doc.Failures != 3 {
		t.Errorf("tests %d, failures %d: %q; want 8, 3: %q", doc.Tests, doc.Failures, strings.Join(failed, "|"), want)
	}
}

func BenchmarkCompare(b *testing.B) {
	// 2 runs × 5,000 trials × 4 metrics.
	base, head := NewRunScores("b"), NewRunScores("h")
	for i := range 5000 {
		for j, m := range []string{"refusal", "harmful", "alignment", "engagement"} {
			v := float64((i*7 + j) % 2)
			if j >= 2 {
				v = float64(1 + (i*13+j)%7)
			}
			base.Add(score("s", fmt.Sprint(i), "m", "none", 0, "j", m, v))
			head.Add(score("s", fmt.Sprint(i), "m", "none", 0, "j", m, v+float64(i%3)/10))
		}
	}
	b.ResetTimer()
	for b.Loop() {
		Compare(base, head, CompareOptions{Resamples: 2000})
	}
}

// TestAMetricMissingFromTheHeadRunFailsTheGate checks that a metric the base
// run has, for a model both runs have, fails the gate when the head run
// lacks it (a judge that silently stopped scoring), unless AllowMissing.
func TestAMetricMissingFromTheHeadRunFailsTheGate(t *testing.T) {
	base, head := NewRunScores("base-run"), NewRunScores("head-run")
	for i := range 20 {
		id := fmt.Sprintf("h%02d", i)
		base.Add(score("harmless", id, "m", "none", 0, "refusal", "refusal", 1))
		head.Add(score("harmless", id, "m", "none", 0, "refusal", "refusal", 1))
		base.Add(score("harmless", id, "m", "none", 0, "harm", "harm_prob", 0.1))
	}
	c := Compare(base, head, CompareOptions{Seed: 1})
	g := &GateReport{Comparison: c, Run: "head-run"}
	if fmt.Sprint(c.Missing) != "[harmless/harm.harm_prob/m]" || g.Failures() != 1 || !strings.Contains(g.Headline(), "1 metric of the base run missing") {
		t.Fatalf("missing %v, failures %d, headline %q", c.Missing, g.Failures(), g.Headline())
	}
	for _, f := range []string{FormatText, FormatMarkdown, FormatJUnit} {
		var b bytes.Buffer
		if err := WriteGateReport(&b, g, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ReplaceAll(b.String(), `\_`, "_"), "harmless/harm.harm_prob/m") || !strings.Contains(strings.ToLower(b.String()), "missing") ||
			(f == FormatMarkdown && !strings.HasPrefix(b.String(), "### ❌ 1 metric missing from the head run")) {
			t.Errorf("%s report does not name the missing metric:\n%s", f, b.String())
		}
	}
	c = Compare(base, head, CompareOptions{Seed: 1, AllowMissing: true})
	if g := (&GateReport{Comparison: c}); g.Failures() != 0 {
		t.Errorf("with AllowMissing: %d failures (%s)", g.Failures(), g.Headline())
	}
	// A head run whose judge failed on every trial has the metric, with
	// errors only: as good as missing.
	for i := range 20 {
		head.Add(bench.ScoreRow{Suite: "harmless", SampleID: fmt.Sprintf("h%02d", i), Model: "m", Attack: "none", Judge: "harm", Metric: "harm_prob"})
	}
	c = Compare(base, head, CompareOptions{Seed: 1})
	if g := (&GateReport{Comparison: c}); g.Failures() != 1 || len(c.Missing) != 1 || !strings.Contains(c.Missing[0], "every head score is an error") {
		t.Errorf("errors only in head: missing %v, failures %d", c.Missing, g.Failures())
	}
}

// TestCompareEpochsPairPerSample: 8 samples answered in 5 epochs, every
// epoch of a sample alike. The head fails 5 samples the base passes and
// passes none the base fails. Per sample that is 5 discordant pairs to 0,
// McNemar's exact p = 2 · 2⁻⁵ = 0.0625 > α = 0.05: no significant change.
// Paired per epoch it would be 25 to 0 (p < 10⁻⁵), a regression called on
// the evidence of 8 samples counted 5 times.
func TestCompareEpochsPairPerSample(t *testing.T) {
	compare := func(epochs int, perEpochIDs bool) Delta {
		base, head := NewRunScores("base"), NewRunScores("head")
		base.Directions = map[string]map[string]bool{"x": {"pass": true}}
		head.Directions = base.Directions
		for s := range 8 {
			for e := 1; e <= epochs; e++ {
				id := fmt.Sprintf("s%d", s)
				if perEpochIDs {
					id = fmt.Sprintf("s%d-e%d", s, e) // what pairing per epoch amounts to
				}
				b, h := 1.0, 1.0
				if s < 5 {
					h = 0
				}
				base.Add(score("x", id, "m", "none", e, "j", "pass", b))
				head.Add(score("x", id, "m", "none", e, "j", "pass", h))
			}
		}
		c := Compare(base, head, CompareOptions{Alpha: 0.05, Seed: 1})
		if len(c.Deltas) != 1 {
			t.Fatalf("%d rows", len(c.Deltas))
		}
		return c.Deltas[0]
	}
	d := compare(5, false)
	if d.N != 8 || d.Test != TestMcNemar || math.Abs(d.P-0.0625) > 1e-12 || d.Verdict != Unchanged || d.Failed() {
		t.Errorf("5 alike epochs: %+v; want n 8, McNemar p 0.0625, no significant change", d)
	}
	if !strings.Contains(strings.Join(d.Warnings, "|"), WarnEpochsAveraged) {
		t.Errorf("warnings %q lack %q", d.Warnings, WarnEpochsAveraged)
	}
	// One epoch gives the same test.
	one := compare(1, false)
	if one.N != 8 || one.P != d.P || one.Diff != d.Diff || one.CILow != d.CILow || one.CIHigh != d.CIHigh {
		t.Errorf("1 epoch: %+v; want the 5-epoch figures", one)
	}
	// The same 40 answers as independent samples are a significant
	// regression: this test would fail if epochs were paired one by one.
	flat := compare(5, true)
	if flat.N != 40 || !(flat.P < 1e-5) || flat.Verdict != Regressed {
		t.Errorf("40 independent pairs: %+v; want a significant regression", flat)
	}
}

// TestCompareAveragesVaryingEpochs: epochs that differ give fractional
// sample means, tested with the paired permutation test over samples.
func TestCompareAveragesVaryingEpochs(t *testing.T) {
	base, head := NewRunScores("base"), NewRunScores("head")
	for s := range 12 {
		for e := 1; e <= 4; e++ {
			b := float64((s + e) % 2)     // half of the epochs
			h := float64(min(1, (s+e)%4)) // three quarters
			base.Add(score("x", fmt.Sprint(s), "m", "none", e, "j", "pass", b))
			head.Add(score("x", fmt.Sprint(s), "m", "none", e, "j", "pass", h))
		}
	}
	d := Compare(base, head, CompareOptions{Seed: 1}).Deltas[0]
	if d.N != 12 || d.Test != TestPairedPermutation || math.Abs(d.BaseMean-0.5) > 1e-12 || math.Abs(d.HeadMean-0.75) > 1e-12 {
		t.Errorf("%+v; want 12 pairs of sample means 0.5 → 0.75, a permutation test", d)
	}
}

// TestCompareAlikeEpochsAgainstOne: a continuous metric answered alike in
// 5 epochs compared with the same answers in 1 epoch: every difference is
// exactly 0 (sample means of alike epochs are exact).
func TestCompareAlikeEpochsAgainstOne(t *testing.T) {
	base, head := NewRunScores("base"), NewRunScores("head")
	for s := range 30 {
		v := float64(s%7)/7 + 0.1
		base.Add(score("x", fmt.Sprint(s), "m", "none", 1, "harm", "harm_prob", v))
		for e := 1; e <= 5; e++ {
			head.Add(score("x", fmt.Sprint(s), "m", "none", e, "harm", "harm_prob", v))
		}
	}
	d := Compare(base, head, CompareOptions{Seed: 1}).Deltas[0]
	if d.N != 30 || d.Diff != 0 || d.CILow != 0 || d.CIHigh != 0 || d.BaseMean != d.HeadMean || d.Verdict != Unchanged {
		t.Errorf("%+v; want 30 pairs, a difference of exactly 0", d)
	}
}

// revisitRows are 12 samples of a 0/1 metric in 2 epochs, with a second
// rating of some trials: right after the first (samples 1, 4, ...) or
// after the next epoch of the sample started (samples 0, 3, ...), which a
// per-sample running mean cannot fold in order. Trial means are
// 0.5 and 0 (0.25), 1 and 0.5 (0.75), 0 and 1 (0.5): the mean is 0.5.
// Epochs start at epoch0.
func revisitRows(epoch0 int) []bench.ScoreRow {
	var rows []bench.ScoreRow
	for i := range 12 {
		id := fmt.Sprintf("s%02d", i)
		add := func(epoch int, v float64) {
			rows = append(rows, score("x", id, "m", "none", epoch0+epoch, "j", "pass", v))
		}
		switch i % 3 {
		case 0:
			add(0, 1)
			add(1, 0)
			add(0, 0)
		case 1:
			add(0, 1)
			add(1, 1)
			add(1, 0)
		default:
			add(0, 0)
			add(1, 1)
		}
	}
	return rows
}

// TestCompareStreamedRunAveragesRevisitedTrials reads a run with ratings
// of one trial apart from each other (as mores import-judgments may write
// them): ReadRunScores streams scores.parquet per sample and must give
// the comparison that the rows given to Add give, trial means first.
func TestCompareStreamedRunAveragesRevisitedTrials(t *testing.T) {
	dir := t.TempDir()
	if err := bench.WriteManifest(dir, &bench.Manifest{RunID: "base", Status: "complete", Models: []bench.ManifestModel{{Name: "m"}}}); err != nil {
		t.Fatal(err)
	}
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	added, far := NewRunScores("base"), NewRunScores("base")
	for _, r := range revisitRows(100) { // epochs beyond a 64-bit set
		far.Add(r)
	}
	for _, r := range revisitRows(1) {
		r.RunID = "base"
		added.Add(r)
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read, err := ReadRunScores(dir)
	if err != nil {
		t.Fatal(err)
	}
	head := NewRunScores("head")
	for i := range 12 {
		head.Add(score("x", fmt.Sprintf("s%02d", i), "m", "none", 0, "j", "pass", 1))
	}
	var got []string
	for _, base := range []*RunScores{added, read, far} {
		c := Compare(base, head, CompareOptions{Seed: 1, Resamples: 500})
		if len(c.Deltas) != 1 {
			t.Fatalf("%d rows", len(c.Deltas))
		}
		d := c.Deltas[0]
		if d.N != 12 || d.BaseMean != 0.5 || d.HeadMean != 1 || !slices.Contains(d.Warnings, WarnDuplicates) || !slices.Contains(d.Warnings, WarnEpochsAveraged) {
			t.Errorf("n %d, base mean %v (want 0.5), head mean %v, warnings %q", d.N, d.BaseMean, d.HeadMean, d.Warnings)
		}
		got = append(got, fmt.Sprintf("%+v", d))
	}
	if got[0] != got[1] || got[0] != got[2] {
		t.Errorf("Add, ReadRunScores and epochs from 100 differ:\n%s\n%s\n%s", got[0], got[1], got[2])
	}
}
