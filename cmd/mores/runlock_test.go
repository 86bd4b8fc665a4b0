package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// TestSecondProcessOnARunningRunIsRefused starts a --resume and a judge of
// a run that is still going. Before run directories were locked, the second
// process appended to the same journal at its own offsets, interleaving
// lines: the journal was corrupt in the middle and every later command
// (resume, report, judge) failed on it. Now both exit 2 at once naming the
// directory, and the first run finishes with one row per trial, each asked
// once.
func TestSecondProcessOnARunningRunIsRefused(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 30 * time.Millisecond})
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "busy")
	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, code := c.run("run", "harmless", "--model", "m=openai:m@"+srv.URL(), "--out", out, "--run-id", "busy",
			"--concurrency", "2", "--no-cache", "--no-report")
		done <- result{stderr, code}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if journaledEntries(dir) >= 4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, args := range [][]string{
		{"run", "--resume", dir, "--no-cache", "--no-report"},
		{"judge", dir, "--judge", "harm", "--no-cache"},
		{"run", "harmless", "--model", "m=openai:m@" + srv.URL(), "--out", out, "--run-id", "busy", "--resume", dir},
	} {
		_, stderr, code := c.run(args...)
		if code != 2 || !strings.Contains(stderr, "in use by another mores process") || !strings.Contains(stderr, dir) {
			t.Errorf("mores %s while the run is going: exit %d, want 2 naming the busy directory\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("the first run: exit %d\n%s", r.code, r.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the first run did not finish")
	}
	if err := bench.ScanJournal(filepath.Join(dir, bench.JournalFile), func(int64, *bench.Entry) error { return nil }); err != nil {
		t.Fatalf("journal: %v", err)
	}
	if n := oneRowPerTrial(t, readResponses(t, dir)); n != 50 {
		t.Errorf("%d trials, want 50", n)
	}
	for p, n := range srv.PromptCounts() {
		if n != 1 {
			t.Errorf("prompt asked %d times, want once: %.60q", n, p)
		}
	}
	// Once the run is over, the directory is free again.
	c.mustRun("judge", dir, "--judge", "harm", "--no-cache")
}
