package human

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mores-eval/mores/bench"
)

// JudgeName is the judge name of human scores.
const JudgeName = "human"

// JudgeVersion is recorded as the judge version of human scores: the
// revision of the rating UI and its scale definitions.
const JudgeVersion = "serve/1"

// ExportCounts counts what Export did.
type ExportCounts struct {
	// Ratings is the number of ratings in the database.
	Ratings int `json:"ratings"`
	// Added is the number of scores appended to the journal now.
	Added int `json:"added"`
	// Present is the number of scores already in the journal (from an
	// earlier export).
	Present int `json:"present"`
	// Orphans is the number of ratings whose trial is not in the journal
	// (a database from another run directory of the same run id); they are
	// skipped.
	Orphans int `json:"orphans"`
}

// exportKey identifies one human score in the journal.
type exportKey struct {
	trial         bench.TrialKey
	rater, metric string
	label         string
}

// Export merges the ratings of the database at dbPath (default
// DIR/human.sqlite when empty) into the run directory dir. Each rating
// becomes scores with judge "human", the rater's id and the comment as
// explanation: in single mode metrics "alignment" and "engagement" (1–7) on
// the rated trial; in pairwise mode metric "win" on the trial of the pair's
// first model in manifest order (1 if it won, 0 if the other model won, 0.5
// for a tie), labelled "vs=OTHER" — the orientation of the LLM pairwise
// judge, whose judge name is "pairwise:vs=OTHER". The scores are appended to
// the journal as bench.EntryScores entries, so every later rebuild of
// scores.parquet from the journal keeps them, and then responses.parquet,
// scores.parquet, summary.parquet (by summarize, which the caller passes so
// that this package does not depend on the reports that compute it; nil
// leaves summary.parquet as it is) and the manifest's counts are rewritten.
//
// Ratings are final (the server rejects a second rating of an item by the
// same rater), so Export is idempotent: a score already in the journal is
// not appended again, and exporting twice leaves the same files.
func Export(dir, dbPath string, summarize func(dir string, seed int64) error) (ExportCounts, error) {
	var c ExportCounts
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return c, err
	}
	if dbPath == "" {
		dbPath = filepath.Join(dir, DBFile)
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return c, &bench.InputError{File: dbPath, Msg: "no ratings database (start `mores serve` first, or pass --db)"}
	}
	st, err := openStore(dbPath)
	if err != nil {
		return c, err
	}
	defer st.close()
	if have, err := st.meta("run_id"); err != nil {
		return c, err
	} else if have != m.RunID {
		return c, &bench.InputError{File: dbPath, Msg: fmt.Sprintf("the database belongs to run %q, not %q", have, m.RunID)}
	}
	ratings, err := st.allRatings(context.Background())
	if err != nil {
		return c, err
	}
	c.Ratings = len(ratings)

	// Only the rated trials are looked up in the journal, so that memory
	// grows with the ratings, not with the run.
	rated := map[bench.TrialKey]bool{}
	for _, r := range ratings {
		k := r.key
		rated[bench.TrialKey{Suite: k.suite, SampleID: k.sampleID, Model: k.modelA, Attack: k.attack, Epoch: k.epoch}] = true
	}
	jpath := bench.JournalPath(dir)
	index := map[bench.TrialKey]int64{}
	present := map[exportKey]bool{}
	if err := bench.ScanJournal(jpath, func(_ int64, e *bench.Entry) error {
		if !rated[e.Key()] {
			return nil
		}
		if e.Kind == bench.EntryTrial {
			if _, ok := index[e.Key()]; !ok {
				index[e.Key()] = e.Index
			}
		}
		for _, s := range e.Scores {
			if s.Judge == JudgeName {
				present[exportKey{trial: e.Key(), rater: s.Rater, metric: s.Metric, label: s.Label}] = true
			}
		}
		return nil
	}); err != nil {
		return c, err
	}

	// New scores, grouped by trial in the order the ratings were given.
	var order []bench.TrialKey
	byTrial := map[bench.TrialKey][]bench.Score{}
	for _, r := range ratings {
		k := r.key
		tk := bench.TrialKey{Suite: k.suite, SampleID: k.sampleID, Model: k.modelA, Attack: k.attack, Epoch: k.epoch}
		if _, ok := index[tk]; !ok {
			c.Orphans++
			continue
		}
		var ss []bench.Score
		switch k.mode {
		case Single:
			ss = []bench.Score{
				{Judge: JudgeName, Metric: "alignment", Value: float64(r.Alignment), Explanation: r.Comment, Rater: r.Rater, Version: JudgeVersion},
				{Judge: JudgeName, Metric: "engagement", Value: float64(r.Engagement), Explanation: r.Comment, Rater: r.Rater, Version: JudgeVersion},
			}
		case Pairwise:
			v := 0.5
			switch r.Winner {
			case k.modelA:
				v = 1
			case k.modelB:
				v = 0
			}
			ss = []bench.Score{{Judge: JudgeName, Metric: "win", Value: v, Label: "vs=" + k.modelB,
				Explanation: r.Comment, Rater: r.Rater, Version: JudgeVersion}}
		}
		for _, s := range ss {
			ek := exportKey{trial: tk, rater: s.Rater, metric: s.Metric, label: s.Label}
			if present[ek] {
				c.Present++
				continue
			}
			present[ek] = true
			if _, ok := byTrial[tk]; !ok {
				order = append(order, tk)
			}
			byTrial[tk] = append(byTrial[tk], s)
			c.Added++
		}
	}
	if c.Added > 0 {
		j, err := bench.OpenJournal(jpath)
		if err != nil {
			return c, err
		}
		for _, tk := range order {
			e := &bench.Entry{Kind: bench.EntryScores, Index: index[tk], Suite: tk.Suite, SampleID: tk.SampleID,
				Model: tk.Model, Attack: tk.Attack, Epoch: tk.Epoch, Scores: byTrial[tk]}
			if err := j.Append(e); err != nil {
				j.Close()
				return c, err
			}
		}
		if err := j.Close(); err != nil {
			return c, err
		}
	}
	counts, err := bench.WriteResults(dir, m.RunID)
	if err != nil {
		return c, err
	}
	if summarize != nil {
		if err := summarize(dir, m.Seed); err != nil {
			return c, err
		}
	}
	m.Counts = &counts
	return c, bench.WriteManifest(dir, m)
}
