package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/judges/sandbox"
)

// interactionColumns is the contract of interactions.parquet (issue 14):
// each column and its type.
var interactionColumns = []string{
	"run_id:BYTE_ARRAY", "world:INT32", "model:BYTE_ARRAY", "setting:BYTE_ARRAY", "round:INT32", "agent_id:INT32", "label:BYTE_ARRAY",
	"question:BYTE_ARRAY", "draft_answer:BYTE_ARRAY", "peer_ids:list<INT32 required>", "peer_ratings:list<DOUBLE optional>",
	"peer_feedback:list<BYTE_ARRAY required>", "mean_peer_rating:DOUBLE optional", "revised_answer:BYTE_ARRAY",
	"alignment_before:DOUBLE optional", "alignment_after:DOUBLE optional", "engagement_before:DOUBLE optional", "engagement_after:DOUBLE optional",
	"alignment_reason_before:BYTE_ARRAY", "alignment_reason_after:BYTE_ARRAY", "engagement_reason_before:BYTE_ARRAY", "engagement_reason_after:BYTE_ARRAY",
	"error:BYTE_ARRAY optional",
}

func parquetColumns(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, field := range pf.Schema().Fields() {
		desc := field.Name() + ":"
		if !field.Leaf() {
			// list<element>: group (LIST) { repeated group list { element } }
			el := field.Fields()[0].Fields()[0]
			opt := "required"
			if el.Optional() {
				opt = "optional"
			}
			desc += "list<" + el.Type().Kind().String() + " " + opt + ">"
		} else {
			desc += field.Type().Kind().String()
			if field.Optional() {
				desc += " optional"
			}
		}
		out = append(out, desc)
	}
	return out
}

