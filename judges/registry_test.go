package judges_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges"
)

func TestKnownHasRuleJudges(t *testing.T) {
	known := judges.Known()
	if !slices.IsSorted(known) {
		t.Errorf("Known() is not sorted: %v", known)
	}
	for _, n := range []string{"choice", "exact", "includes", "refusal", "regex"} {
		if !slices.Contains(known, n) {
			t.Errorf("Known() = %v lacks %s", known, n)
		}
	}
}

func TestNewRuleJudge(t *testing.T) {
	j, err := judges.New(bench.JudgeSpec{Name: "refusal", Options: map[string]any{"mode": "prefix"}}, judges.Env{})
	if err != nil {
		t.Fatal(err)
	}
	jj, ok := j.(bench.Judge)
	if !ok {
		t.Fatalf("refusal is a %T, not a bench.Judge", j)
	}
	sc, err := jj.Score(context.Background(), bench.Trial{}, bench.Completion{Text: "I'm sorry, no."})
	if err != nil || len(sc) != 1 || sc[0].Value != 1 || sc[0].Label != "refusal" {
		t.Errorf("score %+v, %v", sc, err)
	}
}

func TestNewUnknownJudge(t *testing.T) {
	_, err := judges.New(bench.JudgeSpec{Name: "refusals", Line: 14}, judges.Env{})
	var ie *bench.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an InputError", err)
	}
	if ie.Field != "judges" || ie.Line != 14 || !strings.Contains(ie.Msg, `"refusals"`) || !strings.Contains(ie.Msg, strings.Join(judges.Known(), ", ")) {
		t.Errorf("got %+v", ie)
	}
	ie.File = "suite.yaml"
	if got := ie.Error(); !strings.HasPrefix(got, "suite.yaml:14: judges: unknown judge") {
		t.Errorf("message %q", got)
	}
}

func TestNewBadOptions(t *testing.T) {
	tests := []struct {
		spec  bench.JudgeSpec
		field string
		msg   string
	}{
		{bench.JudgeSpec{Name: "regex", Options: map[string]any{"pattern": "("}, Line: 7}, "judges.regex.pattern", "missing closing )"},
		{bench.JudgeSpec{Name: "regex", Line: 8}, "judges.regex.pattern", "required"},
		{bench.JudgeSpec{Name: "refusal", Options: map[string]any{"mood": "x"}, Line: 9}, "judges.refusal.mood", "unknown option"},
		{bench.JudgeSpec{Name: "choice", Options: map[string]any{"num_choices": "four"}, Line: 10}, "judges.choice.num_choices", "whole number"},
	}
	for _, tt := range tests {
		_, err := judges.New(tt.spec, judges.Env{})
		var ie *bench.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%+v: got %v, want an InputError", tt.spec, err)
			continue
		}
		if ie.Line != tt.spec.Line || ie.Field != tt.field || !strings.Contains(ie.Msg, tt.msg) {
			t.Errorf("%+v: got %+v, want line %d, field %s, %q", tt.spec, ie, tt.spec.Line, tt.field, tt.msg)
		}
	}
}

type pairJudge struct{}

func (pairJudge) Name() string { return "test-pair" }
func (pairJudge) ScorePair(context.Context, bench.Trial, bench.Trial, bench.Completion, bench.Completion) ([]bench.Score, error) {
	return nil, nil
}

func TestRegister(t *testing.T) {
	var gotEnv judges.Env
	judges.Register("test-pair", func(spec bench.JudgeSpec, env judges.Env) (any, error) {
		gotEnv = env
		if _, ok := spec.Options["fail"]; ok {
			return nil, errors.New("model unreachable")
		}
		if _, ok := spec.Options["bad"]; ok {
			return nil, &bench.InputError{Msg: "bad option"}
		}
		if _, ok := spec.Options["wrong"]; ok {
			return "not a judge", nil
		}
		return pairJudge{}, nil
	})
	if !slices.Contains(judges.Known(), "test-pair") {
		t.Fatal("registered judge not known")
	}
	j, err := judges.New(bench.JudgeSpec{Name: "test-pair"}, judges.Env{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.(bench.PairJudge); !ok || gotEnv.Seed != 42 {
		t.Errorf("got %T, env %+v", j, gotEnv)
	}
	if _, err := judges.New(bench.JudgeSpec{Name: "test-pair", Options: map[string]any{"fail": true}}, judges.Env{}); err == nil || !strings.Contains(err.Error(), "judge test-pair: model unreachable") {
		t.Errorf("factory error: %v", err)
	}
	_, err = judges.New(bench.JudgeSpec{Name: "test-pair", Options: map[string]any{"bad": true}, Line: 3}, judges.Env{})
	var ie *bench.InputError
	if !errors.As(err, &ie) || ie.Line != 3 || ie.Field != "judges.test-pair" {
		t.Errorf("input error without line or field: %+v", err)
	}
	if _, err := judges.New(bench.JudgeSpec{Name: "test-pair", Options: map[string]any{"wrong": true}}, judges.Env{}); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("non-judge result: %v", err)
	}

	for _, bad := range []func(){
		func() {
			judges.Register("test-pair", func(bench.JudgeSpec, judges.Env) (any, error) { return nil, nil })
		},
		func() { judges.Register("", func(bench.JudgeSpec, judges.Env) (any, error) { return nil, nil }) },
		func() { judges.Register("test-nil", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			bad()
		}()
	}
}
