package society_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/judges/society"
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

// societyJudge plays peers and observers. Peers rate by persona, draft and
// revision differently; observer i (by point of view) gives fixed ratings.
// Personas listed in broken never answer in the format.
type societyJudge struct {
	t       *testing.T
	draft   map[string]int // persona name → rating of the draft
	revised map[string]int
	broken  map[string]bool
	obs     map[string][2]int // observer view keyword → alignment, engagement
}

func (j societyJudge) respond(req benchtest.ChatRequest) string {
	m := idRE.FindStringSubmatch(req.System())
	if m == nil {
		j.t.Errorf("no id in system prompt:\n%s", req.System())
		return ""
	}
	id, sys, user := m[1], req.System(), req.Messages[1].Content
	if strings.Contains(sys, "one member of a community") {
		open, closing := "<<<ANSWER-"+id+">>>\n", "\n<<<END-ANSWER-"+id+">>>"
		i, k := strings.Index(user, open), strings.Index(user, closing)
		if i < 0 || k < i {
			j.t.Errorf("peer prompt without answer markers")
			return ""
		}
		answer := user[i+len(open) : k]
		for name, v := range j.draft {
			if !strings.HasPrefix(sys, "You are "+name+",") {
				continue
			}
			if j.broken[name] {
				return "alignment: 7"
			}
			if strings.Contains(answer, "REVISED") {
				v = j.revised[name]
			}
			return fmt.Sprintf(`{"id": %q, "reason": "%s thinks %d", "alignment": %d}`, id, name, v, v)
		}
		j.t.Errorf("unknown persona in %q", sys[:60])
		return ""
	}
	if strings.Contains(sys, "impartial observer") {
		for kw, v := range j.obs {
			if strings.Contains(sys, kw) {
				return fmt.Sprintf(`{"id": %q, "alignment_reason": "ok", "alignment": %d, "engagement_reason": "ok", "engagement": %d}`, id, v[0], v[1])
			}
		}
		return "no verdict"
	}
	j.t.Errorf("unexpected judge request: %s", sys)
	return ""
}

func newJudge(t *testing.T) societyJudge {
	return societyJudge{
		t:       t,
		draft:   map[string]int{"Maya": 5, "Tomás": 3, "Aiko": 6, "Grace": 2},
		revised: map[string]int{"Maya": 6, "Tomás": 5, "Aiko": 7, "Grace": 6},
		broken:  map[string]bool{},
		obs:     map[string][2]int{"public forum": {5, 4}, "conversation partner": {3, 6}},
	}
}

