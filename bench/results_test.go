package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// referenceResults is the obvious implementation of WriteResults, holding
// the whole journal in memory: decode every line with encoding/json, keep
// the first entry of each trial key, sort by plan index (stable, so in
// journal order within an index).
func referenceResults(t *testing.T, path string) ([]string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".zst") {
		// A zstd journal is one zstd stream: any decoder reads it whole.
		d, _ := zstd.NewReader(nil)
		if b, err = d.DecodeAll(b, nil); err != nil {
			t.Fatal(err)
		}
	}
	var entries []Entry
	seen := map[TrialKey]bool{}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == EntryTrial {
			if seen[e.Key()] {
				continue
			}
			seen[e.Key()] = true
		}
		entries = append(entries, e)
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return int(a.Index - b.Index) })
	var resp, scores []string
	for _, e := range entries {
		if e.Kind == EntryTrial {
			text := ""
			if e.Result != nil {
				text = e.Result.Text
			}
			resp = append(resp, fmt.Sprint(e.SampleID, "|", e.Model, "|", e.Epoch, "|", len(e.Prompt), "|", text, "|", e.Error))
		}
		for _, s := range e.Scores {
			scores = append(scores, fmt.Sprint(e.SampleID, "|", e.Model, "|", e.Epoch, "|", s.Judge, "|", s.Metric, "|", s.Value, "|", s.Error))
		}
	}
	return resp, scores
}

