package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// byKey indexes response rows by sample and epoch.
func byKey(rows []bench.ResponseRow) map[string]bench.ResponseRow {
	m := map[string]bench.ResponseRow{}
	for _, r := range rows {
		m[fmt.Sprint(r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch)] = r
	}
	return m
}

// sameAnswers checks that two runs recorded the same answers and scores.
func sameAnswers(t *testing.T, syncDir, batchDir string, wantBatch int) {
	t.Helper()
	a, b := byKey(readResponses(t, syncDir)), byKey(readResponses(t, batchDir))
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d trials synchronously, %d through batches", len(a), len(b))
	}
	batched := 0
	for k, ra := range a {
		rb, ok := b[k]
		if !ok || rb.Response != ra.Response || rb.FinishReason != ra.FinishReason || rb.PromptTokens != ra.PromptTokens ||
			rb.CompletionTokens != ra.CompletionTokens || rb.Error != nil {
			t.Fatalf("trial %s differs:\nsync  %+v\nbatch %+v", k, ra, rb)
		}
		if rb.LatencyMS == 7000 && rb.Attempts == 1 { // the fake batch ends 7 s after its creation
			batched++
			if rb.CostUSD != ra.CostUSD/2 {
				t.Errorf("trial %s: batch cost %v, want half of %v", k, rb.CostUSD, ra.CostUSD)
			}
		}
	}
	if batched != wantBatch {
		t.Errorf("%d trials answered by a batch, want %d", batched, wantBatch)
	}
	sa, sb := readScores(t, syncDir), readScores(t, batchDir)
	if len(sa) != len(sb) {
		t.Fatalf("%d score rows synchronously, %d through batches", len(sa), len(sb))
	}
	vals := map[string]float64{}
	for _, s := range sa {
		vals[fmt.Sprint(s.SampleID, s.Model, s.Judge, s.Metric)] = *s.Value
	}
	for _, s := range sb {
		if v, ok := vals[fmt.Sprint(s.SampleID, s.Model, s.Judge, s.Metric)]; !ok || s.Value == nil || *s.Value != v {
			t.Fatalf("score %s %s %s differs", s.SampleID, s.Judge, s.Metric)
		}
	}
}

func TestBatchRunRecordsWhatASynchronousRunRecords(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	c := newCLI(t)
	out := t.TempDir()
	model := "gpt=openai:gpt-4o-mini@" + srv.URL()
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "sync", "--no-cache")
	syncRequests := srv.Requests()
	_, stderr, code := c.run("run", "harmless", "--model", model, "--out", out, "--run-id", "batch", "--batch", "--batch-poll", "5ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if srv.Requests() != syncRequests || srv.Uploads() != 1 || srv.BatchesCreated() != 1 {
		t.Errorf("the batch run sent %d chat requests, %d uploads, %d batches; want 0, 1, 1", srv.Requests()-syncRequests, srv.Uploads(), srv.BatchesCreated())
	}
	// The line README.md shows.
	if !strings.Contains(stderr, "batches: 1 of 1 running (batch_52 in_progress); 0 of 50 requests done, 0 failed") || !strings.Contains(stderr, "batches: all 1 ended") {
		t.Errorf("no status line on stderr:\n%s", stderr)
	}
	sameAnswers(t, filepath.Join(out, "sync"), filepath.Join(out, "batch"), 50)
	// The batch's answers are cached: a synchronous rerun sends nothing.
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "again")
	if srv.Requests() != syncRequests {
		t.Errorf("a rerun after the batch sent %d requests", srv.Requests()-syncRequests)
	}
}

func TestBatchErrorLinesAndExpiryAreRetriedSynchronously(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Batches: benchtest.BatchOptions{
		Expire: true, FailLine: func(id string) bool { return strings.HasSuffix(id, "3") }}})
	c := newCLI(t)
	out := t.TempDir()
	model := "gpt=openai:gpt-4o-mini@" + srv.URL()
	_, stderr, code := c.run("run", "harmless", "--model", model, "--out", out, "--run-id", "batch", "--batch", "--batch-poll", "5ms", "--no-cache")
	if code != 0 || !strings.Contains(stderr, " expired: ") || !strings.Contains(stderr, " error lines, retried synchronously") {
		t.Fatalf("exit %d; the error lines are not reported:\n%s", code, stderr)
	}
	batchAnswered := srv.BatchAnswered()
	sync := srv.AnsweredCounts()
	nb := 0
	for p, n := range batchAnswered {
		nb += n
		if n != 1 || sync[p] != 0 {
			t.Errorf("prompt %.40q: %d batch answers and %d synchronous ones", p, n, sync[p])
		}
	}
	// Half the lines expired unanswered, and the failed lines of the first half.
	if nb == 0 || nb >= 25 || nb+srv.Answered() != 50 {
		t.Errorf("%d answered in the batch, %d synchronously; want fewer than 25 and 50 in all", nb, srv.Answered())
	}
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "sync", "--no-cache")
	sameAnswers(t, filepath.Join(out, "sync"), filepath.Join(out, "batch"), nb)
}

