package human

import (
	"fmt"
	"go/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
)

func readScores(t *testing.T, dir string) []bench.ScoreRow {
	t.Helper()
	var rows []bench.ScoreRow
	if err := bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func humanRows(rows []bench.ScoreRow) []bench.ScoreRow {
	var out []bench.ScoreRow
	for _, r := range rows {
		if r.Judge == JudgeName {
			out = append(out, r)
		}
	}
	return out
}

func TestExportIsIdempotentAndSurvivesRebuilds(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 5, failEvery: 4})
	ts := startServer(t, Options{Dir: dir, Raters: []string{"ann", "bob"}, Overlap: 2})
	given := map[string][2]int{} // rater/item → alignment, engagement
	for i, r := range []string{"ann", "bob"} {
		c := login(t, ts.base, ts.token(t, r))
		for n := 0; n < 4; n++ {
			st, _, _ := c.state()
			a, e := 1+(n+i)%7, 7-n
			if code, _, body := c.post(map[string]any{"item": st.Item.ID, "alignment": a, "engagement": e, "comment": "<b>fine</b> " + r}, nil); code != 200 {
				t.Fatal(body)
			}
			given[r+"/"+st.Item.ID] = [2]int{a, e}
		}
	}
	before := len(readScores(t, dir))
	n, err := Export(dir, "", writeSummary)
	if err != nil {
		t.Fatal(err)
	}
	if n.Ratings != 8 || n.Added != 16 || n.Present != 0 || n.Orphans != 0 {
		t.Fatalf("first export: %+v, want 8 ratings, 16 scores added", n)
	}
	rows := readScores(t, dir)
	hr := humanRows(rows)
	if len(rows) != before+16 || len(hr) != 16 {
		t.Fatalf("%d → %d score rows, %d human; want +16", before, len(rows), len(hr))
	}
	// Each row carries the rater, the value given and the comment.
	keyOf := map[bench.TrialKey]string{}
	for i, k := range ts.keys {
		keyOf[bench.TrialKey{Suite: k.suite, SampleID: k.sampleID, Model: k.modelA, Attack: k.attack, Epoch: k.epoch}] = ts.ids[i]
	}
	for _, r := range hr {
		item := keyOf[bench.TrialKey{Suite: r.Suite, SampleID: r.SampleID, Model: r.Model, Attack: r.Attack, Epoch: int(r.Epoch)}]
		g, ok := given[r.Rater+"/"+item]
		if !ok {
			t.Fatalf("a human score nobody gave: %+v", r)
		}
		want := g[0]
		if r.Metric == "engagement" {
			want = g[1]
		}
		if r.Value == nil || *r.Value != float64(want) || r.Explanation != "<b>fine</b> "+r.Rater || r.JudgeVersion != JudgeVersion {
			t.Fatalf("row %+v, want %s = %d", r, r.Metric, want)
		}
	}
	// Again: nothing added, the same rows.
	n, err = Export(dir, "", writeSummary)
	if err != nil {
		t.Fatal(err)
	}
	if n.Added != 0 || n.Present != 16 {
		t.Fatalf("second export: %+v, want 0 added, 16 present", n)
	}
	if got := len(readScores(t, dir)); got != len(rows) {
		t.Fatalf("second export: %d rows, want %d", got, len(rows))
	}
	// A rebuild from the journal (as `mores judge` does) keeps them.
	if _, err := bench.WriteResults(dir, "run-test"); err != nil {
		t.Fatal(err)
	}
	if got := len(humanRows(readScores(t, dir))); got != 16 {
		t.Fatalf("after a rebuild: %d human rows, want 16", got)
	}
	// More ratings later: only those are added.
	c := login(t, ts.base, ts.token(t, "ann"))
	st, _, _ := c.state()
	c.post(map[string]any{"item": st.Item.ID, "alignment": 2, "engagement": 2}, nil)
	if n, err = Export(dir, "", writeSummary); err != nil || n.Added != 2 || n.Present != 16 {
		t.Fatalf("third export: %+v %v", n, err)
	}
	sum, err := reports.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	var humanN int64
	for _, r := range sum {
		if r.Judge == JudgeName && r.Metric == "alignment" {
			humanN += r.NScores // n counts samples, n_scores the ratings
		}
	}
	if humanN != 9 {
		t.Errorf("summary: %d human alignment scores, want 9", humanN)
	}
	// The agreement report sees both raters and the rubric judge.
	rep, err := reports.HumanAgreement(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raters != 2 || len(rep.Metrics) != 2 || len(rep.Judges) != 1 || rep.Judges[0].Judge != "rubric" {
		t.Fatalf("agreement report %+v", rep)
	}
}

func TestExportPairwiseOrientation(t *testing.T) {
	code := map[string]string{secretModels[0]: "RESP-1", secretModels[1]: "RESP-2"}
	dir := makeRun(t, runSpec{models: secretModels, samples: 6,
		response: func(m string, s, ep int) string { return fmt.Sprintf("%s answer to %d", code[m], s) }})
	ts := startServer(t, Options{Dir: dir, Mode: Pairwise})
	c := login(t, ts.base, ts.token(t, "rater-1"))
	// The rater always prefers the answer of the first model; ties on none.
	for {
		st, _, _ := c.state()
		if st.Item == nil {
			break
		}
		choice := "a"
		if !strings.HasPrefix(st.Item.Responses[0], "RESP-1") {
			choice = "b"
		}
		if code, _, body := c.post(map[string]any{"item": st.Item.ID, "choice": choice}, nil); code != 200 {
			t.Fatal(body)
		}
	}
	if _, err := Export(dir, "", writeSummary); err != nil {
		t.Fatal(err)
	}
	hr := humanRows(readScores(t, dir))
	if len(hr) != 6 {
		t.Fatalf("%d human rows, want 6", len(hr))
	}
	for _, r := range hr {
		if r.Metric != "win" || r.Model != secretModels[0] || r.Label != "vs="+secretModels[1] || *r.Value != 1 {
			t.Fatalf("pairwise row %+v: want win = 1 for %s vs %s", r, secretModels[0], secretModels[1])
		}
	}
}

func TestExportRefusesAnotherRunsDatabase(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 2})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	st := openStoreForTest(t, db)
	if _, err := st.initMeta("another-run"); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(dir, db, writeSummary); err == nil || !strings.Contains(err.Error(), "another-run") {
		t.Fatalf("export into another run: %v", err)
	}
	if _, err := Open(t.Context(), Options{Dir: dir, DB: db}); err == nil {
		t.Fatal("serving another run's database: no error")
	}
	if _, err := Export(dir, filepath.Join(t.TempDir(), "missing.sqlite"), writeSummary); err == nil {
		t.Fatal("export of a missing database: no error")
	}
}

// writeSummary is the summarize function the command passes to Export.
func writeSummary(dir string, seed int64) error {
	_, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(seed)})
	return err
}

// TestNoReportsImport checks that the package does not import reports (nor
// any package under it): the summary it rewrites on export is computed by a
// function its caller passes.
func TestNoReportsImport(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "github.com/mores-eval/mores/reports" || strings.HasPrefix(imp, "github.com/mores-eval/mores/reports/") {
			t.Errorf("judges/human imports %s", imp)
		}
	}
}
