package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// ResultCounts counts the rows written by WriteResults.
type ResultCounts struct {
	Trials int64 `json:"trials"`
	Errors int64 `json:"errors"`
	Cached int64 `json:"cached"`
	Scores int64 `json:"scores"`
}

type journalRef struct {
	index int64
	seq   int64
	off   int64
}

// WriteResults turns the journal of a run directory into responses.parquet
// and scores.parquet, one row per trial (the first journaled, should a trial
// appear twice) in plan order, and one row per trial × judge × metric. It
// streams: memory holds 24 bytes per journal entry, not the entries.
func WriteResults(dir, runID string) (ResultCounts, error) {
	var rc ResultCounts
	jpath := filepath.Join(dir, JournalFile)
	seed := maphash.MakeSeed()
	seen := map[uint64]struct{}{}
	var refs []journalRef
	var seq int64
	if err := ScanJournal(jpath, func(off int64, e *Entry) error {
		seq++
		if e.Kind == EntryTrial {
			h := keyHash(seed, e.Key())
			if _, dup := seen[h]; dup {
				return nil
			}
			seen[h] = struct{}{}
		}
		refs = append(refs, journalRef{index: e.Index, seq: seq, off: off})
		return nil
	}); err != nil {
		return rc, err
	}
	seen = nil
	slices.SortFunc(refs, func(a, b journalRef) int {
		if a.index != b.index {
			if a.index < b.index {
				return -1
			}
			return 1
		}
		if a.seq < b.seq {
			return -1
		}
		return 1
	})

	f, err := os.Open(jpath)
	if err != nil && !os.IsNotExist(err) {
		return rc, err
	}
	if f != nil {
		defer f.Close()
	}
	resp, err := CreateParquet[ResponseRow](filepath.Join(dir, ResponsesFile))
	if err != nil {
		return rc, err
	}
	defer resp.Abort()
	scores, err := CreateParquet[ScoreRow](filepath.Join(dir, ScoresFile))
	if err != nil {
		return rc, err
	}
	defer scores.Abort()

	br := bufio.NewReaderSize(nil, 64<<10)
	for _, r := range refs {
		br.Reset(io.NewSectionReader(f, r.off, 1<<40))
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			full := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if err != nil {
			return rc, fmt.Errorf("%s: reading entry at %d: %w", jpath, r.off, err)
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return rc, fmt.Errorf("%s: entry at %d: %w", jpath, r.off, err)
		}
		if e.Kind == EntryTrial {
			row := ResponseRow{RunID: runID, Suite: e.Suite, SampleID: e.SampleID, Model: e.Model, Attack: e.Attack,
				Epoch: int32(e.Epoch), Prompt: e.Prompt, System: e.System, Error: StrPtr(e.Error)}
			if c := e.Result; c != nil {
				row.Response = c.Text
				row.FinishReason = c.FinishReason
				row.PromptTokens = c.PromptTokens
				row.CompletionTokens = c.CompletionTokens
				row.LatencyMS = float64(c.Latency.Microseconds()) / 1000
				row.Attempts = int32(c.Attempts)
				row.Cached = c.Cached
				if c.Cached {
					rc.Cached++
				}
			}
			if e.Error != "" {
				rc.Errors++
			}
			rc.Trials++
			if err := resp.Write(row); err != nil {
				return rc, err
			}
		}
		for _, s := range e.Scores {
			row := ScoreRow{RunID: runID, Suite: e.Suite, SampleID: e.SampleID, Model: e.Model, Attack: e.Attack,
				Epoch: int32(e.Epoch), Judge: s.Judge, Metric: s.Metric, Label: s.Label, Explanation: s.Explanation,
				Error: StrPtr(s.Error), Rater: s.Rater, JudgeVersion: s.Version}
			if s.Error == "" {
				v := s.Value
				row.Value = &v
			}
			rc.Scores++
			if err := scores.Write(row); err != nil {
				return rc, err
			}
		}
	}
	if err := resp.Close(); err != nil {
		return rc, err
	}
	if err := scores.Close(); err != nil {
		return rc, err
	}
	return rc, nil
}