func TestWriteResultsMatchesTheInMemoryReference(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	entry := func(i int) *Entry {
		e := &Entry{Kind: EntryTrial, Index: int64(i), Suite: "s", SampleID: fmt.Sprintf("x%04d", i/4), Model: []string{"a", "b"}[i%2],
			Attack: "none", Epoch: 1 + (i/2)%2, Prompt: "p\"\n" + strings.Repeat("w", rng.IntN(3000)),
			Result: &Completion{Text: fmt.Sprint("answer ", i), Attempts: 1},
			Scores: []Score{{Judge: "refusal", Metric: "refusal", Value: float64(i % 2)}}}
		if i%97 == 0 {
			e.Result, e.Error, e.Scores = nil, "transient: boom", nil
		}
		return e
	}
	// Three shards' journals concatenated (as mores merge writes them),
	// each written nearly in plan order by concurrent workers.
	const n = 6000
	for shard := 0; shard < 3; shard++ {
		var idx []int
		for i := shard; i < n; i += 3 {
			idx = append(idx, i)
		}
		for k := range idx {
			if w := k + rng.IntN(8); w < len(idx) {
				idx[k], idx[w] = idx[w], idx[k]
			}
		}
		for _, i := range idx {
			if err := j.Append(entry(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A resumed run journaling some trials again, pair-judge scores added
	// later, and one entry larger than a read chunk.
	for i := 0; i < n; i += 50 {
		e := entry(i)
		e.Result = &Completion{Text: "a second answer that must not be kept"}
		j.Append(e)
		j.Append(&Entry{Kind: EntryScores, Index: int64(i), Suite: "s", SampleID: e.SampleID, Model: e.Model, Attack: "none",
			Epoch: e.Epoch, Scores: []Score{{Judge: "pairwise:vs=b", Metric: "win", Value: 0.5}}})
	}
	big := entry(n)
	big.Prompt = strings.Repeat("long prompt ", resultsChunk/6)
	j.Append(big)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	rc, err := WriteResults(dir, "r")
	if err != nil {
		t.Fatal(err)
	}
	wantResp, wantScores := referenceResults(t, path)
	var gotResp, gotScores []string
	if err := ReadParquet(filepath.Join(dir, ResponsesFile), func(r ResponseRow) error {
		gotResp = append(gotResp, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", len(r.Prompt), "|", r.Response, "|", Deref(r.Error)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ReadParquet(filepath.Join(dir, ScoresFile), func(r ScoreRow) error {
		v := 0.0
		if r.Value != nil {
			v = *r.Value
		}
		gotScores = append(gotScores, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", r.Judge, "|", r.Metric, "|", v, "|", Deref(r.Error)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if int(rc.Trials) != n+1 || len(gotResp) != n+1 || int(rc.Scores) != len(wantScores) {
		t.Fatalf("counts %+v, %d response rows; want %d trials and %d scores", rc, len(gotResp), n+1, len(wantScores))
	}
	if !slices.Equal(gotResp, wantResp) {
		for i := range gotResp {
			if gotResp[i] != wantResp[i] {
				t.Fatalf("response row %d: %.80s, want %.80s", i, gotResp[i], wantResp[i])
			}
		}
	}
	if !slices.Equal(gotScores, wantScores) {
		for i := range gotScores {
			if gotScores[i] != wantScores[i] {
				t.Fatalf("score row %d: %s, want %s", i, gotScores[i], wantScores[i])
			}
		}
	}
}

func TestWriteResultsNamesTheLineOfACorruptEntry(t *testing.T) {
	dir := t.TempDir()
	j, _ := OpenJournal(filepath.Join(dir, PlainJournalFile))
	j.Append(&Entry{Kind: EntryTrial, Index: 0, SampleID: "a"})
	j.Close()
	f, _ := os.OpenFile(filepath.Join(dir, PlainJournalFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"k":"trial","i":"one"}` + "\n")
	f.Close()
	_, err := WriteResults(dir, "r")
	ie, ok := err.(*InputError)
	if !ok || ie.Line != 2 || !strings.Contains(ie.Msg, "corrupt journal entry") {
		t.Fatalf("error %v; want an InputError at line 2", err)
	}
}

func TestWriteResultsInOnePassOrFallsBack(t *testing.T) {
	entry := func(i int) *Entry {
		return &Entry{Kind: EntryTrial, Index: int64(i), Suite: "s", SampleID: fmt.Sprintf("x%05d", i/2), Model: []string{"a", "b"}[i%2],
			Attack: "none", Epoch: 1, Prompt: "p", Result: &Completion{Text: fmt.Sprint("answer ", i)},
			Scores: []Score{{Judge: "refusal", Metric: "refusal", Value: float64(i % 2)}}}
	}
	for _, tc := range []struct {
		name    string
		inOrder bool
		late    int // the index of an entry appended last, or -1
	}{
		{"one run with workers out of turn and a resumed trial", true, -1},
		{"a trial journaled long out of turn", false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, JournalFile)
			j, _ := OpenJournal(path)
			rng := rand.New(rand.NewPCG(3, 4))
			const n = 3 * reorderWindow
			idx := make([]int, 0, n)
			for i := 0; i < n; i++ {
				if i != tc.late {
					idx = append(idx, i)
				}
			}
			for k := range idx {
				if w := k + rng.IntN(64); w < len(idx) {
					idx[k], idx[w] = idx[w], idx[k]
				}
			}
			for k, i := range idx {
				j.Append(entry(i))
				if k == 100 { // a resumed run journals a trial again soon after
					e := entry(i)
					e.Result.Text = "a second answer that must not be kept"
					j.Append(e)
				}
			}
			if tc.late >= 0 {
				j.Append(entry(tc.late))
			}
			j.Close()
			_, inOrder, err := writeResultsInOrder(dir, path, "r")
			if err != nil || inOrder != tc.inOrder {
				t.Fatalf("one pass: in order %v, %v; want %v", inOrder, err, tc.inOrder)
			}
			rc, err := WriteResults(dir, "r")
			if err != nil || rc.Trials != n {
				t.Fatalf("%+v, %v", rc, err)
			}
			want, _ := referenceResults(t, path)
			var got []string
			ReadParquet(filepath.Join(dir, ResponsesFile), func(r ResponseRow) error {
				got = append(got, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", len(r.Prompt), "|", r.Response, "|", Deref(r.Error)))
				return nil
			})
			if !slices.Equal(got, want) {
				t.Fatalf("rows differ from the reference (%d and %d rows)", len(got), len(want))
			}
		})
	}
}

// jitterModel answers after a random pause, so that concurrent trials
// finish out of turn.
type jitterModel struct{}

func (jitterModel) Generate(_ context.Context, r Request) (Completion, error) {
	time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
	if strings.HasSuffix(r.Prompt(), "7") {
		return Completion{Attempts: 2}, &ModelError{Kind: Transient, Err: errors.New("boom")}
	}
	return Completion{Text: "answer to " + r.Prompt(), Attempts: 1}, nil
}

// lengthJudge scores the length of an answer.
type lengthJudge struct{}

func (lengthJudge) Name() string { return "length" }
func (lengthJudge) Score(_ context.Context, _ Trial, c Completion) ([]Score, error) {
	return []Score{{Metric: "chars", Value: float64(len(c.Text))}, {Metric: "long", Value: float64(len(c.Text) / 20)}}, nil
}

// TestRunWritesTheResultsWhileItRuns checks that the Parquet files a run
// writes as it journals are the ones WriteResults makes from its journal,
// row for row, and that a resumed run leaves them to WriteResults.
func TestRunWritesTheResultsWhileItRuns(t *testing.T) {
	dir := t.TempDir()
	var samples []Sample
	for i := range 700 {
		samples = append(samples, Sample{ID: fmt.Sprintf("s%04d", i), Input: fmt.Sprint("prompt ", i)})
	}
	render := func(s Sample) (Request, error) {
		return Request{Messages: []Message{{Role: "user", Content: s.Input}}}, nil
	}
	spec := RunSpec{RunID: "r", Dir: dir, Epochs: 2, Concurrency: 48, WriteResults: true,
		Suites: []SuitePlan{{Name: "s", Render: render, Samples: samples, Judges: []Judge{lengthJudge{}}}},
		Models: []ModelPlan{{Name: "a", Model: jitterModel{}}, {Name: "b", Model: jitterModel{}}}}
	st, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Results == nil || st.Results.Trials != 2800 || st.Results.Errors != 280 {
		t.Fatalf("results written by the run: %+v", st.Results)
	}
	read := func() (resp, scores []string) {
		ReadParquet(filepath.Join(dir, ResponsesFile), func(r ResponseRow) error {
			resp = append(resp, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", len(r.Prompt), "|", r.Response, "|", Deref(r.Error)))
			return nil
		})
		ReadParquet(filepath.Join(dir, ScoresFile), func(r ScoreRow) error {
			scores = append(scores, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", r.Judge, "|", r.Metric, "|", *r.Value, "|", Deref(r.Error)))
			return nil
		})
		return resp, scores
	}
	streamedResp, streamedScores := read()
	wantResp, _ := referenceResults(t, filepath.Join(dir, JournalFile))
	if !slices.Equal(streamedResp, wantResp) {
		t.Fatalf("the run's responses.parquet differs from the journal's (%d and %d rows)", len(streamedResp), len(wantResp))
	}
	rc, err := WriteResults(dir, "r")
	if err != nil || rc != *st.Results {
		t.Fatalf("WriteResults: %+v, %v; the run counted %+v", rc, err, *st.Results)
	}
	afterResp, afterScores := read()
	if !slices.Equal(streamedResp, afterResp) || !slices.Equal(streamedScores, afterScores) || len(afterScores) != 2*(2800-280) {
		t.Fatalf("the run's files differ from WriteResults' (%d/%d responses, %d/%d scores)",
			len(streamedResp), len(afterResp), len(streamedScores), len(afterScores))
	}
	// A resumed run (its journal not empty) leaves the files to
	// WriteResults.
	spec.Suites[0].Samples = append(samples, Sample{ID: "late", Input: "one more"})
	st, err = Run(context.Background(), spec)
	if err != nil || st.Results != nil || st.Done != 4 {
		t.Fatalf("resumed: %+v, %v", st, err)
	}
}

// cancellingModel cancels the run's context at its n-th call.
type cancellingModel struct {
	calls  atomic.Int64
	n      int64
	cancel context.CancelFunc
}

func (m *cancellingModel) Generate(ctx context.Context, r Request) (Completion, error) {
	if m.calls.Add(1) == m.n {
		m.cancel()
	}
	time.Sleep(time.Duration(rand.IntN(800)) * time.Microsecond)
	return Completion{Text: "answer to " + r.Prompt()}, nil
}

// TestRunWritesTheResultsOfAnInterruptedRun checks the files a run writes
// as it goes when it is cancelled half-way: the trials that never came
// leave gaps, and the rows are still those WriteResults makes from the
// journal.
func TestRunWritesTheResultsOfAnInterruptedRun(t *testing.T) {
	dir := t.TempDir()
	var samples []Sample
	for i := range 2000 {
		samples = append(samples, Sample{ID: fmt.Sprintf("s%04d", i), Input: fmt.Sprint("prompt ", i)})
	}
	render := func(s Sample) (Request, error) {
		return Request{Messages: []Message{{Role: "user", Content: s.Input}}}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &cancellingModel{n: 700, cancel: cancel}
	spec := RunSpec{RunID: "r", Dir: dir, Epochs: 1, Concurrency: 32, WriteResults: true,
		Suites: []SuitePlan{{Name: "s", Render: render, Samples: samples, Judges: []Judge{lengthJudge{}}}},
		Models: []ModelPlan{{Name: "a", Model: m}}}
	st, err := Run(ctx, spec)
	if !errors.Is(err, context.Canceled) || st.Results == nil || st.Results.Trials < 600 || st.Results.Trials >= 2000 {
		t.Fatalf("interrupted run: %+v, %v, results %+v", st, err, st.Results)
	}
	streamed, _ := os.ReadFile(filepath.Join(dir, ResponsesFile))
	var got []string
	ReadParquet(filepath.Join(dir, ResponsesFile), func(r ResponseRow) error {
		got = append(got, fmt.Sprint(r.SampleID, "|", r.Model, "|", r.Epoch, "|", len(r.Prompt), "|", r.Response, "|", Deref(r.Error)))
		return nil
	})
	want, _ := referenceResults(t, filepath.Join(dir, JournalFile))
	if !slices.Equal(got, want) || int64(len(got)) != st.Results.Trials {
		t.Fatalf("the interrupted run's rows differ from its journal's (%d and %d rows)", len(got), len(want))
	}
	if rc, err := WriteResults(dir, "r"); err != nil || rc != *st.Results {
		t.Fatalf("WriteResults: %+v, %v; the run counted %+v", rc, err, *st.Results)
	}
	if len(streamed) == 0 {
		t.Fatal("no responses.parquet")
	}
}

func TestScanScoreValuesReadsWhatReadParquetReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), ScoresFile)
	w, err := CreateParquet[ScoreRow](path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 128<<10 + 5000 // two row groups
	for i := range n {
		r := ScoreRow{RunID: "run", Suite: fmt.Sprint("suite", i%3), SampleID: fmt.Sprint("x", i/3), Epoch: int32(i % 2), Model: fmt.Sprint("m", i%5),
			Attack: []string{"none", "base64"}[i%2], Judge: "j", Metric: fmt.Sprint("metric", i%7), Explanation: "e"}
		if i%11 != 0 {
			v := float64(i) / 3
			r.Value = &v
		} else {
			r.Error = StrPtr("no value")
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var want, got, trials []string
	ReadParquet(path, func(r ScoreRow) error {
		want = append(want, fmt.Sprint(r.RunID, r.Suite, r.Model, r.Attack, r.Judge, r.Metric, r.Value != nil, derefFloat(r.Value)))
		trials = append(trials, fmt.Sprint(r.SampleID, "/", r.Epoch))
		return nil
	})
	var units []uint64
	if err := ScanScoreValues(path, func(r *ScoreValue) error {
		got = append(got, fmt.Sprint(r.RunID, r.Suite, r.Model, r.Attack, r.Judge, r.Metric, r.Value != nil, derefFloat(r.Value)))
		units = append(units, r.Unit)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Rows of one sample and epoch share a unit; others do not.
	unitOf, trialOf := map[string]uint64{}, map[uint64]string{}
	for i, tr := range trials {
		if u, ok := unitOf[tr]; ok && u != units[i] {
			t.Fatalf("trial %s has units %d and %d", tr, u, units[i])
		}
		if o, ok := trialOf[units[i]]; ok && o != tr {
			t.Fatalf("unit %d holds trials %s and %s", units[i], o, tr)
		}
		unitOf[tr], trialOf[units[i]] = units[i], tr
	}
	if len(got) != n || !slices.Equal(got, want) {
		t.Fatalf("ScanScoreValues read %d rows, ReadParquet %d; equal: %v", len(got), len(want), slices.Equal(got, want))
	}
}

func derefFloat(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// TestALaterScoreReplacesAFailedOne checks that a score journaled after a
// failed one of the same trial, judge, metric and rater replaces it in
// scores.parquet, in both of WriteResults' paths, while scores of other
// raters or metrics stay.
func TestALaterScoreReplacesAFailedOne(t *testing.T) {
	for _, late := range []bool{false, true} {
		dir := t.TempDir()
		j, _ := OpenJournal(filepath.Join(dir, JournalFile))
		n := 3
		if late {
			n = reorderWindow + 10 // the retry comes far out of turn: the sorted path
		}
		for i := range n {
			j.Append(&Entry{Kind: EntryTrial, Index: int64(i), Suite: "s", SampleID: fmt.Sprint("x", i), Model: "m", Attack: "none", Epoch: 1,
				Result: &Completion{Text: "a"}, Scores: []Score{{Judge: "rubric", Metric: "alignment", Error: "judge down"},
					{Judge: "human", Metric: "alignment", Value: 3, Rater: "ann"}}})
		}
		j.Append(&Entry{Kind: EntryScores, Index: 1, Suite: "s", SampleID: "x1", Model: "m", Attack: "none", Epoch: 1,
			Scores: []Score{{Judge: "rubric", Metric: "alignment", Value: 6}, {Judge: "human", Metric: "alignment", Value: 5, Rater: "bob"}}})
		j.Close()
		rc, err := WriteResults(dir, "r")
		if err != nil {
			t.Fatal(err)
		}
		var x1 []string
		ReadParquet(filepath.Join(dir, ScoresFile), func(r ScoreRow) error {
			if r.SampleID == "x1" {
				x1 = append(x1, fmt.Sprint(r.Judge, "/", r.Rater, "=", derefFloat(r.Value), Deref(r.Error)))
			}
			return nil
		})
		slices.Sort(x1)
		if fmt.Sprint(x1) != "[human/ann=3 human/bob=5 rubric/=6]" || rc.Scores != int64(2*n+1) {
			t.Errorf("late %v: x1 rows %v, %d score rows", late, x1, rc.Scores)
		}
	}
}
