package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// TestFlagsGivenOverrideConfigDefaults checks that a flag given on the
// command line wins over the config file's defaults even when its value is
// the flag's own default (--epochs 1, --seed 1): the defaults used to
// replace any value equal to the flag default, and a resume applied them
// again to the options the run had already resolved.
func TestFlagsGivenOverrideConfigDefaults(t *testing.T) {
	c := newCLI(t)
	tmp := t.TempDir()
	other := filepath.Join(tmp, "other")
	cfg := filepath.Join(tmp, "mores.yaml")
	if err := os.WriteFile(cfg, []byte("defaults: {epochs: 3, seed: 7, concurrency: 2, out: "+other+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "runs")
	c.mustRun("run", "quickstart", "--config", cfg, "--epochs", "1", "--seed", "1", "--out", out, "--run-id", "r", "--no-report")
	dir := filepath.Join(out, "r")
	if n := oneRowPerTrial(t, readResponses(t, dir)); n != 80 {
		t.Errorf("--epochs 1 with a config default of 3: %d trials, want 40 samples × 2 models = 80", n)
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seed != 1 || m.Epochs != 1 {
		t.Errorf("manifest seed %d epochs %d, want the given 1 and 1", m.Seed, m.Epochs)
	}
	// A resume replays the run as resolved: no new trial, nothing elsewhere.
	c.mustRun("run", "--resume", dir, "--no-report")
	if n := oneRowPerTrial(t, readResponses(t, dir)); n != 80 {
		t.Errorf("after resume: %d trials, want 80", n)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("the config's default out folder %s was used although --out was given", other)
	}
	// Flags not given take the config's defaults.
	c.mustRun("run", "quickstart", "--config", cfg, "--run-id", "d", "--no-report")
	m, err = bench.ReadManifest(filepath.Join(other, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Seed != 7 || m.Epochs != 3 || m.Counts.Trials != 240 {
		t.Errorf("defaults: seed %d epochs %d trials %d, want 7, 3, 240", m.Seed, m.Epochs, m.Counts.Trials)
	}
}

// TestBadNumericFlagsNameTheFlag checks that a bad number exits 2 with one
// line naming the flag and its value (the message used to list every rule
// at once), NaN included.
func TestBadNumericFlagsNameTheFlag(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct{ flag, value string }{
		{"--epochs", "0"}, {"--concurrency", "-2"}, {"--limit", "-1"}, {"--max-error-rate", "1.5"}, {"--max-error-rate", "NaN"},
	} {
		_, stderr, code := c.run("run", tc.flag, tc.value, "--out", t.TempDir())
		if code != 2 || !strings.Contains(stderr, tc.flag+" "+tc.value+":") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s %s: exit %d, want 2 and one line naming the flag:\n%s", tc.flag, tc.value, code, stderr)
		}
	}
}
