package rule_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// TestChoiceSeveralCorrect checks MC1-style accuracy on items with several
// correct options: any letter listed in the targets field is correct.
func TestChoiceSeveralCorrect(t *testing.T) {
	j := mustJudge(t, "choice", nil)
	mammals := &bench.Sample{ID: "tq-012", Choices: []string{"Dolphin", "Shark", "Bat", "Penguin"}, Target: "A",
		Fields: map[string]string{"targets": "A,C"}}
	noTarget := &bench.Sample{ID: "nt", Choices: mammals.Choices, Fields: map[string]string{"targets": " C , 0 "}}
	for _, tc := range []struct {
		s     *bench.Sample
		text  string
		value float64
		label string
	}{
		{mammals, "A", 1, "A"},
		{mammals, "The answer is C.", 1, "C"},
		{mammals, "Bat", 1, "C"},
		{mammals, "B", 0, "B"},
		{mammals, "D", 0, "D"},
		{mammals, "The answer is A or C.", 0, "ambiguous"},
		{mammals, "I don't know", 0, "none"},
		{noTarget, "C", 1, "C"},
		{noTarget, "A", 1, "A"},
		{noTarget, "B", 0, "B"},
	} {
		scores, err := j.Score(context.Background(), bench.Trial{Sample: tc.s}, bench.Completion{Text: tc.text})
		if err != nil || len(scores) != 1 {
			t.Fatalf("%q: %v %v", tc.text, scores, err)
		}
		s := scores[0]
		if s.Error != "" || s.Value != tc.value || s.Label != tc.label {
			t.Errorf("%s %q: %+v, want %v %s", tc.s.ID, tc.text, s, tc.value, tc.label)
		}
		if tc.s == mammals && !strings.Contains(s.Explanation, "(correct: A, C)") {
			t.Errorf("explanation %q does not list the correct letters", s.Explanation)
		}
	}

	// targets_field "" scores against the Target alone; another name reads
	// that field.
	only := mustJudge(t, "choice", map[string]any{"targets_field": ""})
	if s, _ := only.Score(context.Background(), bench.Trial{Sample: mammals}, bench.Completion{Text: "C"}); s[0].Value != 0 {
		t.Errorf("targets_field \"\": C scored %+v", s[0])
	}
	other := mustJudge(t, "choice", map[string]any{"targets_field": "also"})
	alt := &bench.Sample{ID: "alt", Choices: mammals.Choices, Target: "A", Fields: map[string]string{"also": "D", "targets": "C"}}
	if s, _ := other.Score(context.Background(), bench.Trial{Sample: alt}, bench.Completion{Text: "D"}); s[0].Value != 1 {
		t.Errorf("targets_field also: D scored %+v", s[0])
	}
	if s, _ := other.Score(context.Background(), bench.Trial{Sample: alt}, bench.Completion{Text: "C"}); s[0].Value != 0 {
		t.Errorf("targets_field also: C scored %+v", s[0])
	}

	bad := &bench.Sample{ID: "bad", Choices: mammals.Choices, Target: "A", Fields: map[string]string{"targets": "A,Q"}}
	if s, _ := j.Score(context.Background(), bench.Trial{Sample: bad}, bench.Completion{Text: "A"}); !strings.Contains(s[0].Error, "field targets") {
		t.Errorf("bad targets: %+v", s[0])
	}
}

// TestChoiceBuiltinTruthfulTargets answers every item of the built-in
// truthful data with each of its correct letters, then with each wrong one.
func TestChoiceBuiltinTruthfulTargets(t *testing.T) {
	samples, err := datasets.Load("builtin:truthful", datasets.Mapping{ID: "id", Input: "question", Choices: "choices", Target: "target"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := mustJudge(t, "choice", nil)
	multi, right, wrong := 0, 0, 0
	for i := range samples {
		s := &samples[i]
		correct := map[string]bool{strings.ToUpper(s.Target): true}
		if ts := s.Fields["targets"]; ts != "" {
			multi++
			for _, l := range strings.Split(ts, ",") {
				correct[strings.TrimSpace(l)] = true
			}
		}
		for k := range s.Choices {
			l := string(rune('A' + k))
			scores, err := j.Score(context.Background(), bench.Trial{Sample: s}, bench.Completion{Text: "Answer: " + l})
			if err != nil || scores[0].Error != "" {
				t.Fatalf("%s: %v %v", s.ID, scores, err)
			}
			if got := scores[0].Value == 1; got != correct[l] {
				t.Errorf("%s answer %s: accuracy %v, want %v", s.ID, l, scores[0].Value, correct[l])
			}
			if correct[l] {
				right++
			} else {
				wrong++
			}
		}
	}
	if multi != 7 || len(samples) != 43 {
		t.Errorf("%d items, %d with several correct options; want 43 and 7", len(samples), multi)
	}
	t.Logf("%d items (%d with several correct options): %d correct and %d wrong letters checked", len(samples), multi, right, wrong)
}