func readInteractions(t *testing.T, dir string) []sandbox.InteractionRow {
	t.Helper()
	var rows []sandbox.InteractionRow
	if err := bench.ReadParquet(filepath.Join(dir, sandbox.InteractionsFile), func(r sandbox.InteractionRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSandboxOffline runs `mores sandbox` on the simulated models: one row
// per model × agent × round with the contract's columns and types, draft
// and revision rated, the three forms of alignment data, the summary, the
// figures and the report.
func TestSandboxOffline(t *testing.T) {
	out := t.TempDir()
	stdout := newCLI(t).mustRun("sandbox", "--size", "10", "--rounds", "3", "--setting", "mixed_half_half", "--out", out, "--run-id", "sb", "--no-cache")
	dir := filepath.Join(out, "sb")
	if got := parquetColumns(t, filepath.Join(dir, sandbox.InteractionsFile)); !reflect.DeepEqual(got, interactionColumns) {
		t.Errorf("interactions.parquet columns:\n got %q\nwant %q", got, interactionColumns)
	}
	rows := readInteractions(t, dir)
	if len(rows) != 2*100*3 {
		t.Fatalf("%d rows, want 600 (2 models × 100 agents × 3 rounds)", len(rows))
	}
	labels := map[string]int{}
	for _, r := range rows {
		if r.AlignmentBefore == nil || r.AlignmentAfter == nil || r.EngagementBefore == nil || r.EngagementAfter == nil || r.Error != nil {
			t.Fatalf("row %+v: not rated", r)
		}
		if len(r.PeerIDs) == 0 || len(r.PeerIDs) > 4 || len(r.PeerRatings) != len(r.PeerIDs) {
			t.Fatalf("row %+v: peers", r)
		}
		labels[r.Label]++
	}
	if labels["good"] != 300 || labels["bad"] != 300 {
		t.Errorf("labels %v, want half good", labels)
	}
	b, err := os.ReadFile(filepath.Join(dir, sandbox.AlignmentFile))
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for _, f := range []string{"imitation", "self_critic", "realignment"} {
			if strings.Contains(sc.Text(), `"form":"`+f+`"`) {
				forms[f]++
			}
		}
	}
	if forms["imitation"] != 600 || forms["self_critic"] != 600 || forms["realignment"] != 600 {
		t.Errorf("alignment data forms %v", forms)
	}
	var sum []sandbox.SummaryRow
	bench.ReadParquet(filepath.Join(dir, sandbox.SummaryFile), func(r sandbox.SummaryRow) error { sum = append(sum, r); return nil })
	if len(sum) != 2*4*len(sandbox.Metrics) {
		t.Errorf("%d summary rows, want 2 worlds × (3 rounds + all) × %d metrics", len(sum), len(sandbox.Metrics))
	}
	for _, f := range []string{"report.html", "plots/sandbox_rounds.png", "plots/sandbox_alignment_engagement.svg", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "alignment revision") || !strings.Contains(stdout, "600 back-scatters") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// TestSandboxBadInput checks exit 2 before any request.
func TestSandboxBadInput(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	for _, args := range [][]string{
		{"--setting", "utopia"},
		{"--size", "0"},
		{"--rounds", "-1"},
		{"--size", "5", "--global", "--dropout", "0.5"},
		{"--model", "m=openai:x@" + srv.URL()},
		{"--prior", filepath.Join(t.TempDir(), "missing.csv")},
	} {
		_, stderr, code := newCLI(t).run(append([]string{"sandbox", "--out", t.TempDir(), "--no-cache"}, args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	if srv.Requests() != 0 {
		t.Errorf("%d requests before the input was checked", srv.Requests())
	}
}

// sandboxServer answers SANDBOX prompts deterministically from the prompt.
func sandboxServer(t *testing.T, latency time.Duration) *benchtest.OpenAIServer {
	return benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: latency, Respond: func(req benchtest.ChatRequest) string {
		p := req.UserPrompt()
		if strings.Contains(p, "'Rating:__ ### Reason:__ '") {
			return fmt.Sprintf("Rating: %d ### Reason: reason %d", len(p)%7+1, len(p))
		}
		return fmt.Sprintf("Answer %d.", len(p))
	}})
}

// TestSandboxKillAndResume kills `mores sandbox` (SIGKILL) in the middle
// of a run against loopback servers, resumes it, and checks that no
// request was made again for a back-scatter journaled before the kill and
// that the records equal those of a run never killed.
func TestSandboxKillAndResume(t *testing.T) {
	agentSrv := sandboxServer(t, 15*time.Millisecond)
	obsSrv := sandboxServer(t, 0)
	qfile := filepath.Join(t.TempDir(), "questions.csv")
	var qs strings.Builder
	qs.WriteString("question\n")
	for i := range 18 {
		fmt.Fprintf(&qs, "Question number %d about living together?\n", i)
	}
	os.WriteFile(qfile, []byte(qs.String()), 0o644)
	args := []string{"sandbox", "--model", "m=openai:agent@" + agentSrv.URL(), "--observer", "openai:obs@" + obsSrv.URL(),
		"--size", "3", "--rounds", "2", "--setting", "half_half", "--questions", qfile, "--concurrency", "2", "--no-cache", "--no-report"}

	ref := t.TempDir()
	newCLI(t).mustRun(append(args, "--out", ref, "--run-id", "ref")...)

	bin := buildBinary(t)
	out := t.TempDir()
	dir := filepath.Join(out, "k")
	cmd := exec.Command(bin, append(args, "--out", out, "--run-id", "k")...)
	cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(dir, sandbox.JournalFile)); bytes.Count(b, []byte("\n")) >= 11 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	done, err := sandbox.ReadJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) < 11 || len(done) >= 18 {
		t.Fatalf("%d back-scatters journaled at the kill; want the kill mid-round 2", len(done))
	}
	nAgent, nObs := len(agentSrv.Recorded()), len(obsSrv.Recorded())
	newCLI(t).mustRun("sandbox", "--resume", dir)
	var after []string
	for _, r := range agentSrv.Recorded()[nAgent:] {
		after = append(after, r.Chat.UserPrompt())
	}
	for _, r := range obsSrv.Recorded()[nObs:] {
		after = append(after, r.Chat.UserPrompt())
	}
	if len(after) == 0 {
		t.Fatal("the resumed run made no request")
	}
	// Every question is asked once in the run, so a prompt naming the
	// question of a journaled back-scatter belongs to it.
	for _, r := range done {
		for _, p := range after {
			if strings.HasSuffix(p, "Question: "+r.Question+"\nAnswer:") || strings.Contains(p, "For the question '"+r.Question+"', ") ||
				strings.Contains(p, "' to the question '"+r.Question+"' is aligned") {
				t.Errorf("asked again after resume, for the finished back-scatter of agent %d, round %d:\n%s", r.AgentID, r.Round, p)
			}
		}
	}
	got := readInteractions(t, dir)
	want := readInteractions(t, filepath.Join(ref, "ref"))
	if len(got) != 18 || len(want) != 18 {
		t.Fatalf("%d rows after resume, %d in the reference run", len(got), len(want))
	}
	for i := range got {
		got[i].RunID, want[i].RunID = "", ""
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d differs after resume:\n%+v\n%+v", i, got[i], want[i])
		}
	}
}

// TestSandboxREADME runs the README's `mores sandbox` example and checks
// its output, figure for figure, and the README's claim that the
// simulated baseline rewrites less well with --score-only.
func TestSandboxREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmdLine = "$ mores sandbox --size 6 --rounds 3 --setting half_half\n"
	readme := string(b)
	i := strings.Index(readme, cmdLine)
	if i < 0 {
		t.Fatal("README.md lacks the mores sandbox example")
	}
	block := readme[i+len(cmdLine):]
	block = block[:strings.Index(block, "```")]
	out := t.TempDir()
	stdout := newCLI(t).mustRun("sandbox", "--size", "6", "--rounds", "3", "--setting", "half_half", "--out", out, "--run-id", "demo", "--no-cache")
	wantLines, gotLines := strings.Split(strings.TrimSpace(block), "\n"), strings.Split(strings.TrimSpace(stdout), "\n")
	if len(wantLines) != len(gotLines) {
		t.Fatalf("README:\n%s\nrun:\n%s", block, stdout)
	}
	for k := range wantLines {
		w, g := wantLines[k], gotLines[k]
		if strings.HasPrefix(w, "run: ") {
			w, g = w[strings.Index(w, " ("):], g[strings.Index(g, " ("):]
		}
		if w != g {
			t.Errorf("line %d: README %q, run %q", k+1, w, g)
		}
	}
	if !strings.Contains(readme, "(2.92 → 6.35)") || !strings.Contains(stdout, "baseline  all    2.92             6.35") {
		t.Error("the README's baseline figures 2.92 → 6.35 are not the run's")
	}
	so := newCLI(t).mustRun("sandbox", "--size", "6", "--rounds", "3", "--setting", "half_half", "--score-only", "--out", out, "--run-id", "so", "--no-cache")
	full, scoreOnly := readSummary(t, filepath.Join(out, "demo")), readSummary(t, filepath.Join(out, "so"))
	if !(scoreOnly["baseline alignment_after"] < full["baseline alignment_after"]) {
		t.Errorf("score-only revisions %.2f not below revisions with reasons %.2f\n%s", scoreOnly["baseline alignment_after"], full["baseline alignment_after"], so)
	}
}

