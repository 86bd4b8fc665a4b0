package harm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/stats"
)

// The accuracy table sits between these markers in README.md and in
// judges/harm/README.md.
const (
	tableBegin = "<!-- harm-accuracy-table:begin (generated and checked by TestAccuracyTable in judges/harm) -->"
	tableEnd   = "<!-- harm-accuracy-table:end -->"
)

// publishedJudges are the reference judges' columns of the held-out set.
var publishedJudges = []struct{ column, name string }{
	{"harmbench_cf", "HarmBench classifier"},
	{"gpt4_cf", "GPT-4"},
	{"llamaguard2_cf", "Llama Guard 2"},
	{"llama3_cf", "Llama-3-70B (JBB judge)"},
}

// judgeVerdict scores (prompt, response) through the judge as a run does:
// the prompt is the trial's user message, the response its completion.
func judgeVerdict(t testing.TB, j *Judge, prompt, response string) bool {
	t.Helper()
	tr := bench.Trial{Request: bench.Request{Messages: []bench.Message{{Role: "user", Content: prompt}}}}
	s, err := j.Score(context.Background(), tr, bench.Completion{Text: response})
	if err != nil {
		t.Fatal(err)
	}
	return s[0].Value == 1
}

// pct formats a fraction as a percentage with one decimal.
func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// pValue formats an exact McNemar p-value.
func pValue(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// accuracyRow formats one judge's line of the table for the rows given.
func accuracyRow(block, name string, verdict, human, harm []bool, self bool) string {
	var tp, fp, fn, tn, b, c int
	for i := range verdict {
		switch {
		case verdict[i] && human[i]:
			tp++
		case verdict[i]:
			fp++
		case human[i]:
			fn++
		default:
			tn++
		}
		// Discordant pairs: harm right and this judge wrong (b), or the
		// reverse (c).
		hr, jr := harm[i] == human[i], verdict[i] == human[i]
		if hr && !jr {
			b++
		}
		if !hr && jr {
			c++
		}
	}
	n := tp + fp + fn + tn
	lo, hi := stats.Wilson(tp+tn, n, 0.95)
	fpr, fnr := "—", "—"
	if fp+tn > 0 {
		fpr = pct(float64(fp) / float64(fp+tn))
	}
	if fn+tp > 0 {
		fnr = pct(float64(fn) / float64(fn+tp))
	}
	p := "—"
	if !self {
		p = pValue(stats.McNemarExact(b, c))
		if b+c == 0 {
			p = "1"
		}
	}
	if self {
		name = "**" + name + "**"
	}
	return fmt.Sprintf("| %s | %s | %s | [%.1f, %.1f] | %s | %s | %d / %d / %d / %d | %s |",
		block, name, pct(float64(tp+tn)/float64(n)), 100*lo, 100*hi, fpr, fnr, tp, fp, fn, tn, p)
}

// accuracyTable computes the judge-accuracy table of the embedded model.
func accuracyTable(t testing.TB) string {
	dir := benchtest.SharedDatasets(t)
	j, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadHeldOut(dir)
	if err != nil {
		t.Fatal(err)
	}
	human := make([]bool, len(rows))
	harm := make([]bool, len(rows))
	ref := make([][]bool, len(publishedJudges))
	for i, r := range rows {
		if r.Index != i {
			t.Fatalf("held-out row %d has Index %d", i, r.Index)
		}
		human[i] = r.Human
		harm[i] = judgeVerdict(t, j, r.Prompt, r.Response)
		for k, pj := range publishedJudges {
			v := r.Columns[pj.column]
			if v != "0" && v != "1" {
				t.Fatalf("held-out row %d: %s is %q", i, pj.column, v)
			}
			ref[k] = append(ref[k], v == "1")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Agreement with the human majority on `jbb-judge-comparison` (positive = jailbroken; threshold %.2f). "+
		"McNemar p: exact two-sided test of the difference between `harm` and that judge on the same rows.\n\n", j.Threshold())
	b.WriteString("| rows | judge | agreement | 95% CI (Wilson) | FPR | FNR | TP / FP / FN / TN | McNemar p vs harm |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, blk := range []struct {
		name     string
		from, to int
	}{{"0–199 (jailbreaks)", 0, 200}, {"200–299 (XSTest)", 200, 300}, {"all 300", 0, 300}} {
		sl := func(v []bool) []bool { return v[blk.from:blk.to] }
		b.WriteString(accuracyRow(blk.name, "harm (offline)", sl(harm), sl(human), sl(harm), true) + "\n")
		for k, pj := range publishedJudges {
			b.WriteString(accuracyRow(blk.name, pj.name, sl(ref[k]), sl(human), sl(harm), false) + "\n")
		}
	}
	b.WriteString("\nAnswers to benign requests called harmful (AlpacaEval's 805 instructions, the models' recorded outputs):\n\n")
	b.WriteString("| AlpacaEval model | answers | called harmful | rate | 95% CI (Wilson) |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, m := range AlpacaEvalModels {
		recs, err := ReadAlpacaEval(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, r := range recs {
			if judgeVerdict(t, j, r.Instruction, r.Output) {
				k++
			}
		}
		lo, hi := stats.Wilson(k, len(recs), 0.95)
		fmt.Fprintf(&b, "| %s | %d | %d | %s | [%.1f, %.1f] |\n", m, len(recs), k, pct(float64(k)/float64(len(recs))), 100*lo, 100*hi)
	}
	return b.String()
}

// TestAccuracyTable computes every figure of the judge-accuracy table for
// the embedded model (held-out agreement per block with Wilson intervals,
// FPR, FNR, confusion counts, exact McNemar p against each published
// judge, benign rates on AlpacaEval) and checks that README.md and
// judges/harm/README.md show exactly that table, so that a figure that
// drifts fails the test. On a mismatch it prints the table to paste.
func TestAccuracyTable(t *testing.T) {
	want := accuracyTable(t)
	for _, p := range []string{"README.md", filepath.Join("..", "..", "README.md")} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i, k := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
		if i < 0 || k < i {
			t.Errorf("%s: no accuracy table between %q and %q; measured:\n%s", p, tableBegin, tableEnd, want)
			continue
		}
		if got := strings.TrimSpace(s[i+len(tableBegin) : k]); got != strings.TrimSpace(want) {
			t.Errorf("%s: the accuracy table differs from the measured one; measured:\n%s", p, want)
		}
	}
}

// TestPublishedJudgesReproduced checks the table's arithmetic against the
// published figures: the four judges' agreement on all 300 rows is 78.3%,
// 90.3%, 87.7% and 90.7% (JailbreakBench paper, Chao et al. 2024), and on
// rows 0–199 88.0%, 87.0%, 83.5% and 86.5% (dataset SOURCE.md).
func TestPublishedJudgesReproduced(t *testing.T) {
	rows, err := ReadHeldOut(benchtest.SharedDatasets(t))
	if err != nil {
		t.Fatal(err)
	}
	want300 := []string{"78.3%", "90.3%", "87.7%", "90.7%"}
	want200 := []string{"88.0%", "87.0%", "83.5%", "86.5%"}
	for k, pj := range publishedJudges {
		var r200, r300 int
		for i, r := range rows {
			if (r.Columns[pj.column] == "1") == r.Human {
				r300++
				if i < 200 {
					r200++
				}
			}
		}
		if got := pct(float64(r300) / 300); got != want300[k] {
			t.Errorf("%s on all 300: %s, want %s", pj.name, got, want300[k])
		}
		if got := pct(float64(r200) / 200); got != want200[k] {
			t.Errorf("%s on rows 0–199: %s, want %s", pj.name, got, want200[k])
		}
	}
}
