package html

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
)

// hostile is model output that would run script if it were ever parsed as
// markup.
const hostile = `<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> </script><script>window.__pwned=1</script> <!-- ` +
	"\u2028 \u2029 ]]> {{.}} '\"`"

// trial is one trial of a fixture run with its scores.
type trial struct {
	suite, sample, model, attack string
	epoch                        int32
	prompt, response, err        string
	scores                       []bench.Score
}

// writeRun writes a complete run directory (manifest, responses.parquet,
// scores.parquet, summary.parquet) holding trials.
func writeRun(t testing.TB, dir string, m *bench.Manifest, trials func(yield func(trial) bool), resamples int) {
	t.Helper()
	if err := bench.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	rw, err := bench.CreateParquet[bench.ResponseRow](filepath.Join(dir, bench.ResponsesFile))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	for tr := range trials {
		row := bench.ResponseRow{RunID: m.RunID, Suite: tr.suite, SampleID: tr.sample, Model: tr.model, Attack: tr.attack,
			Epoch: tr.epoch, Prompt: tr.prompt, Response: tr.response, FinishReason: "stop", PromptTokens: int64(len(tr.prompt) / 4),
			CompletionTokens: int64(len(tr.response) / 4), LatencyMS: 12.5, Attempts: 1, Error: bench.StrPtr(tr.err),
			System: "You are a helpful assistant."}
		if tr.err != "" {
			row.FinishReason = ""
		}
		if err := rw.Write(row); err != nil {
			t.Fatal(err)
		}
		for _, s := range tr.scores {
			v := s.Value
			sr := bench.ScoreRow{RunID: m.RunID, Suite: tr.suite, SampleID: tr.sample, Model: tr.model, Attack: tr.attack,
				Epoch: tr.epoch, Judge: s.Judge, Metric: s.Metric, Value: &v, Label: s.Label, Explanation: s.Explanation,
				Error: bench.StrPtr(s.Error)}
			if s.Error != "" {
				sr.Value = nil
			}
			if err := sw.Write(sr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(m.Seed), Resamples: resamples}); err != nil {
		t.Fatal(err)
	}
}

var fixedTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// tinyManifest is the manifest of the tiny fixed run.
func tinyManifest() *bench.Manifest {
	end := fixedTime.Add(90 * time.Second)
	return &bench.Manifest{
		RunID: "tiny", Status: "complete", MoresVersion: "0.1.0", Seed: 3, Epochs: 1, StartedAt: fixedTime, FinishedAt: &end,
		Models: []bench.ManifestModel{{Name: "baseline", Spec: "sim:baseline"}, {Name: "aligned", Spec: "sim:aligned"}},
		Suites: []bench.ManifestSuite{
			{Name: "adversarial", Version: 1, Dataset: "builtin:adversarial", Samples: 3, Attacks: []string{"none", "base64"},
				Judges: []string{"refusal", "harm"}, HigherIsBetter: map[string]bool{"refusal": true, "harmful": false}},
			{Name: "social", Version: 2, Dataset: "builtin:social", Samples: 3, Attacks: []string{"none"},
				Judges: []string{"society", "pairwise"}},
		},
	}
}

// tinyTrials are the trials of the tiny fixed run: 2 suites, 2 models, 3
// samples, 2 attacks on one suite, a hostile response, a failed trial and
// a judge error.
func tinyTrials(yield func(trial) bool) {
	for _, suite := range []string{"adversarial", "social"} {
		attacks := []string{"none"}
		if suite == "adversarial" {
			attacks = append(attacks, "base64")
		}
		for s := 1; s <= 3; s++ {
			for _, attack := range attacks {
				for mi, model := range []string{"baseline", "aligned"} {
					tr := trial{suite: suite, sample: fmt.Sprintf("%s-%d", suite[:3], s), model: model, attack: attack, epoch: 1,
						prompt: fmt.Sprintf("Question %d of %s (%s)?", s, suite, attack)}
					refused := mi == 1 || s == 2
					if refused {
						tr.response = "I'm sorry, but I can't help with that."
					} else {
						tr.response = fmt.Sprintf("Sure. Here is how to do thing %d, step by step.", s)
					}
					if suite == "adversarial" && s == 3 && model == "baseline" && attack == "none" {
						tr.response = "Sure: " + hostile
						tr.sample = "adv-3"
					}
					switch suite {
					case "adversarial":
						if s == 1 && model == "aligned" && attack == "base64" {
							tr.response, tr.err = "", "simulated: HTTP 503 after 3 attempts"
							break
						}
						ref := bench.Score{Judge: "refusal", Metric: "refusal", Value: 0, Label: "compliance"}
						harm := bench.Score{Judge: "harm", Metric: "harmful", Value: 1, Label: "harmful", Explanation: "p=0.91"}
						if refused {
							ref = bench.Score{Judge: "refusal", Metric: "refusal", Value: 1, Label: "refusal", Explanation: "i'm sorry"}
							harm = bench.Score{Judge: "harm", Metric: "harmful", Value: 0, Label: "safe", Explanation: "p=0.04"}
						}
						if strings.Contains(tr.response, "<script>") {
							harm.Explanation = "the answer contains " + hostile
						}
						tr.scores = []bench.Score{ref, harm}
					case "social":
						a, e := 3.0+float64(s%2), 5.0
						if model == "aligned" {
							a, e = 6, 4+float64(s%2)
						}
						tr.scores = []bench.Score{
							{Judge: "society", Metric: "alignment", Value: a, Explanation: fmt.Sprintf("peers: mean %.0f, the answer is considerate", a)},
							{Judge: "society", Metric: "engagement", Value: e, Explanation: "observers would keep talking"},
						}
						if model == "baseline" {
							w := bench.Score{Judge: "pairwise:vs=aligned", Metric: "win", Value: 0, Label: "loss", Explanation: "aligned shown first: aligned (kinder)"}
							if s == 2 {
								w = bench.Score{Judge: "pairwise:vs=aligned", Metric: "win", Error: "judge reply had no JSON object"}
							}
							tr.scores = append(tr.scores, w)
						}
					}
					if !yield(tr) {
						return
					}
				}
			}
		}
	}
}

// bigRun writes a run of n trials (suites × models × attacks × samples)
// with refusal and harm verdicts and a jailbreak reason, quickly.
func bigRun(t testing.TB, dir string, n int) {
	models := []string{"baseline", "aligned", "llama-3-8b", "mistral-7b"}
	attacks := []string{"none", "role-play", "prefix-injection", "base64", "refusal-suppression"}
	suites := []string{"adversarial", "harmless", "overrefusal", "social"}
	m := &bench.Manifest{RunID: "big", Status: "complete", MoresVersion: "0.1.0", Seed: 1, Epochs: 1, StartedAt: fixedTime}
	for _, mm := range models {
		m.Models = append(m.Models, bench.ManifestModel{Name: mm, Spec: "sim:" + mm})
	}
	for _, s := range suites {
		m.Suites = append(m.Suites, bench.ManifestSuite{Name: s, Version: 1, Attacks: attacks, Judges: []string{"refusal", "harm"}})
	}
	words := strings.Fields("the a model answer question people safe help harm request step careful because however consider")
	writeRun(t, dir, m, func(yield func(trial) bool) {
		rng := rand.New(rand.NewPCG(9, 9))
		var b strings.Builder
		for i := 0; i < n; i++ {
			model := models[i%len(models)]
			attack := attacks[(i/len(models))%len(attacks)]
			per := len(models) * len(attacks)
			suite := suites[(i/per)%len(suites)]
			sample := "s" + strconv.Itoa(i/(per*len(suites)))
			b.Reset()
			for range 20 + rng.IntN(40) {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(' ')
			}
			refused := rng.IntN(3) == 0
			tr := trial{suite: suite, sample: sample, model: model, attack: attack, epoch: 1,
				prompt: "Prompt " + sample + " under " + attack, response: b.String()}
			if refused {
				tr.scores = append(tr.scores, bench.Score{Judge: "refusal", Metric: "refusal", Value: 1, Label: "refusal", Explanation: "i can't"})
			} else {
				tr.scores = append(tr.scores, bench.Score{Judge: "refusal", Metric: "refusal", Value: 0, Label: "compliance"})
			}
			if !refused && rng.IntN(2) == 0 {
				tr.scores = append(tr.scores, bench.Score{Judge: "harm", Metric: "harmful", Value: 1, Label: "harmful", Explanation: "p=0.8"})
			} else {
				tr.scores = append(tr.scores, bench.Score{Judge: "harm", Metric: "harmful", Value: 0, Label: "safe", Explanation: "p=0.1"})
			}
			// About one trial in a thousand, among those the report's sample
			// holds (the lowest hashes).
			if trialHash(suite, sample, model, attack, 1) < math.MaxUint64/1000 {
				tr.response = strings.Repeat("very long answer ", 600) // 10,200 characters: cut at 4,000
			}
			if !yield(tr) {
				return
			}
		}
	}, 50)
}
