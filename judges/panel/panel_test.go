package panel_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/bench/stats"
	"github.com/mores-eval/mores/judges/llm"
	"github.com/mores-eval/mores/judges/panel"
)

// newWireModel returns a model served by benchtest's loopback server
// through the openai provider.
func newWireModel(t testing.TB, srv *benchtest.OpenAIServer) bench.Model {
	t.Helper()
	m, err := openai.New(openai.Config{Model: "m", BaseURL: srv.URL(), APIKey: "k", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var idRE = regexp.MustCompile(`\{"id": "([0-9a-f]{16})"`)

// judgeServer starts a loopback judge whose verdict fields come from
// verdict(response), with the id taken from the system prompt.
func judgeServer(t *testing.T, verdict func(response string) string) bench.Model {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(req benchtest.ChatRequest) string {
		m := idRE.FindStringSubmatch(req.System())
		if m == nil {
			t.Errorf("no id in the system prompt")
			return ""
		}
		user := req.Messages[1].Content
		open, closing := "<<<RESPONSE-"+m[1]+">>>\n", "\n<<<END-RESPONSE-"+m[1]+">>>"
		i, j := strings.Index(user, open), strings.Index(user, closing)
		if i < 0 || j < i {
			t.Errorf("no response markers")
			return ""
		}
		fields := verdict(user[i+len(open) : j])
		if fields == "" {
			return "I refuse to answer in JSON."
		}
		return fmt.Sprintf(`{"id": %q, %s}`, m[1], fields)
	}})
	return newWireModel(t, srv)
}

func jailbreakMember(t *testing.T, name string, unsafeWhen string) bench.Judge {
	j, err := llm.NewJailbreak(judgeServer(t, func(resp string) string {
		v := "safe"
		if strings.Contains(resp, unsafeWhen) {
			v = "unsafe"
		}
		return fmt.Sprintf(`"reason": "r", "verdict": %q`, v)
	}), llm.Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func rubricMember(t *testing.T, name string, align, engage int) bench.Judge {
	r, err := llm.NewRubric(judgeServer(t, func(string) string {
		if align == 0 {
			return ""
		}
		return fmt.Sprintf(`"alignment_reason": "a", "alignment": %d, "engagement_reason": "e", "engagement": %d`, align, engage)
	}), llm.Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func trial() bench.Trial {
	return bench.Trial{SampleID: "s1", Request: bench.Request{Messages: []bench.Message{{Role: "user", Content: "q"}}}}
}

func byJudgeMetric(scores []bench.Score) map[string]bench.Score {
	m := map[string]bench.Score{}
	for _, s := range scores {
		m[s.Judge+" "+s.Metric] = s
	}
	return m
}

func TestPanelMeanWithFailingMember(t *testing.T) {
	p, err := panel.New([]bench.Judge{
		rubricMember(t, "r1", 3, 2),
		rubricMember(t, "r2", 6, 4),
		rubricMember(t, "broken", 0, 0), // never answers in the format
	}, "mean")
	if err != nil {
		t.Fatal(err)
	}
	scores, err := p.Score(context.Background(), trial(), bench.Completion{Text: "answer"})
	if err != nil {
		t.Fatal(err)
	}
	got := byJudgeMetric(scores)
	checks := []struct {
		key  string
		want float64
	}{
		{"panel alignment", 4.5}, {"panel alignment_spread", 1.5},
		{"panel engagement", 3}, {"panel engagement_spread", 1},
		{"panel/r1 alignment", 3}, {"panel/r2 alignment", 6}, {"panel/r2 engagement", 4},
	}
	for _, c := range checks {
		s, ok := got[c.key]
		if !ok || s.Error != "" || math.Abs(s.Value-c.want) > 1e-12 {
			t.Errorf("%s: %+v (present %v), want %v", c.key, s, ok, c.want)
		}
	}
	if s := got["panel/broken alignment"]; !strings.Contains(s.Error, "unparseable verdict") {
		t.Errorf("broken member: %+v, want its parse error recorded", s)
	}
	if s := got["panel/r1 alignment"]; !strings.HasPrefix(s.Version, "rubric@v1+") {
		t.Errorf("member score lost its version: %+v", s)
	}
	if len(scores) != 2*(2+3) {
		t.Errorf("%d scores, want 10: %+v", len(scores), scores)
	}
}

func TestPanelMajority(t *testing.T) {
	members := []bench.Judge{
		jailbreakMember(t, "j1", "Step"),
		jailbreakMember(t, "j2", "Step"),
		jailbreakMember(t, "j3", "never"),
	}
	p, err := panel.New(members, "majority")
	if err != nil {
		t.Fatal(err)
	}
	scores, err := p.Score(context.Background(), trial(), bench.Completion{Text: "Step 1: ..."})
	if err != nil {
		t.Fatal(err)
	}
	got := byJudgeMetric(scores)
	if s := got["panel jailbroken"]; s.Value != 1 || s.Label != "unsafe" {
		t.Errorf("majority %+v, want 1 unsafe", s)
	}
	if s := got["panel jailbroken_spread"]; math.Abs(s.Value-1.0/3) > 1e-12 {
		t.Errorf("spread %+v, want 1/3", s)
	}

	// A 1–1 split of a binary verdict is undecided: 0.5, no label.
	even, _ := panel.New(members[1:], "majority")
	scores, err = even.Score(context.Background(), trial(), bench.Completion{Text: "Step 1: ..."})
	if err != nil {
		t.Fatal(err)
	}
	if s := byJudgeMetric(scores)["panel jailbroken"]; s.Value != 0.5 || s.Label != "" {
		t.Errorf("tie %+v, want 0.5 without label", s)
	}
}

func TestNewRejectsBadPanels(t *testing.T) {
	a := jailbreakMember(t, "same", "x")
	if _, err := panel.New([]bench.Judge{a}, "median"); err == nil {
		t.Error("unknown aggregation accepted")
	}
	if _, err := panel.New([]bench.Judge{a, a}, "mean"); err == nil {
		t.Error("duplicate member names accepted")
	}
	if _, err := panel.New(nil, "mean"); err == nil {
		t.Error("empty panel accepted")
	}
}

func TestAgreement(t *testing.T) {
	// Three trials, two members; the third member fails on every trial.
	data := [][]float64{{1, 4, 7, 2}, {2, 4, 6, 2}}
	var trials [][]bench.Score
	for u := range data[0] {
		scores := []bench.Score{{Judge: "panel", Metric: "alignment", Value: 99}}
		for r, row := range data {
			scores = append(scores, bench.Score{Judge: fmt.Sprintf("panel/m%d", r), Metric: "alignment", Value: row[u]})
		}
		scores = append(scores, bench.Score{Judge: "panel/m9", Metric: "alignment", Error: "x"})
		trials = append(trials, scores)
	}
	want, err := stats.KrippendorffAlpha(data, stats.Interval)
	if err != nil {
		t.Fatal(err)
	}
	got := panel.Agreement(trials, stats.Interval)
	if len(got) != 1 || got[0].Err != nil || math.Abs(got[0].Alpha-want) > 1e-12 || got[0].Units != 4 || got[0].Raters != 2 {
		t.Errorf("agreement %+v, want alpha %v over 4 units and 2 raters", got, want)
	}
	if want >= 1 || want < 0.8 {
		t.Errorf("alpha %v: the fixture should agree well but not perfectly", want)
	}
}
