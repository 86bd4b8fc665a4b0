package stats

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

var nan = math.NaN()

// krippendorff2011 is the worked example with missing values of
// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability"
// (also Content Analysis, 4th ed., ch. 12): 4 observers × 12 units.
var krippendorff2011 = [][]float64{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
	{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
}

// wikipediaAlpha is the computational example of the Wikipedia article
// "Krippendorff's alpha": 3 coders × 15 units.
var wikipediaAlpha = [][]float64{
	{nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3},
	{1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan},
	{nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4},
}

func TestKrippendorffAlpha(t *testing.T) {
	cases := []struct {
		name  string
		data  [][]float64
		level Level
		want  float64
		tol   float64
	}{
		// Krippendorff (2011) reports α = 0.743 nominal, 0.815 ordinal,
		// 0.849 interval and 0.797 ratio for his example; the ordinal and
		// ratio values are also asserted by the Python krippendorff package
		// (pln-fing-udelar/fast-krippendorff, tests/test_krippendorff.py).
		{"2011 nominal", krippendorff2011, Nominal, 0.743, 5e-4},
		{"2011 ordinal", krippendorff2011, Ordinal, 0.815, 5e-4},
		{"2011 interval", krippendorff2011, Interval, 0.849, 5e-4},
		{"2011 ratio", krippendorff2011, Ratio, 0.797, 5e-4},
		// The Wikipedia example: nominal 0.691358 and interval 0.810845,
		// as asserted to 6 decimals by the Python krippendorff package tests.
		{"wikipedia nominal", wikipediaAlpha, Nominal, 0.691358, 5e-7},
		{"wikipedia interval", wikipediaAlpha, Interval, 0.810845, 5e-7},
		// krippendorff package test_ratio_metric_with_zeros: 1.0.
		{"ratio zeros", [][]float64{{0, 1, 2}, {0, 1, 2}}, Ratio, 1, 1e-12},
		// krippendorff package test_perfect_agreement.
		{"perfect", [][]float64{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}, Interval, 1, 1e-12},
		// test_string_labels_nominal (pos/neg/neu coded 1/2/3): 0.722222.
		{"labels", [][]float64{{1, 2, 3, nan}, {1, 2, 3, 1}, {1, 2, 1, 1}}, Nominal, 0.722222, 5e-7},
	}
	for _, c := range cases {
		got, err := KrippendorffAlpha(c.data, c.level)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		near(t, c.name, got, c.want, c.tol)
	}
}

func TestKrippendorffOrdinalInvariance(t *testing.T) {
	// Ordinal alpha depends only on the order of the values: a monotone
	// recoding leaves it unchanged, while interval alpha changes.
	recoded := make([][]float64, len(krippendorff2011))
	for r, row := range krippendorff2011 {
		recoded[r] = make([]float64, len(row))
		for u, v := range row {
			recoded[r][u] = v * v * v
		}
	}
	a, _ := KrippendorffAlpha(krippendorff2011, Ordinal)
	b, _ := KrippendorffAlpha(recoded, Ordinal)
	near(t, "ordinal after cubing", b, a, 1e-12)
	c, _ := KrippendorffAlpha(recoded, Interval)
	if math.Abs(c-0.849) < 0.01 {
		t.Errorf("interval alpha should change under cubing, got %v", c)
	}
}

func toRatings(data [][]float64) []UnitRating {
	var rs []UnitRating
	for r, row := range data {
		for u, v := range row {
			rs = append(rs, UnitRating{Unit: fmt.Sprintf("u%02d", u), Rater: fmt.Sprintf("r%d", r), Value: v})
		}
	}
	return rs
}

func TestKrippendorffRatings(t *testing.T) {
	// The long form gives the same alpha as the matrix, whatever the
	// order of the ratings.
	rs := toRatings(krippendorff2011)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	for _, l := range []Level{Nominal, Ordinal, Interval, Ratio} {
		want, _ := KrippendorffAlpha(krippendorff2011, l)
		got, err := KrippendorffAlphaRatings(rs, l)
		if err != nil {
			t.Fatal(err)
		}
		near(t, l.String(), got, want, 1e-12)
	}
	dup := append(toRatings(krippendorff2011), UnitRating{Unit: "u00", Rater: "r0", Value: 2})
	if _, err := KrippendorffAlphaRatings(dup, Nominal); err == nil {
		t.Errorf("duplicate rating accepted")
	}
}

func TestKrippendorffErrors(t *testing.T) {
	if _, err := KrippendorffAlpha([][]float64{{1, nan}, {nan, 2}}, Nominal); !errors.Is(err, ErrNoPairableValues) {
		t.Errorf("no pairable unit: err = %v", err)
	}
	if a, err := KrippendorffAlpha([][]float64{{1, 1}, {1, 1}}, Interval); !errors.Is(err, ErrNoVariation) || !math.IsNaN(a) {
		t.Errorf("no variation: %v, %v", a, err)
	}
	if _, err := KrippendorffAlpha([][]float64{{1, 2}, {1}}, Nominal); err == nil {
		t.Errorf("ragged data accepted")
	}
	if _, err := KrippendorffAlpha([][]float64{{1, math.Inf(1)}, {1, 2}}, Interval); err == nil {
		t.Errorf("infinite value accepted")
	}
	if _, err := KrippendorffAlpha(krippendorff2011, Level(9)); err == nil {
		t.Errorf("unknown level accepted")
	}
	for _, s := range []string{"nominal", "Ordinal", "INTERVAL", "ratio"} {
		if l, err := ParseLevel(s); err != nil || !equalFold(l.String(), s) {
			t.Errorf("ParseLevel(%q) = %v, %v", s, l, err)
		}
	}
	if _, err := ParseLevel("cardinal"); err == nil {
		t.Errorf("ParseLevel accepted an unknown level")
	}
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func TestCohenKappa(t *testing.T) {
	// Reference: the Wikipedia example of Cohen's kappa: 50 grant
	// proposals, both readers yes 20, A yes B no 5, A no B yes 10, both no
	// 15; po = 0.7, pe = 0.5, κ = 0.4.
	var a, b []string
	add := func(x, y string, n int) {
		for range n {
			a = append(a, x)
			b = append(b, y)
		}
	}
	add("yes", "yes", 20)
	add("yes", "no", 5)
	add("no", "yes", 10)
	add("no", "no", 15)
	k, err := CohenKappa(a, b)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "kappa", k, 0.4, 1e-12)
	if _, err := CohenKappa([]string{"a"}, nil); err == nil {
		t.Errorf("length mismatch accepted")
	}
	if _, err := CohenKappa(nil, nil); err == nil {
		t.Errorf("empty input accepted")
	}
	if _, err := CohenKappa([]string{"x", "x"}, []string{"x", "x"}); !errors.Is(err, ErrNoVariation) {
		t.Errorf("single label: err = %v", err)
	}
}

func TestFleissKappa(t *testing.T) {
	// Reference: the worked example of the Wikipedia article "Fleiss'
	// kappa": 10 subjects, 14 raters, 5 categories; P̄ = 0.378,
	// P̄e = 0.213, κ = 0.210.
	counts := [][]int{
		{0, 0, 0, 0, 14},
		{0, 2, 6, 4, 2},
		{0, 0, 3, 5, 6},
		{0, 3, 9, 2, 0},
		{2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0},
		{3, 2, 6, 3, 0},
		{2, 5, 3, 2, 2},
		{6, 5, 2, 1, 0},
		{0, 2, 2, 3, 7},
	}
	k, err := FleissKappa(counts)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "kappa", k, 0.210, 5e-4)
	for name, bad := range map[string][][]int{
		"empty":     nil,
		"ragged":    {{1, 1}, {2}},
		"negative":  {{3, -1}, {1, 1}},
		"one rater": {{1, 0}, {0, 1}},
		"unequal":   {{1, 1}, {2, 1}},
	} {
		if _, err := FleissKappa(bad); err == nil {
			t.Errorf("%s table accepted", name)
		}
	}
	if _, err := FleissKappa([][]int{{3, 0}, {3, 0}}); !errors.Is(err, ErrNoVariation) {
		t.Errorf("one category: err = %v", err)
	}
}

