package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
)

func TestJournalCutsATornTail(t *testing.T) {
	// The plain journal of runs written by earlier versions.
	p := filepath.Join(t.TempDir(), bench.PlainJournalFile)
	j, err := bench.OpenJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		j.Append(&bench.Entry{Kind: bench.EntryTrial, Index: int64(i), SampleID: "s", Model: "m", Epoch: i + 1, Prompt: "p\n<script>"})
	}
	j.Close()
	// A process killed mid-write leaves half a line.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"k":"trial","i":3,"sample_id":"s","mod`)
	f.Close()
	n := 0
	if err := bench.ScanJournal(p, func(_ int64, e *bench.Entry) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("scan of a torn journal: %d entries, %v; want 3, nil", n, err)
	}
	j, err = bench.OpenJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	j.Append(&bench.Entry{Kind: bench.EntryTrial, Index: 3, SampleID: "s", Model: "m", Epoch: 4})
	j.Close()
	var prompts []string
	bench.ScanJournal(p, func(_ int64, e *bench.Entry) error {
		prompts = append(prompts, e.Prompt)
		n++
		return nil
	})
	if len(prompts) != 4 || prompts[0] != "p\n<script>" {
		t.Fatalf("after reopening: %q", prompts)
	}
	b, _ := os.ReadFile(p)
	if strings.Contains(string(b), `"mod{`) || strings.Count(string(b), "\n") != 4 {
		t.Errorf("the torn line was not cut:\n%s", b)
	}
}

func TestWriteResultsKeepsOneRowPerTrialInPlanOrder(t *testing.T) {
	dir := t.TempDir()
	j, _ := bench.OpenJournal(filepath.Join(dir, bench.JournalFile))
	ok := &bench.Completion{Text: "fine", Attempts: 1}
	for _, e := range []*bench.Entry{
		{Kind: bench.EntryTrial, Index: 2, Suite: "s", SampleID: "b", Model: "m", Attack: "none", Epoch: 1, Result: ok, Scores: []bench.Score{{Judge: "j", Metric: "x", Value: 1}}},
		{Kind: bench.EntryTrial, Index: 0, Suite: "s", SampleID: "a", Model: "m", Attack: "none", Epoch: 1, Error: "transient: boom"},
		{Kind: bench.EntryTrial, Index: 2, Suite: "s", SampleID: "b", Model: "m", Attack: "none", Epoch: 1, Result: ok}, // a duplicate
		{Kind: bench.EntryScores, Index: 2, Suite: "s", SampleID: "b", Model: "m", Attack: "none", Epoch: 1, Scores: []bench.Score{{Judge: "k", Metric: "y", Error: "unparseable"}}},
	} {
		j.Append(e)
	}
	j.Close()
	rc, err := bench.WriteResults(dir, "r")
	if err != nil {
		t.Fatal(err)
	}
	if rc.Trials != 2 || rc.Errors != 1 || rc.Scores != 2 || rc.JudgmentErrors != 1 {
		t.Fatalf("counts %+v", rc)
	}
	var rows []bench.ResponseRow
	bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error { rows = append(rows, r); return nil })
	if len(rows) != 2 || rows[0].SampleID != "a" || bench.Deref(rows[0].Error) != "transient: boom" || rows[1].Response != "fine" || rows[1].Error != nil {
		t.Fatalf("responses: %+v", rows)
	}
	var scores []bench.ScoreRow
	bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error { scores = append(scores, r); return nil })
	if len(scores) != 2 || scores[0].Value == nil || *scores[0].Value != 1 || scores[1].Value != nil || bench.Deref(scores[1].Error) != "unparseable" {
		t.Fatalf("scores: %+v", scores)
	}
}

type countingModel struct{ n int }

func (m *countingModel) Generate(_ context.Context, r bench.Request) (bench.Completion, error) {
	m.n++
	return bench.Completion{Text: "answer to " + r.Prompt(), Attempts: 1}, nil
}
func (m *countingModel) CacheKey() string { return "counting" }

