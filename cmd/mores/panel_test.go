package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPanelOfJudgeModelsReportsAgreement runs a panel of the rubric judge
// asked through two judge models (both the simulated judge, one named in the
// suite and one the run's --judge-model) and checks the aggregate, the
// member scores and the agreement section of the report.
func TestPanelOfJudgeModelsReportsAgreement(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "panel.yaml")
	os.WriteFile(suite, []byte(`name: panel-demo
version: 1
dataset: {path: builtin:social, id: id, fields: {input: input}}
prompt: "{{.input}}"
judges:
  - {name: panel, judge: rubric, models: [judge, "sim:judge"], agg: mean}
`), 0o644)
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", suite, "--judge-model", "sim:judge", "--out", out, "--run-id", "p", "--limit", "10")
	run := filepath.Join(out, "p")
	members := map[string]int{}
	aggregate := 0
	for _, s := range readScores(t, run) {
		switch {
		case strings.HasPrefix(s.Judge, "panel/"):
			members[s.Judge]++
		case s.Judge == "panel" && s.Metric == "alignment":
			aggregate++
		}
	}
	if len(members) != 2 || aggregate != 20 {
		t.Fatalf("member scores %v, aggregate alignment rows %d; want 2 members and 20 rows", members, aggregate)
	}
	report := c.mustRun("report", run)
	if !strings.Contains(report, "Panel agreement") || !strings.Contains(report, "alignment") {
		t.Errorf("report lacks the panel agreement section:\n%s", report)
	}
}