func TestPercentAgreementSmall(t *testing.T) {
	rs := []UnitRating{
		{"a", "r1", 1}, {"a", "r2", 1}, {"a", "r3", 2}, // 1 agreeing pair of 3
		{"b", "r1", 5}, {"b", "r2", 5}, // full agreement
		{"c", "r1", 3}, {"c", "r2", nan}, // not pairable
	}
	got, err := PercentAgreement(rs)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "agreement", got, (1.0/3+1)/2, 1e-15)
	if _, err := PercentAgreement(rs[5:]); !errors.Is(err, ErrNoPairableValues) {
		t.Errorf("err = %v", err)
	}
}

// jbbRows reads the JailbreakBench judge-comparison table.
func jbbRows(t *testing.T) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(benchtest.SharedFile(t, "jbb-judge-comparison/judge-comparison.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 301 {
		t.Fatalf("%d records, want 301", len(all))
	}
	return all[0], all[1:]
}

func column(t *testing.T, header []string, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range header {
		if h == name {
			out := make([]string, len(rows))
			for r, row := range rows {
				out[r] = row[i]
			}
			return out
		}
	}
	t.Fatalf("no column %q", name)
	return nil
}

func TestJailbreakBenchJudges(t *testing.T) {
	// Reference: JailbreakBench (Chao et al. 2024, arXiv:2404.01318),
	// judge-comparison table, as recomputed in the dataset's SOURCE.md:
	// agreement, FPR, FNR and TP/FP/FN/TN of each judge against the human
	// majority (positive = jailbroken "1").
	header, rows := jbbRows(t)
	truth := column(t, header, rows, "human_majority")
	for _, c := range []struct {
		judge          string
		agree, fpr     float64
		fnr            float64
		tp, fp, fn, tn int
	}{
		{"harmbench_cf", 0.7833, 0.2684, 0.1273, 96, 51, 14, 139},
		{"gpt4_cf", 0.9033, 0.1000, 0.0909, 100, 19, 10, 171},
		{"llamaguard2_cf", 0.8767, 0.1316, 0.1091, 98, 25, 12, 165},
		{"llama3_cf", 0.9067, 0.1158, 0.0545, 104, 22, 6, 168},
	} {
		m := Confusion(truth, column(t, header, rows, c.judge))
		near(t, c.judge+" agreement", m.Accuracy(), c.agree, 5e-5)
		near(t, c.judge+" FPR", m.FPR("1"), c.fpr, 5e-5)
		near(t, c.judge+" FNR", m.FNR("1"), c.fnr, 5e-5)
		if tp, fp, fn, tn := m.Binary("1"); tp != c.tp || fp != c.fp || fn != c.fn || tn != c.tn {
			t.Errorf("%s: TP/FP/FN/TN = %d/%d/%d/%d, want %d/%d/%d/%d", c.judge, tp, fp, fn, tn, c.tp, c.fp, c.fn, c.tn)
		}
		if m.Count("1", "0") != c.fn || m.N() != 300 {
			t.Errorf("%s: Count or N wrong", c.judge)
		}
		// Cohen's kappa from the same four counts: po = (TP+TN)/N and
		// pe = ((TP+FN)(TP+FP) + (FP+TN)(FN+TN))/N².
		n := 300.0
		po := float64(c.tp+c.tn) / n
		pe := (float64((c.tp+c.fn)*(c.tp+c.fp)) + float64((c.fp+c.tn)*(c.fn+c.tn))) / (n * n)
		k, err := CohenKappa(truth, column(t, header, rows, c.judge))
		if err != nil {
			t.Fatal(err)
		}
		near(t, c.judge+" kappa", k, (po-pe)/(1-pe), 1e-12)
	}
}