func TestCacheServesIdenticalRequestsAndSeparatesEpochs(t *testing.T) {
	dir := t.TempDir()
	c, err := bench.OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	inner := &countingModel{}
	m := bench.WithCache(inner, c)
	req := bench.Request{Messages: []bench.Message{{Role: "user", Content: "hi"}}, Epoch: 1}
	ctx := context.Background()
	m.Generate(ctx, req)
	c.Close() // flushes
	c, _ = bench.OpenCache(dir)
	defer c.Close()
	m = bench.WithCache(inner, c)
	got, _ := m.Generate(ctx, req)
	if inner.n != 1 || !got.Cached || got.Text != "answer to hi" {
		t.Fatalf("second identical request: calls %d, %+v", inner.n, got)
	}
	req.Epoch = 2
	m.Generate(ctx, req)
	req.Epoch = 1
	req.System = "be brief"
	m.Generate(ctx, req)
	if inner.n != 3 {
		t.Errorf("another epoch or system prompt must miss the cache: %d calls, want 3", inner.n)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"openai:gpt@https://user:sk-secret@host/v1":                             "openai:gpt@https://REDACTED@host/v1",
		"openai:gpt@https://sk-secret@host/v1":                                  "openai:gpt@https://REDACTED@host/v1",
		"https://host/v1?api_key=sk-secret&x=1":                                 "https://host/v1?api_key=REDACTED&x=1",
		"https://host/v1?x=1&Access_Token=sk-secret#frag":                       "https://host/v1?x=1&Access_Token=REDACTED#frag",
		"HTTPS://host/v1?sig=sk-secret&max_tokens=5":                            "HTTPS://host/v1?sig=REDACTED&max_tokens=5",
		"https://host/v1?key=sk-secret&token=sk-secret&password=sk-secret":      "https://host/v1?key=REDACTED&token=REDACTED&password=REDACTED",
		"https://host/api?code=sk-secret&client_secret=sk-secret":               "https://host/api?code=REDACTED&client_secret=REDACTED",
		"openai:gpt@http://localhost:8000/v1":                                   "openai:gpt@http://localhost:8000/v1",
		`Post "http://u:sk-secret@h/v1/chat/completions?apikey=sk-secret": EOF`: `Post "http://REDACTED@h/v1/chat/completions?apikey=REDACTED": EOF`,
		"a message with api-key=sk-secret in it":                                "a message with api-key=REDACTED in it",
		"ftp://u:sk-secret@host/x and s3://k:sk-secret@b":                       "ftp://REDACTED@host/x and s3://REDACTED@b",
		"no secret here: max_tokens=5 key-less":                                 "no secret here: max_tokens=5 key-less",
	} {
		got := bench.RedactURL(in)
		if got != want || strings.Contains(got, "sk-secret") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if again := bench.RedactURL(got); again != got {
			t.Errorf("RedactURL is not idempotent: %q → %q", got, again)
		}
	}
}

func TestURLSecrets(t *testing.T) {
	got := bench.URLSecrets("http://us%40er:p%3Ass@host/v1?api_key=a%2Fb&x=1&token=t0k")
	want := []string{"us@er", "p:ss", "us%40er", "p%3Ass", "a%2Fb", "a/b", "t0k"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("URLSecrets = %q, want %q", got, want)
	}
	if s := bench.URLSecrets("http://host/v1?x=1"); s != nil {
		t.Errorf("URLSecrets of a URL without secrets = %q", s)
	}
}

func TestShardsAreDisjointAndCovering(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for k := 0; k < 100; k++ {
			hits := 0
			for i := 1; i <= n; i++ {
				if (bench.Shard{I: i, N: n}).Contains(k) {
					hits++
				}
			}
			if hits != 1 {
				t.Fatalf("sample %d is in %d of %d shards", k, hits, n)
			}
		}
	}
}

func TestInputErrorsSpellOutTwentyProblems(t *testing.T) {
	var es bench.InputErrors
	for i := range 25 {
		es = append(es, &bench.InputError{File: "f.txt", Line: i + 1, Msg: "bad"})
	}
	msg := es.Error()
	if n := strings.Count(msg, "\n") + 1; n != 21 || !strings.HasSuffix(msg, "… and 5 more problems") || !strings.Contains(msg, "f.txt:20:") || strings.Contains(msg, "f.txt:21:") {
		t.Errorf("%d lines:\n%s", n, msg)
	}
}