// readSummary returns the all-rounds means of a sandbox run by model and
// metric.
func readSummary(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	if err := bench.ReadParquet(filepath.Join(dir, sandbox.SummaryFile), func(r sandbox.SummaryRow) error {
		if r.Round == 0 && r.Mean != nil {
			out[r.Model+" "+r.Metric] = *r.Mean
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSandboxReport checks `mores report` on a sandbox run: the table
// again, and the page with model text escaped.
func TestSandboxReport(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(req benchtest.ChatRequest) string {
		if strings.Contains(req.UserPrompt(), "'Rating:__ ### Reason:__ '") {
			return "Rating: 5 ### Reason: <script>alert(1)</script>"
		}
		return "<img src=x onerror=alert(1)>"
	}})
	out := t.TempDir()
	c := newCLI(t)
	stdout := c.mustRun("sandbox", "--model", "m=openai:m@"+srv.URL(), "--observer", "openai:o@"+srv.URL(), "--size", "2", "--out", out, "--run-id", "r", "--no-cache")
	dir := filepath.Join(out, "r")
	table := c.mustRun("report", dir)
	if !strings.Contains(stdout, strings.TrimSpace(table)) || !strings.Contains(table, "m      1      5.00") {
		t.Errorf("report:\n%s\nrun:\n%s", table, stdout)
	}
	page := c.mustRun("report", dir, "--format", "html")
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("model text is not escaped in report.html")
	}
}

// TestSocietyAliasWarns checks that the old name of the persona-panel
// judge still works and says what the judge is.
func TestSocietyAliasWarns(t *testing.T) {
	suite := filepath.Join(t.TempDir(), "soc.yaml")
	os.WriteFile(suite, []byte("name: soc\nversion: 1\ndataset:\n  path: builtin:social\n  id: id\n  fields:\n    input: input\nprompt: \"{{.input}}\"\njudges: [society]\n"), 0o644)
	stdout, stderr, code := newCLI(t).run("run", suite, "--judge-model", "sim:judge", "--limit", "1", "--out", t.TempDir(), "--no-cache")
	if code != 0 || !strings.Contains(stderr, "judge society is now named persona-panel") || !strings.Contains(stderr, "not SANDBOX") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "society.peer_alignment") {
		t.Errorf("the alias's scores:\n%s", stdout)
	}
}