func TestJailbreakBenchHumans(t *testing.T) {
	header, rows := jbbRows(t)
	humans := [][]string{
		column(t, header, rows, "human1"),
		column(t, header, rows, "human2"),
		column(t, header, rows, "human3"),
	}
	var rs []UnitRating
	data := make([][]float64, 3)
	counts := make([][]int, len(rows))
	for r, h := range humans {
		data[r] = make([]float64, len(rows))
		for u, v := range h {
			x := 0.0
			if v == "1" {
				x = 1
			}
			data[r][u] = x
			rs = append(rs, UnitRating{Unit: fmt.Sprint(u), Rater: fmt.Sprint("human", r+1), Value: x})
			if counts[u] == nil {
				counts[u] = make([]int, 2)
			}
			counts[u][int(x)]++
		}
	}
	// Reference: SOURCE.md of the dataset: all three humans agree on 267
	// of 300 rows. On the other 33 one of the three pairs agrees, so the
	// mean pairwise agreement is (267 + 33/3)/300.
	pa, err := PercentAgreement(rs)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "percent agreement", pa, (267+33.0/3)/300, 1e-12)
	// With no missing values, nominal alpha and Fleiss' kappa are tied by
	// α = 1 − (1 − κ)(n − 1)/n with n = 900 pairable values (from Do =
	// 1 − P̄ and De = n(1 − P̄e)/(n − 1) in Krippendorff 2011), which
	// checks the two implementations against each other on real data.
	kappa, err := FleissKappa(counts)
	if err != nil {
		t.Fatal(err)
	}
	alpha, err := KrippendorffAlpha(data, Nominal)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "alpha vs kappa", alpha, 1-(1-kappa)*899/900, 1e-12)
	if kappa < 0.7 || kappa > 0.95 {
		t.Errorf("Fleiss' kappa of the three humans = %v, want high agreement", kappa)
	}
	t.Logf("JBB humans: percent agreement %.4f, Fleiss κ %.4f, Krippendorff α %.4f", pa, kappa, alpha)
}

func BenchmarkKrippendorff(b *testing.B) {
	// 5 raters × 10,000 units of 1–7 ratings, 20% missing.
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([][]float64, 5)
	for r := range data {
		data[r] = make([]float64, 10000)
	}
	for u := range 10000 {
		truth := 1 + rng.IntN(7)
		for r := range data {
			v := float64(min(7, max(1, truth+rng.IntN(3)-1)))
			if rng.Float64() < 0.2 {
				v = math.NaN()
			}
			data[r][u] = v
		}
	}
	for _, l := range []Level{Nominal, Ordinal, Interval, Ratio} {
		b.Run(l.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := KrippendorffAlpha(data, l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
