package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/sim"
)

// means returns the summary means by model and judge/metric.
func means(t *testing.T, run string) map[string]float64 {
	t.Helper()
	rows, err := readSummaryRows(run)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range rows {
		out[r.Model+" "+r.Judge+"/"+r.Metric] = r.Mean
	}
	return out
}

// scoreValues returns every score of a run by sample, model, judge and
// metric, failing on a score with an error.
func scoreValues(t *testing.T, run string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range readScores(t, run) {
		if s.Value == nil {
			t.Fatalf("%s %s %s/%s: error %v", s.SampleID, s.Model, s.Judge, s.Metric, s.Error)
		}
		out[s.SampleID+" "+s.Model+" "+s.Judge+"/"+s.Metric] = *s.Value
	}
	return out
}

// TestSocialSandboxNeedsAJudgeModel checks the exit-2 message of the
// social-sandbox suite without --judge-model.
func TestSocialSandboxNeedsAJudgeModel(t *testing.T) {
	_, stderr, code := newCLI(t).run("run", "social-sandbox", "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "pass --judge-model") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 asking for --judge-model", code, stderr)
	}
}

// TestSocialSandboxOffline runs the social-sandbox suite on the simulated
// models with the simulated judge: every rubric and society metric is
// scored, and the aligned model rates higher than the baseline.
func TestSocialSandboxOffline(t *testing.T) {
	out := t.TempDir()
	c := newCLI(t)
	stdout := c.mustRun("run", "social-sandbox", "--judge-model", "sim:judge", "--out", out, "--run-id", "ss")
	run := filepath.Join(out, "ss")
	vals := scoreValues(t, run)
	// 43 samples × 2 models × (refusal + rubric 2 + society 4).
	if len(vals) != 43*2*7 {
		t.Errorf("%d scores, want %d", len(vals), 43*2*7)
	}
	m := means(t, run)
	for _, metric := range []string{"rubric/alignment", "rubric/engagement", "persona-panel/peer_alignment", "persona-panel/alignment", "persona-panel/engagement"} {
		if m["aligned "+metric] <= m["baseline "+metric] {
			t.Errorf("%s: aligned %.3f, baseline %.3f; want aligned higher", metric, m["aligned "+metric], m["baseline "+metric])
		}
	}
	t.Logf("means: %v", m)
	if !strings.Contains(stdout, "persona-panel.peer_alignment") {
		t.Errorf("the summary table lacks the persona-panel metrics:\n%s", stdout)
	}
}

// simJudgeServer is a loopback server that plays sim:judge over the wire.
func simJudgeServer(t *testing.T) *benchtest.OpenAIServer {
	j, err := sim.New(sim.Judge)
	if err != nil {
		t.Fatal(err)
	}
	return benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(r benchtest.ChatRequest) string {
		var req bench.Request
		for _, m := range r.Messages {
			if m.Role == "system" {
				req.System = m.Content
				continue
			}
			req.Messages = append(req.Messages, bench.Message{Role: m.Role, Content: m.Content})
		}
		c, err := j.Generate(context.Background(), req)
		if err != nil {
			return err.Error()
		}
		return c.Text
	}})
}

// TestSocialSandboxOverTheWire runs the social-sandbox suite on a model
// behind the loopback server, judged once by sim:judge in-process and once
// by the same judge behind a second loopback server reached through the
// openai provider: the scores agree, and the judge server sees 7 calls per
// trial (1 rubric, 4 peers, 2 observers).
func TestSocialSandboxOverTheWire(t *testing.T) {
	subject := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(r benchtest.ChatRequest) string {
		if strings.Contains(r.UserPrompt(), "?") {
			return "Good question! It helps to listen first, say how you feel calmly, and look for a fair compromise together. Would you like some example phrases?"
		}
		return "I'm sorry, I can't help with that."
	}})
	judgeSrv := simJudgeServer(t)
	out := t.TempDir()
	c := newCLI(t)
	model := "chat=openai:mores-test@" + subject.URL()
	c.mustRun("run", "social-sandbox", "--model", model, "--judge-model", "sim:judge", "--out", out, "--run-id", "local", "--limit", "10")
	c.mustRun("run", "social-sandbox", "--model", model, "--judge-model", "openai:sim-judge@"+judgeSrv.URL(), "--out", out, "--run-id", "wire", "--limit", "10", "--no-cache")
	local, wire := scoreValues(t, filepath.Join(out, "local")), scoreValues(t, filepath.Join(out, "wire"))
	if len(local) != 10*7 || len(wire) != len(local) {
		t.Fatalf("%d and %d scores, want 70", len(local), len(wire))
	}
	for k, v := range local {
		if wire[k] != v {
			t.Errorf("%s: %v in-process, %v over the wire", k, v, wire[k])
		}
	}
	if n := judgeSrv.Requests(); n != 10*7 {
		t.Errorf("the judge server got %d requests, want 70", n)
	}
	m := means(t, filepath.Join(out, "wire"))
	t.Logf("over the wire: %s", fmt.Sprint(m))
}
