package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/replay"
)

func TestReplayMatchesByIDThenPrompt(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	os.WriteFile(p, []byte("idx,question,reply\n1,What is 2+2?,4\n2,\"Say \"\"hi\"\"\",hi\n"), 0o644)
	m, err := replay.New(p+"?id=idx&prompt=question&response=reply", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := m.Generate(ctx, bench.Request{SampleID: "2"})
	if err != nil || c.Text != "hi" {
		t.Fatalf("by id: %q, %v", c.Text, err)
	}
	c, err = m.Generate(ctx, bench.Request{SampleID: "zz", Messages: []bench.Message{{Role: "user", Content: " What is 2+2? "}}})
	if err != nil || c.Text != "4" {
		t.Fatalf("by prompt: %q, %v", c.Text, err)
	}
	if _, err := m.Generate(ctx, bench.Request{SampleID: "nope", Messages: []bench.Message{{Role: "user", Content: "?"}}}); err == nil || bench.KindOf(err) != bench.Fatal {
		t.Errorf("missing output: %v, want a fatal error", err)
	}
	if _, err := replay.New(p+"?colour=red", nil); err == nil || !strings.Contains(err.Error(), `unknown option "colour"`) {
		t.Errorf("bad option: %v", err)
	}
	if _, err := replay.New(p, nil); err == nil || !strings.Contains(err.Error(), "no response column") {
		t.Errorf("no response column: %v", err)
	}
}

func TestReplayRealAlpacaEvalOutputs(t *testing.T) {
	p := benchtest.SharedFile(t, "alpacaeval/results/gpt4_1106_preview/model_outputs.json")
	m, err := replay.New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 805 {
		t.Fatalf("%d outputs, want 805", m.Len())
	}
	c, err := m.Generate(context.Background(), bench.Request{Messages: []bench.Message{{Role: "user", Content: "How did US states get their names?"}}})
	if err != nil || len(c.Text) < 100 {
		t.Fatalf("%q, %v", c.Text, err)
	}
}
