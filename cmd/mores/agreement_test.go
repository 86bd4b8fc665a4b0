package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgreementJailbreakBenchHumans converts the three human label columns
// of the JailbreakBench judge comparison (300 rows) to a long CSV.
func TestAgreementJailbreakBenchHumans(t *testing.T) {
	f, err := os.Open(benchtest.SharedFile(t, "jbb-judge-comparison/judge-comparison.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var b strings.Builder
	b.WriteString("unit,rater,value,extra\n")
	for _, r := range recs[1:] {
		for _, h := range []string{"human1", "human2", "human3"} {
			b.WriteString(r[col["Index"]] + "," + h + "," + r[col[h]] + ",ignored\n")
		}
	}
	if len(recs) != 301 {
		t.Fatalf("%d rows, want 300", len(recs)-1)
	}
	p := writeFile(t, "jbb.csv", b.String())
	c := newCLI(t)
	out := c.mustRun("agreement", p)
	for _, s := range []string{
		"300 units, 3 raters, 900 ratings; 900 pairable values in 300 units",
		"Krippendorff's alpha (nominal)  0.8408",
		"Fleiss' kappa (nominal)         0.8406",
		"percent agreement               0.9267",
		"human1 – human2  ", "human1 – human3  ", "human2 – human3  ",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	t.Logf("\n%s", out)
}

func TestAgreementTinyHandChecked(t *testing.T) {
	c := newCLI(t)
	// Two raters, four units, agreeing on three. Coincidences: a–a 2,
	// a–b 1, b–a 1, b–b 4; n_a = 3, n_b = 5, n = 8. Krippendorff's alpha
	// = 1 − 7·2/(2·3·5) = 8/15; Fleiss: P̄ = 3/4, Pe = (3/8)² + (5/8)² =
	// 34/64, κ = (3/4 − 34/64)/(1 − 34/64) = 7/15; Cohen: po = 3/4,
	// pe = 1/2·1/4 + 1/2·3/4 = 1/2, κ = 1/2.
	p := writeFile(t, "tiny.csv", "Value,Unit,Rater,note\na,u1,r1,x\na,u1,r2,\na,u2,r1,\nb,u2,r2,\nb,u3,r1,\nb,u3,r2,\nb,u4,r1,\nb,u4,r2,\n")
	want := p + `: 4 units, 2 raters, 8 ratings; 8 pairable values in 4 units with two or more ratings
Krippendorff's alpha (nominal)  0.5333
Fleiss' kappa (nominal)         0.4667
percent agreement               0.7500
Cohen's kappa (nominal), per pair of raters on the units both rated:
  r1 – r2  0.5000  4 units
`
	if out := c.mustRun("agreement", p); out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// A third rater and missing values: units with one rating do not pair,
	// and Fleiss' kappa does not apply. Alpha: u3 has b,b,b (3 pairs of
	// weight 1/2 each way), so n_a = 3, n_b = 6, n = 9 and alpha =
	// 1 − 8·2/(2·3·6) = 5/9.
	p2 := writeFile(t, "tiny2.csv", "unit,rater,value\nu1,r1,a\nu1,r2,a\nu2,r1,a\nu2,r2,b\nu3,r1,b\nu3,r2,b\nu3,r3,b\nu4,r1,b\nu4,r2,b\nu5,r3,\nu6,r3,a\n")
	out := c.mustRun("agreement", p2)
	for _, s := range []string{"6 units, 3 raters, 10 ratings; 9 pairable values in 4 units", "alpha (nominal)  0.5556",
		"not computed: units have 1 to 3 ratings", "r1 – r3  —       1 unit  (undefined"} {
		if !strings.Contains(out, s) {
			t.Errorf("tiny2 lacks %q:\n%s", s, out)
		}
	}
	// Interval level on 1–5 ratings: 1 and 1.0 are the same value.
	p3 := writeFile(t, "num.csv", "unit,rater,value\n1,a,1\n1,b,1.0\n2,a,5\n2,b,4\n3,a,3\n3,b,3\n")
	if out := c.mustRun("agreement", p3, "--level", "interval"); !strings.Contains(out, "alpha (interval)") || !strings.Contains(out, "percent agreement               0.6667") {
		t.Errorf("interval:\n%s", out)
	}
}

func TestAgreementErrors(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		name, content string
		args          []string
		want          string
	}{
		{"nocol.csv", "unit,judge,value\nu1,a,1\n", nil, "nocol.csv:1: rater: missing column (the header needs unit, rater and value)"},
		{"quote.csv", "unit,rater,value\nu1,a,1\nu2,\"b,2\n", nil, "quote.csv:3: extraneous or missing \" in quoted-field"},
		{"fields.csv", "unit,rater,value\nu1,a,1\nu2,b\n", nil, "fields.csv:3: wrong number of fields"},
		{"dup.csv", "unit,rater,value\nu1,a,1\nu1,b,1\nu1,a,2\n", nil, `dup.csv:4: rater "a" rated unit "u1" twice (first at line 2)`},
		{"empty.csv", "unit,rater,value\n,a,1\n", nil, "empty.csv:2: unit: empty"},
		{"text.csv", "unit,rater,value\nu1,a,1\nu1,b,high\n", []string{"--level", "ordinal"}, `text.csv:3: value: "high" is not a number (the ordinal level needs numbers; use --level nominal for categories)`},
		{"alone.csv", "unit,rater,value\nu1,a,1\nu2,b,1\n", nil, "alone.csv: no unit has ratings from two raters, so agreement cannot be measured"},
		{"nothing.csv", "", nil, "nothing.csv:1: empty file"},
	} {
		p := writeFile(t, tc.name, tc.content)
		_, stderr, code := c.run(append([]string{"agreement", p}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, filepath.Dir(p)+"/"+tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, stderr, tc.want)
		}
	}
	if _, _, code := c.run("agreement", "x.csv", "--level", "cardinal"); code != 2 {
		t.Errorf("bad level: exit %d", code)
	}
	if _, stderr, code := c.run("agreement", filepath.Join(t.TempDir(), "missing.csv")); code != 2 || !strings.Contains(stderr, "missing.csv: cannot read: no such file") {
		t.Errorf("missing file: exit %d %s", code, stderr)
	}
}
