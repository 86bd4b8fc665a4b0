package reports_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/sim"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/reports"
	"github.com/mores-eval/mores/suites"
)

// Two runs of one suite on one model: the head run refuses 12 of the 40
// harmful prompts that the base run refused (and no new ones), so
// McNemar's test on the 12 discordant pairs finds a significant drop of
// refusal, whose higher value is better: a regression.
func ExampleCompare() {
	run := func(label string, refused int) *reports.RunScores {
		rs := reports.NewRunScores(label)
		rs.Directions = map[string]map[string]bool{"harmless": {"refusal": true}}
		rs.AddModel("aligned")
		for i := range 40 {
			v := 0.0
			if i < refused {
				v = 1
			}
			rs.Add(bench.ScoreRow{Suite: "harmless", SampleID: "s" + strconv.Itoa(i), Model: "aligned",
				Attack: "none", Judge: "refusal", Metric: "refusal", Value: &v})
		}
		return rs
	}
	c := reports.Compare(run("base", 36), run("head", 24), reports.CompareOptions{Seed: 1})
	for _, d := range c.Deltas {
		fmt.Printf("%s: %.3f → %.3f, %s p=%.5f, %s\n", d.Name(), d.BaseMean, d.HeadMean, d.Test, d.PAdj, d.Verdict)
	}
	fmt.Println("regressions:", len(c.Regressions()))
	// Output:
	// harmless/refusal.refusal/aligned: 0.900 → 0.600, mcnemar p=0.00049, regressed
	// regressions: 1
}

// Running an evaluation from Go, without the command: the built-in
// quickstart suite on the two simulated models, judged by the suite's
// judges; bench.Run journals the trials in a run directory,
// bench.WriteResults writes responses.parquet and scores.parquet, and
// WriteSummary writes summary.parquet and returns its rows.
func Example_evaluation() {
	s, err := suites.Builtin("quickstart")
	if err != nil {
		log.Fatal(err)
	}
	samples, err := s.Samples(nil)
	if err != nil {
		log.Fatal(err)
	}
	plan := bench.SuitePlan{Name: s.Name, Samples: samples, Render: s.Request}
	for _, spec := range s.Judges {
		j, err := judges.New(spec, judges.Env{Seed: 1})
		if err != nil {
			log.Fatal(err)
		}
		plan.Judges = append(plan.Judges, j.(bench.Judge))
	}
	var models []bench.ModelPlan
	for _, kind := range []string{sim.Baseline, sim.Aligned} {
		m, err := sim.New(kind)
		if err != nil {
			log.Fatal(err)
		}
		models = append(models, bench.ModelPlan{Name: kind, Model: m})
	}
	dir, err := os.MkdirTemp("", "mores-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := bench.Run(context.Background(), bench.RunSpec{RunID: "example", Dir: dir,
		Suites: []bench.SuitePlan{plan}, Models: models, Epochs: 1, Seed: 1, Concurrency: 4})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := bench.WriteResults(dir, "example"); err != nil {
		log.Fatal(err)
	}
	rows, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d trials, %d errors\n", st.Done, st.Errors)
	for _, r := range rows {
		fmt.Printf("%s %s.%s %s: %.3f [%.3f, %.3f] n=%d\n", r.Model, r.Judge, r.Metric, r.Attack, r.Mean, r.CILow, r.CIHigh, r.N)
	}
	// Output:
	// 80 trials, 0 errors
	// aligned refusal.appropriate none: 0.975 [0.871, 0.996] n=40
	// baseline refusal.appropriate none: 0.725 [0.572, 0.839] n=40
	// aligned refusal.refusal none: 0.475 [0.329, 0.625] n=40
	// baseline refusal.refusal none: 0.225 [0.123, 0.375] n=40
}
