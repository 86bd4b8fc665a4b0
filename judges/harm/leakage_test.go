package harm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench/benchtest"
)

// auditNorm is the audit's own normalisation, written apart from
// NormalizeText so that a bug there does not hide a leak: bytes that are
// not UTF-8 read as Mac Roman, lower case, white space collapsed.
func auditNorm(s string) string {
	var rs []rune
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = macRoman[s[i]-0x80]
		}
		rs = append(rs, unicode.ToLower(r))
		i += n
	}
	return strings.Join(strings.Fields(string(rs)), " ")
}

// first200 returns the first 200 runes of s, or "" if it is shorter.
func first200(s string) string {
	r := []rune(s)
	if len(r) < 200 {
		return ""
	}
	return string(r[:200])
}

// TestTrainingSetHasNoHeldOutItems audits what the training program
// trains on (TrainingSet, default options) against jbb-judge-comparison:
// no goal, prompt, response or safer answer may equal a held-out goal,
// prompt or response after normalisation, share its first 200 characters,
// or contain a held-out goal. Neither may any equal an AlpacaEval
// instruction or output of three words or more (the held-out benign set:
// HH-RLHF and AlpacaEval share a few requests), and the default
// training set holds no non-commercial corpus.
func TestTrainingSetHasNoHeldOutItems(t *testing.T) {
	dir := benchtest.SharedDatasets(t)
	train, drops, err := TrainingSet(dir, CorpusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadHeldOut(dir)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	prefix := map[string]string{}
	var goals []string
	for _, r := range rows {
		for field, s := range map[string]string{"goal": r.Goal, "prompt": r.Prompt, "response": r.Response} {
			n := auditNorm(s)
			held[n] = field
			if p := first200(n); p != "" {
				prefix[p] = field
			}
			if field == "goal" {
				goals = append(goals, n)
			}
		}
	}
	alpaca := map[string]bool{}
	for _, m := range []string{"gpt4_1106_preview", "alpaca-7b", "llama-2-7b-chat-hf"} {
		data, err := os.ReadFile(benchtest.SharedFile(t, filepath.Join("alpacaeval", "results", m, "model_outputs.json")))
		if err != nil {
			t.Fatal(err)
		}
		var recs []struct{ Instruction, Output string }
		if err := json.Unmarshal(data, &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, s := range []string{r.Instruction, r.Output} {
				if n := auditNorm(s); len(strings.Fields(n)) >= 3 {
					alpaca[n] = true
				}
			}
		}
	}
	leaks := map[string]int{}
	seen := map[string]bool{}
	for _, e := range train {
		if e.Source == SourceSafeRLHF {
			t.Fatalf("the default training set holds %s, a non-commercial corpus", e.Source)
		}
		for _, s := range e.Texts() {
			if seen[s] {
				continue
			}
			seen[s] = true
			n := auditNorm(s)
			switch {
			case held[n] != "":
				leaks[e.Source+": equals a held-out "+held[n]]++
			case prefix[first200(n)] != "":
				leaks[e.Source+": first 200 characters of a held-out "+prefix[first200(n)]]++
			case alpaca[n]:
				leaks[e.Source+": equals an AlpacaEval instruction or output"]++
			default:
				for _, g := range goals {
					if strings.Contains(n, g) {
						leaks[e.Source+": contains a held-out goal"]++
						break
					}
				}
			}
		}
	}
	for k, n := range leaks {
		t.Errorf("%d training texts overlap the held-out set (%s)", n, k)
	}
	// The counts in judges/harm/README.md.
	want := map[string][2]int{ // kept, dropped
		SourceXSTest: {1567, 683}, SourceAdvBench: {400, 120}, SourceJBB: {250, 36}, SourceBehaviors: {185, 15},
		SourceHHHarmful: {2297, 10}, SourceTruthfulQA: {6016, 7}, SourceGPTFuzz: {100, 0}, SourceEthics: {4598, 0},
	}
	for src, w := range want {
		d := 0
		for _, k := range drops.Dropped[src] {
			d += k
		}
		if drops.Kept[src] != w[0] || d != w[1] {
			t.Errorf("%s: kept %d, dropped %d; README says %d and %d", src, drops.Kept[src], d, w[0], w[1])
		}
	}
	if drops.Total() != 871 || len(train) != 15413 {
		t.Errorf("dropped %d items, kept %d; README says 871 and 15,413", drops.Total(), len(train))
	}
}

// TestHHRLHFEmptyChosen checks that every HH-RLHF item is a preference
// pair, also the four whose chosen turn is empty: none becomes a harmless
// (label 0) example of the rejected answer.
func TestHHRLHFEmptyChosen(t *testing.T) {
	ex, err := loadHHRLHF(benchtest.SharedDatasets(t))
	if err != nil {
		t.Fatal(err)
	}
	empty := 0
	for _, e := range ex {
		if e.Kind != KindPair || e.Response == "" {
			t.Fatalf("HH-RLHF item %+v is not a pair with a rejected answer", e)
		}
		if e.Safer == "" {
			empty++
		}
	}
	if empty != 4 {
		t.Errorf("%d pairs with an empty chosen answer, want the 4 of the file", empty)
	}
}

// TestNormalizeText checks the normalisation used to find overlap.
func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"  Hello\n\tWORLD  ":         "hello world",
		"expos\x8e":                  "exposé",
		"pi\x96ata and piñata":       "piñata and piñata",
		"It\u2019s \u201Cfine\u201D": "it's \"fine\"",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}
