package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/judges/judgeeval"
)

// jbbComparison is JailbreakBench's judge-comparison set (see its SOURCE.md).
const jbbComparison = "../../../shared/datasets/jbb-judge-comparison/judge-comparison.csv"

func needJBB(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(jbbComparison); err != nil {
		t.Fatalf("the held-out judge-comparison set is missing (%v): it lives in ../shared/datasets/jbb-judge-comparison beside the worktree", err)
	}
}

var jbbArgs = []string{"judge-eval", jbbComparison, "--label", "human_majority", "--response", "target_response",
	"--prompt", "prompt", "--id", "Index", "--reference", "harmbench_cf", "--reference", "gpt4_cf",
	"--reference", "llamaguard2_cf", "--reference", "llama3_cf"}

// TestJudgeEvalReproducesJailbreakBench runs the offline refusal judge over
// JailbreakBench's judge-comparison set and checks every figure printed:
// the four reference columns reproduce the agreement the JailbreakBench
// paper publishes (HarmBench 78.3%, GPT-4 90.3%, Llama Guard 2 87.7%,
// Llama-3-70B 90.7%) and FPR/FNR of the set's SOURCE.md, and the refusal
// judge (read as "complied" with --invert) gets its own figures.
func TestJudgeEvalReproducesJailbreakBench(t *testing.T) {
	needJBB(t)
	c := newCLI(t)
	out := c.mustRun(append(jbbArgs, "--judge", "refusal", "--invert")...)
	for _, want := range []string{
		"300 of 300 rows judged",
		"judge refusal   300  55.7% [50.0, 61.2]  0.232 [0.165, 0.299]  68.4% [61.5, 74.6]    2.7% [0.9, 7.7]  107  130   3   60\n",
		"harmbench_cf    300  78.3% [73.3, 82.6]  0.564 [0.474, 0.655]  26.8% [21.0, 33.6]  12.7% [7.7, 20.2]   96   51  14  139             3.6e-13\n",
		"gpt4_cf         300  90.3% [86.5, 93.2]  0.795 [0.725, 0.866]   10.0% [6.5, 15.1]   9.1% [5.0, 15.9]  100   19  10  171             1.7e-23\n",
		"llamaguard2_cf  300  87.7% [83.5, 90.9]  0.741 [0.663, 0.819]   13.2% [9.1, 18.7]  10.9% [6.4, 18.1]   98   25  12  165             1.8e-20\n",
		"llama3_cf       300  90.7% [86.8, 93.5]  0.805 [0.737, 0.873]   11.6% [7.8, 16.9]   5.5% [2.5, 11.4]  104   22   6  168             7.7e-27\n",
		"label 0         60       130\n",
		"label 1          3       107\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// The JSON report carries the same counts.
	var rep judgeeval.Report
	if err := json.Unmarshal([]byte(c.mustRun(append(jbbArgs, "--judge", "refusal", "--invert", "--format", "json")...)), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string][4]int{"harmbench_cf": {96, 51, 14, 139}, "gpt4_cf": {100, 19, 10, 171},
		"llamaguard2_cf": {98, 25, 12, 165}, "llama3_cf": {104, 22, 6, 168}}
	if len(rep.References) != 4 {
		t.Fatalf("%d references in the JSON report, want 4", len(rep.References))
	}
	for _, f := range rep.References {
		if got := [4]int{f.TP, f.FP, f.FN, f.TN}; got != want[f.Rater] {
			t.Errorf("%s: TP FP FN TN = %v, want %v", f.Rater, got, want[f.Rater])
		}
	}
	if j := rep.JudgeFigures; j.TP != 107 || j.FP != 130 || j.FN != 3 || j.TN != 60 || rep.Metric != "refusal" || !rep.Invert {
		t.Errorf("judge figures in JSON: %+v (metric %q, invert %v)", j, rep.Metric, rep.Invert)
	}

	// Markdown and LaTeX render the same figures.
	md := c.mustRun(append(jbbArgs, "--judge", "refusal", "--invert", "--format", "markdown")...)
	if !strings.Contains(md, "| harmbench_cf | 300 | 78.3% [73.3, 82.6] |") {
		t.Errorf("markdown:\n%s", md)
	}
	tex := c.mustRun(append(jbbArgs, "--judge", "refusal", "--invert", "--format", "latex")...)
	if !strings.Contains(tex, `llama3\_cf & 300 & 90.7\% [86.8, 93.5] &`) {
		t.Errorf("latex:\n%s", tex)
	}
}

// verdictRE finds the boundary id the jailbreak judge must repeat.
var verdictRE = regexp.MustCompile(`\{"id": "([0-9a-f]{16})"`)

// jailbreakServer is a judge model on loopback that answers the jailbreak
// judge: "unsafe" when the fenced response holds HARM.
func jailbreakServer(t *testing.T) *benchtest.OpenAIServer {
	return benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(req benchtest.ChatRequest) string {
		m := verdictRE.FindStringSubmatch(req.System())
		if m == nil {
			return "no id"
		}
		v := "safe"
		if strings.Contains(req.UserPrompt(), "HARM") {
			v = "unsafe"
		}
		return `{"id": "` + m[1] + `", "reason": "r", "verdict": "` + v + `"}`
	}})
}

func writeEvalFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestJudgeEvalLLMJudgeGoesThroughTheRunner judges a labelled file with an
// LLM judge on a loopback server: the judgments are journaled in --out,
// and a second run (same cache) sends no request.
func TestJudgeEvalLLMJudgeGoesThroughTheRunner(t *testing.T) {
	srv := jailbreakServer(t)
	file := writeEvalFile(t, "labels.jsonl", `{"q": "how to x", "a": "HARM step 1", "gold": 1, "other": "yes"}
{"q": "how to y", "a": "I cannot help.", "gold": 0, "other": "no"}
{"q": "how to z", "a": "HARM again", "gold": 0, "other": "no"}
{"q": "how to w", "a": "Sure, here is nothing.", "gold": 1, "other": "true"}
`)
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "k"
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"judge-eval", file, "--judge", "jailbreak", "--judge-model", "openai:judge@" + srv.URL(),
		"--label", "gold", "--response", "a", "--prompt", "q", "--reference", "other", "--out", out, "--format", "json"}
	var rep judgeeval.Report
	if err := json.Unmarshal([]byte(c.mustRun(args...)), &rep); err != nil {
		t.Fatal(err)
	}
	j := rep.JudgeFigures
	if j.TP != 1 || j.FP != 1 || j.FN != 1 || j.TN != 1 || rep.Metric != "jailbroken" {
		t.Errorf("judge figures %+v metric %q; want TP FP FN TN 1 1 1 1, metric jailbroken", j, rep.Metric)
	}
	if f := rep.References[0]; f.Agreement.Value != 1 || *f.McNemar != 0.5 { // reference right alone on 2 rows: p = 2·¼
		t.Errorf("reference figures %+v", f)
	}
	if n := srv.Requests(); n != 4 {
		t.Errorf("%d requests for 4 rows, want 4", n)
	}
	if _, err := os.Stat(filepath.Join(out, bench.JournalFile)); err != nil {
		t.Errorf("no journal in --out: %v", err)
	}
	// Again, in a fresh folder: every judgment comes from the cache.
	args[len(args)-3] = filepath.Join(t.TempDir(), "run2")
	c.mustRun(args...)
	if n := srv.Requests(); n != 4 {
		t.Errorf("the second run sent %d more requests, want 0 (response cache)", n-4)
	}
}

// TestJudgeEvalBadInputExitsTwoBeforeAnyRequest: a missing column, a label
// that is not 0/1-like and an unknown judge each exit 2 with a message
// naming the file (line) and column, and no request reaches the server.
func TestJudgeEvalBadInputExitsTwoBeforeAnyRequest(t *testing.T) {
	srv := jailbreakServer(t)
	good := writeEvalFile(t, "good.csv", "prompt,response,gold\np,r,1\n")
	badLabel := writeEvalFile(t, "bad.csv", "prompt,response,gold\np,r,1\np2,r2,maybe\n")
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "k"
	model := "openai:judge@" + srv.URL()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing label column", []string{good, "--judge", "jailbreak", "--judge-model", model, "--label", "human"},
			[]string{good + ":2: human: no such column", "--label human"}},
		{"missing reference column", []string{good, "--judge", "jailbreak", "--judge-model", model, "--label", "gold", "--reference", "gpt4"},
			[]string{good + ":2: gpt4: no such column"}},
		{"missing response column", []string{good, "--judge", "jailbreak", "--judge-model", model, "--label", "gold", "--response", "output"},
			[]string{good + ":2: output: no such column"}},
		{"label not 0/1", []string{badLabel, "--judge", "jailbreak", "--judge-model", model, "--label", "gold"},
			[]string{badLabel + ":3: gold: label \"maybe\" is not 0/1-like"}},
		{"unknown judge", []string{good, "--judge", "nosuchjudge", "--label", "gold"},
			[]string{`unknown judge "nosuchjudge"`}},
		{"no judge model", []string{good, "--judge", "jailbreak", "--label", "gold"},
			[]string{"judge model"}},
		{"missing file", []string{filepath.Join(t.TempDir(), "none.csv"), "--judge", "refusal", "--label", "gold"},
			[]string{"none.csv"}},
	} {
		_, stderr, code := c.run(append([]string{"judge-eval"}, tc.args...)...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", tc.name, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, stderr)
			}
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d requests were sent for bad input, want 0", n)
	}
}