// TestSandboxCacheAndEmbeddings runs the same world twice with remote
// embeddings: the first run embeds through /v1/embeddings, the second
// finds every completion and every vector in the response cache and sends
// nothing, and both write the same records.
func TestSandboxCacheAndEmbeddings(t *testing.T) {
	srv := sandboxServer(t, 0)
	out := t.TempDir()
	c := newCLI(t)
	args := []string{"sandbox", "--model", "m=openai:agent@" + srv.URL(), "--observer", "openai:obs@" + srv.URL(),
		"--embedding", "openai:text-embedding-ada-002@" + srv.URL(), "--size", "3", "--rounds", "2", "--setting", "mixed_half_half", "--out", out, "--no-report"}
	c.mustRun(append(args, "--run-id", "a")...)
	chats, embeds := srv.Requests(), srv.EmbeddingRequests()
	if chats == 0 || embeds == 0 {
		t.Fatalf("first run: %d chat and %d embedding requests", chats, embeds)
	}
	c.mustRun(append(args, "--run-id", "b")...)
	if srv.Requests() != chats || srv.EmbeddingRequests() != embeds {
		t.Errorf("second run sent %d chat and %d embedding requests; want none (cached)", srv.Requests()-chats, srv.EmbeddingRequests()-embeds)
	}
	a, b := readInteractions(t, filepath.Join(out, "a")), readInteractions(t, filepath.Join(out, "b"))
	for i := range a {
		a[i].RunID, b[i].RunID = "", ""
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("the cached run wrote other records")
	}
	m, err := sandbox.ReadManifest(filepath.Join(out, "a"))
	if err != nil || !strings.Contains(string(m.Config), `"embedding": "openai:text-embedding-ada-002@`) {
		t.Errorf("manifest config %s (%v)", m.Config, err)
	}
}

// TestSandboxCompletionsModel checks that an agent model on the plain
// completions endpoint gets the released prompts bare (no CHAT_PRIOR), as
// call_gpt sends them to text-davinci models, and a chat model gets
// CHAT_PRIOR as its system message.
func TestSandboxCompletionsModel(t *testing.T) {
	srv := sandboxServer(t, 0)
	cfg := filepath.Join(t.TempDir(), "mores.yaml")
	os.WriteFile(cfg, []byte("models:\n  davinci:\n    model: text-davinci-003\n    base_url: "+srv.URL()+"\n    completions: true\njudge_model: openai:obs@"+srv.URL()+"\n"), 0o644)
	newCLI(t).mustRun("sandbox", "--config", cfg, "--model", "d=davinci", "--model", "chat=openai:gpt-3.5-turbo@"+srv.URL(), "--size", "2", "--out", t.TempDir(), "--no-cache", "--no-report")
	drafts := 0
	for _, r := range srv.Recorded() {
		p := r.Chat.UserPrompt()
		if !strings.HasPrefix(p, "You are Agent ") && !strings.HasPrefix(p, "You get an average") {
			continue
		}
		var body map[string]any
		json.Unmarshal(r.Body, &body)
		switch body["model"] {
		case "text-davinci-003":
			if !strings.HasSuffix(r.Path, "/completions") || strings.HasSuffix(r.Path, "/chat/completions") || body["prompt"] != p {
				t.Errorf("completions request %s: prompt %q, want the bare prompt %q", r.Path, body["prompt"], p)
			}
			drafts++
		case "gpt-3.5-turbo":
			msgs, _ := body["messages"].([]any)
			if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != sandbox.ChatPrior {
				t.Errorf("chat request without CHAT_PRIOR: %v", msgs)
			}
		}
	}
	if drafts == 0 {
		t.Error("no request reached the completions model")
	}
}
