package datasets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// TestHubPaths checks the routing of hf: paths through HubResolver: shards
// are read in order as one dataset, and a missing resolver, a resolver
// error and an empty split are reported.
func TestHubPaths(t *testing.T) {
	old := datasets.HubResolver
	t.Cleanup(func() { datasets.HubResolver = old })

	datasets.HubResolver = nil
	_, err := datasets.Load("hf:a/b/train", datasets.Mapping{Input: "prompt"}, datasets.Options{})
	var ie *bench.InputError
	if !errors.As(err, &ie) || ie.File != "hf:a/b/train" || !strings.Contains(ie.Msg, "not available") {
		t.Errorf("no resolver: %v", err)
	}

	dir := t.TempDir()
	shard := func(name string, rows []pqRow) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, writeParquet(t, rows), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := shard("0000.parquet", []pqRow{{ID: "1", Prompt: "one"}, {ID: "2", Prompt: "two"}})
	b := shard("0001.parquet", []pqRow{{ID: "3", Prompt: "three"}})
	var asked []string
	datasets.HubResolver = func(spec string) ([]string, error) {
		asked = append(asked, spec)
		switch spec {
		case "hf:o/n/train":
			return []string{a, b}, nil
		case "hf:o/n/empty":
			return nil, nil
		}
		return nil, &bench.InputError{File: spec, Msg: "not found on the Hub (HTTP 404)"}
	}
	samples, err := datasets.Load("hf:o/n/train", datasets.Mapping{ID: "id", Input: "prompt"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range samples {
		got = append(got, s.ID+":"+s.Input)
	}
	if strings.Join(got, " ") != "1:one 2:two 3:three" {
		t.Errorf("samples %v", got)
	}
	sum, err := datasets.Checksum("hf:o/n/train")
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if err != nil || sum != sha256Hex(append(ba, bb...)) {
		t.Errorf("checksum %s, %v", sum, err)
	}
	if _, err := datasets.Load("hf:o/n/missing", datasets.Mapping{Input: "prompt"}, datasets.Options{}); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "404") {
		t.Errorf("resolver error: %v", err)
	}
	if _, err := datasets.Load("hf:o/n/empty", datasets.Mapping{Input: "prompt"}, datasets.Options{}); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "no Parquet files") {
		t.Errorf("empty split: %v", err)
	}
	if len(asked) != 4 {
		t.Errorf("resolver asked %d times: %v", len(asked), asked)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