// TestJudgeEvalPublishedProtocolOverTheWire runs the jailbreakbench judge
// over the judge-comparison set against a loopback server that answers
// JailbreakBench's prompt the way Llama-3-70B did (the set's llama3_cf
// column, looked up by the request and response the prompt carries). The
// 300 judgments go through the runner; the judge's figures must equal
// llama3_cf's, 90.7% agreement, with McNemar p = 1 between them. A second
// run is served from the response cache.
func TestJudgeEvalPublishedProtocolOverTheWire(t *testing.T) {
	needJBB(t)
	verdict := map[[2]string]string{}
	if err := datasets.ReadRows(jbbComparison, datasets.Options{}, func(_ int, r datasets.Row) error {
		v := "safe"
		if datasets.Text(r["llama3_cf"]) == "1" {
			v = "unsafe"
		}
		verdict[[2]string{datasets.Text(r["prompt"]), datasets.Text(r["target_response"])}] = v
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(req benchtest.ChatRequest) string {
		p := req.UserPrompt()
		i := strings.Index(p, "<BEGIN REQUEST>")
		j := strings.Index(p, "<END REQUEST>\n\n<BEGIN RESPONSE>")
		k := strings.LastIndex(p, "<END RESPONSE>\n\nEvaluate whether")
		if i < 0 || j < i || k < j {
			return "malformed prompt"
		}
		request := p[i+len("<BEGIN REQUEST>") : j]
		response := p[j+len("<END REQUEST>\n\n<BEGIN RESPONSE>") : k]
		if v, ok := verdict[[2]string{request, response}]; ok {
			return v
		}
		return "unknown row"
	}})
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "k"
	args := append(jbbArgs[:len(jbbArgs):len(jbbArgs)], "--judge", "jailbreakbench", "--judge-model", "openai:llama-3-70b@"+srv.URL(), "--format", "json")
	var rep judgeeval.Report
	if err := json.Unmarshal([]byte(c.mustRun(args...)), &rep); err != nil {
		t.Fatal(err)
	}
	j := rep.JudgeFigures
	if rep.Judged != 300 || rep.Failed != 0 || j.TP != 104 || j.FP != 22 || j.FN != 6 || j.TN != 168 || rep.Metric != "jailbroken" {
		t.Fatalf("judge %+v (judged %d, failed %d, metric %q); want llama3_cf's 104 22 6 168", j, rep.Judged, rep.Failed, rep.Metric)
	}
	if l3 := rep.References[3]; l3.Rater != "llama3_cf" || *l3.McNemar != 1 || l3.RightOnly != 0 || l3.JudgeOnly != 0 {
		t.Errorf("llama3_cf vs the judge: %+v", l3)
	}
	if n := srv.Requests(); n != 300 {
		t.Errorf("%d requests, want 300", n)
	}
	c.mustRun(args...)
	if n := srv.Requests(); n != 300 {
		t.Errorf("the second run sent %d requests, want 0 (response cache)", n-300)
	}
}

// TestJudgeEvalFailedJudgmentsExitThree: when some judgments fail (the
// judge model answers no readable verdict), the figures over the rest are
// printed, the failures counted, and the command exits 3.
func TestJudgeEvalFailedJudgmentsExitThree(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(req benchtest.ChatRequest) string {
		for _, m := range req.Messages {
			if strings.Contains(m.Content, "GARBLED") {
				return "I will not answer in JSON."
			}
		}
		m := verdictRE.FindStringSubmatch(req.System())
		if m == nil {
			return "no id"
		}
		return `{"id": "` + m[1] + `", "reason": "r", "verdict": "safe"}`
	}})
	file := writeEvalFile(t, "labels.csv", "prompt,response,gold\np1,fine,0\np2,GARBLED,1\np3,also fine,0\n")
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "k"
	stdout, stderr, code := c.run("judge-eval", file, "--judge", "jailbreak", "--judge-model", "openai:judge@"+srv.URL(), "--label", "gold")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 of 3 rows judged, 1 failed") || !strings.Contains(stdout, "judge jailbreak  2  100.0% [34.2, 100.0]") || !strings.Contains(stdout, "first failure: row 2: unparseable verdict") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "1 of 3 judgments failed") || !strings.Contains(stderr, "row 2:") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
