package html

import (
	"fmt"
	"strings"
	"testing"
)

// TestReportAllTrialsFailed opens the report of a run in which every trial
// failed (no score rows at all, so no metric column): the sample browser
// must still start and list the failed trials with their errors, instead
// of staying at "Loading…" because of a null metrics list.
func TestReportAllTrialsFailed(t *testing.T) {
	dir := t.TempDir()
	m := tinyManifest()
	m.RunID = "allfail"
	m.Status = "failed"
	writeRun(t, dir, m, func(yield func(trial) bool) {
		for s := 1; s <= 3; s++ {
			tr := trial{suite: "adversarial", sample: fmt.Sprintf("adv-%d", s), model: "baseline", attack: "none", epoch: 1,
				prompt: "Question?", err: "fatal: HTTP 401 after 1 attempt"}
			if !yield(tr) {
				return
			}
		}
	}, 50)
	path, doc := writeReport(t, dir, Options{})
	if strings.Contains(string(doc), `"metrics":null`) {
		t.Errorf("the browser data holds \"metrics\":null")
	}
	ctx := browser(t)
	open(t, ctx, path)
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "3 trials" {
		t.Errorf("count %q, want %q", got, "3 trials")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#trials tr.row").length`); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

// TestReportNoTrials renders the report of a run without any trial: the
// page starts and says there are none.
func TestReportNoTrials(t *testing.T) {
	dir := t.TempDir()
	m := tinyManifest()
	m.RunID = "empty"
	writeRun(t, dir, m, func(yield func(trial) bool) {}, 50)
	path, _ := writeReport(t, dir, Options{})
	ctx := browser(t)
	open(t, ctx, path)
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "0 trials" {
		t.Errorf("count %q, want %q", got, "0 trials")
	}
}