func TestBatchKilledAfterCreationResumesByPolling(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Batches: benchtest.BatchOptions{PollsToEnd: 1 << 30}})
	bin := buildBinary(t)
	out := t.TempDir()
	dir := filepath.Join(out, "killed")
	model := "gpt=openai:gpt-4o-mini@" + srv.URL()
	cmd := exec.Command(bin, "run", "harmless", "overrefusal", "--model", model, "--out", out, "--run-id", "killed", "--batch", "--batch-poll", "20ms", "--no-cache")
	cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir(), "OPENAI_API_KEY=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	created := false
	for !created && time.Now().Before(deadline) {
		bench.ScanJournal(filepath.Join(dir, bench.JournalFile), func(_ int64, e *bench.Entry) error {
			created = created || (e.Batch != nil && e.Batch.State == "created")
			return nil
		})
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a few polls
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	if !created || srv.Uploads() != 1 || srv.BatchesCreated() != 1 {
		t.Fatalf("killed with the batch created %v, %d uploads, %d batches\n%s", created, srv.Uploads(), srv.BatchesCreated(), stderr.String())
	}
	srv.SetBatchOptions(benchtest.BatchOptions{PollsToEnd: 1})
	res := exec.Command(bin, "run", "--resume", dir, "--batch-poll", "5ms")
	res.Env = cmd.Env
	if b, err := res.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	if srv.Uploads() != 1 || srv.BatchesCreated() != 1 || srv.Requests() != 0 {
		t.Errorf("the resume uploaded %d files, created %d batches, sent %d requests; want the one batch polled, nothing sent again",
			srv.Uploads(), srv.BatchesCreated(), srv.Requests())
	}
	for p, n := range srv.BatchAnswered() {
		if n != 1 {
			t.Errorf("prompt %.40q answered %d times", p, n)
		}
	}
	c := newCLI(t)
	c.mustRun("run", "harmless", "overrefusal", "--model", model, "--out", out, "--run-id", "sync", "--no-cache")
	sameAnswers(t, filepath.Join(out, "sync"), dir, 100)
}

// vllmRunBatch does what `vllm run-batch -i in -o out` does, against the
// loopback server: each line's body goes to the chat endpoint, and the
// answer becomes an output line. Lines skip accepts are left out.
func vllmRunBatch(t *testing.T, base, in, out string, skip func(n int) bool) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	n := 0
	for sc.Scan() {
		n++
		var l struct {
			CustomID string          `json:"custom_id"`
			Method   string          `json:"method"`
			URL      string          `json:"url"`
			Body     json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Method != "POST" || l.URL != "/v1/chat/completions" {
			t.Fatalf("line %d of the batch file: %v %s", n, err, sc.Bytes())
		}
		if skip(n) {
			continue
		}
		resp, err := http.Post(strings.TrimSuffix(base, "/v1")+l.URL, "application/json", bytes.NewReader(l.Body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(&w, `{"id":"vllm-%d","custom_id":%q,"response":{"status_code":%d,"request_id":"vllm-batch-%d","body":%s},"error":null}`+"\n",
			n, l.CustomID, resp.StatusCode, n, body)
	}
	if err := os.WriteFile(out, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBatchFileForVLLMAndImportOfItsResults(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "offline")
	model := "llama=openai:meta-llama/Llama-3.1-8B-Instruct@" + srv.URL()
	in := filepath.Join(t.TempDir(), "in.jsonl")
	stdout := c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "offline", "--batch-file", in)
	if !strings.Contains(stdout, "50 requests written to "+in) || !strings.Contains(stdout, "--batch-results results.jsonl --resume "+dir) {
		t.Errorf("--batch-file says:\n%s", stdout)
	}
	if srv.Requests() != 0 {
		t.Fatalf("--batch-file sent %d requests", srv.Requests())
	}
	results := filepath.Join(t.TempDir(), "results.jsonl")
	vllmRunBatch(t, srv.URL(), in, results, func(n int) bool { return n == 7 }) // one line lost
	first := srv.Requests()
	// The model server is gone: the import sends nothing.
	_, stderr, code := c.run("run", "--batch-results", results, "--resume", dir)
	if code != 3 || !strings.Contains(stderr, "1 trials have no answer in "+results) {
		t.Fatalf("an output file with a line missing: exit %d\n%s", code, stderr)
	}
	vllmRunBatch(t, srv.URL(), in, results, func(n int) bool { return n != 7 }) // the lost line, run again
	c.mustRun("run", "--batch-results", results, "--resume", dir)
	if srv.Requests() != first+1 {
		t.Errorf("the imports sent %d requests", srv.Requests()-first-1)
	}
	m, _ := bench.ReadManifest(dir)
	if m.Status != "complete" {
		t.Errorf("status %q", m.Status)
	}
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "sync", "--no-cache")
	a, b := byKey(readResponses(t, filepath.Join(out, "sync"))), byKey(readResponses(t, dir))
	if len(a) != 50 || len(b) != 50 {
		t.Fatalf("%d and %d trials", len(a), len(b))
	}
	for k, ra := range a {
		if rb := b[k]; rb.Response != ra.Response || rb.CompletionTokens != ra.CompletionTokens || rb.Attempts != 1 {
			t.Errorf("trial %s: imported %+v, synchronous %+v", k, rb, ra)
		}
	}
}