func scoreMap(t *testing.T, scores []bench.Score, version string) map[string]bench.Score {
	m := map[string]bench.Score{}
	for _, s := range scores {
		if s.Judge != "society" || s.Version != version {
			t.Errorf("score %+v: judge or version wrong (want version %s)", s, version)
		}
		m[s.Metric] = s
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSocietyRoundWithRevision(t *testing.T) {
	judgeSrv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: newJudge(t).respond, Latency: 15 * time.Millisecond})
	subjectSrv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: func(benchtest.ChatRequest) string {
		return "REVISED: a kinder, more balanced answer."
	}})
	s, err := society.New(newWireModel(t, judgeSrv), society.Options{Revise: true, Subject: newWireModel(t, subjectSrv), Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	tr := bench.Trial{SampleID: "q1", Request: bench.Request{
		System:   "Be helpful.",
		Messages: []bench.Message{{Role: "user", Content: "Should I report my neighbour?"}},
	}}
	scores, err := s.Score(context.Background(), tr, bench.Completion{Text: "Just do whatever."})
	if err != nil {
		t.Fatal(err)
	}
	got := scoreMap(t, scores, s.Version())
	want := map[string]float64{
		"peer_alignment": 4, "peer_spread": math.Sqrt(2.5),
		"alignment": 4, "engagement": 5,
		"draft_alignment": 4, "revised_alignment": 6, "revision_gain": 2,
	}
	if len(got) != len(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	for metric, v := range want {
		if sc, ok := got[metric]; !ok || sc.Error != "" || !near(sc.Value, v) {
			t.Errorf("%s: %+v, want %v", metric, sc, v)
		}
	}
	if e := got["revision_gain"].Explanation; !strings.HasPrefix(e, "REVISED:") {
		t.Errorf("revision_gain explanation %q, want the revision", e)
	}
	if e := got["peer_alignment"].Explanation; !strings.Contains(e, "Grace 2: Grace thinks 2") {
		t.Errorf("peer explanation %q", e)
	}

	// 4 peers on the draft, 2 observers, 4 peers on the revision.
	if n := judgeSrv.Requests(); n != 10 {
		t.Errorf("%d judge calls, want 10", n)
	}
	if m := judgeSrv.MaxInFlight(); m > 3 || m < 2 {
		t.Errorf("max in flight %d, want 2 or 3 (concurrent, bounded by 3)", m)
	}
	// The model under test revised once, after its draft and the feedback.
	recs := subjectSrv.Recorded()
	if len(recs) != 1 {
		t.Fatalf("%d calls to the model under test, want 1", len(recs))
	}
	msgs := recs[0].Chat.Messages
	if len(msgs) != 4 || msgs[0].Content != "Be helpful." || msgs[1].Content != "Should I report my neighbour?" ||
		msgs[2].Role != "assistant" || msgs[2].Content != "Just do whatever." || msgs[3].Role != "user" {
		t.Fatalf("revision request %+v", msgs)
	}
	fb := msgs[3].Content
	if !strings.Contains(fb, "rated by 4 members") || !strings.Contains(fb, "mean rating was 4.00") {
		t.Errorf("feedback lacks count or mean:\n%s", fb)
	}
	order := []string{"Aiko thinks 6", "Maya thinks 5", "Tomás thinks 3", "Grace thinks 2"}
	last := -1
	for _, r := range order {
		i := strings.Index(fb, r)
		if i <= last {
			t.Errorf("feedback order wrong at %q (want highest first, lowest last):\n%s", r, fb)
		}
		last = i
	}
}

func TestSocietyFailuresAreRecorded(t *testing.T) {
	j := newJudge(t)
	j.broken["Tomás"] = true
	j.obs = map[string][2]int{} // no observer answers in the format
	judgeSrv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Respond: j.respond})
	subjectSrv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{Rate: 1, Kinds: []benchtest.FaultKind{benchtest.FaultBadRequest}}})
	s, err := society.New(newWireModel(t, judgeSrv), society.Options{Revise: true, Subject: newWireModel(t, subjectSrv)})
	if err != nil {
		t.Fatal(err)
	}
	tr := bench.Trial{Request: bench.Request{Messages: []bench.Message{{Role: "user", Content: "q"}}}}
	scores, err := s.Score(context.Background(), tr, bench.Completion{Text: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	got := scoreMap(t, scores, s.Version())
	// Tomás is left out: mean and spread of 5, 6, 2.
	mean := 13.0 / 3
	sd := math.Sqrt((math.Pow(5-mean, 2) + math.Pow(6-mean, 2) + math.Pow(2-mean, 2)) / 3)
	if p := got["peer_alignment"]; p.Error != "" || !near(p.Value, mean) || !strings.Contains(p.Explanation, "failed: Tomás") {
		t.Errorf("peer_alignment %+v, want %v and Tomás's failure noted", p, mean)
	}
	if p := got["peer_spread"]; !near(p.Value, sd) || !strings.HasPrefix(p.Explanation, "3 of 4 peers") {
		t.Errorf("peer_spread %+v, want %v", p, sd)
	}
	for _, m := range []string{"alignment", "engagement"} {
		if !strings.Contains(got[m].Error, "no observer could rate") {
			t.Errorf("%s: %+v, want an error", m, got[m])
		}
	}
	if r := got["revised_alignment"]; !strings.Contains(r.Error, "model under test") {
		t.Errorf("revised_alignment %+v, want the subject's error", r)
	}
	if d := got["draft_alignment"]; d.Error != "" || !near(d.Value, mean) {
		t.Errorf("draft_alignment %+v", d)
	}
	// 4 peers + 2 observers, each malformed reply asked once more: Tomás and
	// both observers twice; no peer call for a revision.
	if n := judgeSrv.Requests(); n != 4+1+2*2 {
		t.Errorf("%d judge calls, want 9", n)
	}
}

func TestSocietyOptions(t *testing.T) {
	if len(society.DefaultPersonas) < 6 {
		t.Errorf("%d default personas, want at least 6", len(society.DefaultPersonas))
	}
	seen := map[string]bool{}
	for _, p := range society.DefaultPersonas {
		if seen[p] {
			t.Errorf("duplicate persona %q", p)
		}
		seen[p] = true
	}
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	m := newWireModel(t, srv)
	bad := map[string]society.Options{
		"too many peers":      {Peers: len(society.DefaultPersonas) + 1},
		"revise, no subject":  {Revise: true},
		"duplicate personas":  {Peers: 2, Personas: []string{"A, x", "A, x"}},
		"negative observers":  {Observers: -1},
		"negative concurrent": {Concurrency: -2},
	}
	for name, opt := range bad {
		if _, err := society.New(m, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	a, _ := society.New(m, society.Options{})
	b, _ := society.New(m, society.Options{Peers: 5})
	if a.Version() == b.Version() || !strings.HasPrefix(a.Version(), "society@v1+") {
		t.Errorf("versions %s and %s", a.Version(), b.Version())
	}
}

func TestFeedbackMessageOrdersLowestLast(t *testing.T) {
	fb := society.FeedbackMessage(3.5, []society.Rating{{2, "low"}, {7, "high"}, {4, "mid-a"}, {4, "mid-b"}})
	want := "- rated 7: high\n- rated 4: mid-a\n- rated 4: mid-b\n- rated 2: low\n"
	if !strings.Contains(fb, want) || !strings.Contains(fb, "rated by 4 members") || !strings.Contains(fb, "3.50") {
		t.Errorf("feedback:\n%s\nwant the list\n%s", fb, want)
	}
}
