package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// TestCtrlCStopsCleanlyAndKeepsFinishedTrials sends SIGINT mid-run: the
// process exits 3 with a resume hint, the Parquet files hold every finished
// trial, and --resume finishes the run.
func TestCtrlCStopsCleanlyAndKeepsFinishedTrials(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 40 * time.Millisecond})
	bin := buildBinary(t)
	out := t.TempDir()
	dir := filepath.Join(out, "int")
	cmd := exec.Command(bin, "run", "harmless", "overrefusal", "--model", "gpt=openai:m@"+srv.URL(), "--out", out, "--run-id", "int", "--concurrency", "2", "--no-cache")
	cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if journaledEntries(dir) >= 10 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("after SIGINT: %v, want exit 3\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--resume "+dir) {
		t.Errorf("stderr gives no resume hint:\n%s", stderr.String())
	}
	// Not a terminal: no progress bar on stderr.
	if strings.Contains(stderr.String(), "trials/s") || strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress output on a non-terminal stderr:\n%q", stderr.String())
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "interrupted" {
		t.Errorf("manifest status %q, want interrupted", m.Status)
	}
	journaled := 0
	bench.ScanJournal(filepath.Join(dir, bench.JournalFile), func(_ int64, e *bench.Entry) error {
		journaled++
		return nil
	})
	rows := readResponses(t, dir)
	if len(rows) != journaled || journaled < 10 || journaled >= 100 {
		t.Fatalf("responses.parquet holds %d rows, the journal %d; want all finished trials, a partial run", len(rows), journaled)
	}
	for _, r := range rows {
		if r.Error != nil {
			t.Errorf("an interrupted trial was recorded as failed: %s", *r.Error)
		}
	}
	res := exec.Command(bin, "run", "--resume", dir)
	res.Env = cmd.Env
	if b, err := res.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	if n := oneRowPerTrial(t, readResponses(t, dir)); n != 100 {
		t.Errorf("after resume: %d trials, want 100", n)
	}
}
