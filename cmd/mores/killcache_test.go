package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// TestSIGKILLResumeThenRerunSendsNothing: an answer journaled before a
// kill -9 is in the response cache too (the cache commits before the
// journal writes), so after the resume completes, an identical rerun is
// served from the cache whole and sends no request.
func TestSIGKILLResumeThenRerunSendsNothing(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 20 * time.Millisecond})
	bin := buildBinary(t)
	out := t.TempDir()
	cache := t.TempDir()
	dir := filepath.Join(out, "killed")
	model := "gpt=openai:test-model@" + srv.URL()
	env := append(os.Environ(), "MORES_CACHE_DIR="+cache)
	cmd := exec.Command(bin, "run", "harmless", "overrefusal", "--model", model, "--out", out, "--run-id", "killed", "--concurrency", "4", "--no-report")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(dir, bench.JournalFile)); bytes.Count(b, []byte("\n")) >= 30 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	n := 0
	bench.ScanJournal(filepath.Join(dir, bench.JournalFile), func(int64, *bench.Entry) error { n++; return nil })
	if n < 30 || n >= 100 {
		t.Fatalf("killed with %d trials journaled; the test wants a kill mid-run", n)
	}
	res := exec.Command(bin, "run", "--resume", dir)
	res.Env = env
	if b, err := res.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	before := srv.Requests()
	again := exec.Command(bin, "run", "harmless", "overrefusal", "--model", model, "--out", out, "--run-id", "again", "--concurrency", "4", "--no-report")
	again.Env = env
	b, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, b)
	}
	if sent := srv.Requests() - before; sent != 0 {
		t.Errorf("the rerun after a completed resume sent %d requests, want 0 (answers journaled before the kill were not cached):\n%s", sent, b)
	}
}
