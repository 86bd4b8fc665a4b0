package bench

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"os"
	"path/filepath"
	"testing"
)

// failingModel fails every call after a given number of attempts, as the
// openai provider does once its retries are spent.
type failingModel struct{ attempts int }

func (m failingModel) Generate(context.Context, Request) (Completion, error) {
	return Completion{Attempts: m.attempts}, &ModelError{Kind: Transient, Status: 503, Err: errors.New("7 attempts: unavailable")}
}

// TestFailedTrialRecordsItsAttempts checks that a trial that failed after
// its retries has those attempts in responses.parquet: the error text said
// "7 attempts" while the attempts column said 0.
func TestFailedTrialRecordsItsAttempts(t *testing.T) {
	dir := t.TempDir()
	render := func(s Sample) (Request, error) {
		return Request{Messages: []Message{{Role: "user", Content: s.Input}}}, nil
	}
	spec := RunSpec{RunID: "r", Dir: dir, Epochs: 1, Concurrency: 2, UnreachableAfter: 100,
		Suites: []SuitePlan{{Name: "s", Render: render, Samples: []Sample{{ID: "a", Input: "x"}, {ID: "b", Input: "y"}}}},
		Models: []ModelPlan{{Name: "m", Model: failingModel{attempts: 7}}}}
	if _, err := Run(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteResults(dir, "r"); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ReadParquet(filepath.Join(dir, ResponsesFile), func(r ResponseRow) error {
		n++
		if r.Error == nil || r.Attempts != 7 {
			t.Errorf("trial %s: error %v, attempts %d; want an error after 7 attempts", r.SampleID, Deref(r.Error), r.Attempts)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	// The journal codec writes and reads the field as encoding/json does.
	e := &Entry{Kind: EntryTrial, SampleID: "a", Model: "m", Error: "boom", Attempts: 7,
		Scores: []Score{{Judge: "j", Metric: "x", Error: "no response"}}}
	got, err := appendEntry(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := stdEncode(t, e); !bytes.Equal(got, want) {
		t.Errorf("codec:\n got %s\nwant %s", got, want)
	}
	checkDecode(t, got)
	if r, ok := parseRef(got, maphash.MakeSeed()); !ok || !r.trial {
		t.Errorf("parseRef left the fast path on an entry with attempts: %+v %v", r, ok)
	}
}

// TestParquetFilesAreReadableByAll checks the mode of a written Parquet
// file: it was 0600 (os.CreateTemp's), unreadable by the other users of a
// shared results folder, unlike the journal beside it.
func TestParquetFilesAreReadableByAll(t *testing.T) {
	p := filepath.Join(t.TempDir(), ScoresFile)
	w, err := CreateParquet[ScoreRow](p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ScoreRow{RunID: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("%s has mode %v, want readable by group and others", p, st.Mode().Perm())
	}
}
