package bench

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Merge combines the run directories of shards (or any runs of the same
// suites and models) into a new run directory out: their journals are
// concatenated, each trial kept once, and results written anew. The runs
// must agree on suites (name and content hash) and models.
func Merge(dirs []string, out string) (*Manifest, error) {
	return MergeAs(dirs, out, filepath.Base(filepath.Clean(out)))
}

// MergeAs is Merge with the run id of the merged run given: the CLI merges
// into a temporary folder, renamed to its final name once complete.
func MergeAs(dirs []string, out, runID string) (*Manifest, error) {
	var ms []*Manifest
	for _, d := range dirs {
		m, err := ReadManifest(d)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	first := ms[0]
	for i, m := range ms[1:] {
		if !sameSuites(first.Suites, m.Suites) || !slices.Equal(first.Models, m.Models) {
			return nil, &InputError{File: filepath.Join(dirs[i+1], ManifestFile), Field: "suites",
				Msg: fmt.Sprintf("does not match %s: merged runs must have the same suites and models", dirs[0])}
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	j, err := OpenJournal(JournalPath(out))
	if err != nil {
		return nil, err
	}
	seed := maphash.MakeSeed()
	// The first pass finds the trials and scores that occur more than
	// once, from the sorted hashes of all (8 bytes each, freed after);
	// the second keeps the first of each of those, remembering only them.
	var trialHashes, scoreHashes []uint64
	for _, d := range dirs {
		if err := ScanJournal(JournalPath(d), func(_ int64, e *Entry) error {
			if e.Kind == EntryTrial {
				trialHashes = append(trialHashes, keyHash(seed, e.Key()))
			}
			for _, sc := range e.Scores {
				scoreHashes = append(scoreHashes, scoreHash(seed, e.Key(), sc))
			}
			return nil
		}); err != nil {
			j.Close()
			return nil, err
		}
	}
	dupTrials, dupScores := repeated(trialHashes), repeated(scoreHashes)
	trialHashes, scoreHashes = nil, nil
	seen := map[uint64]struct{}{}
	seenScores := map[uint64]struct{}{}
	for _, d := range dirs {
		err := ScanJournal(JournalPath(d), func(_ int64, e *Entry) error {
			if e.Kind == EntryBatch {
				return nil // a shard's batch bookkeeping stays with the shard
			}
			if e.Kind == EntryTrial {
				h := keyHash(seed, e.Key())
				if _, dup := dupTrials[h]; dup {
					if _, dup := seen[h]; dup {
						return nil
					}
					seen[h] = struct{}{}
				}
			}
			// A score already taken from another run (overlapping shards,
			// a shard re-run into a new directory) is kept once.
			kept := e.Scores[:0:0]
			for _, sc := range e.Scores {
				sh := scoreHash(seed, e.Key(), sc)
				if _, dup := dupScores[sh]; dup {
					if _, dup := seenScores[sh]; dup {
						continue
					}
					seenScores[sh] = struct{}{}
				}
				kept = append(kept, sc)
			}
			if e.Kind == EntryScores && len(kept) == 0 {
				return nil
			}
			e.Scores = kept
			return j.Append(e)
		})
		if err != nil {
			j.Close()
			return nil, err
		}
	}
	if err := j.Close(); err != nil {
		return nil, err
	}
	counts, err := WriteResults(out, runID)
	if err != nil {
		return nil, err
	}
	var shards []string
	for _, m := range ms {
		shards = append(shards, m.Shard)
	}
	now := time.Now().UTC()
	merged := *first
	merged.RunID = runID
	merged.Status = "complete"
	merged.Config = mergedConfig(first.Config, runID)
	for _, m := range ms {
		if m.Status != "complete" {
			merged.Status = "partial"
		}
		if m.StartedAt.Before(merged.StartedAt) {
			merged.StartedAt = m.StartedAt
		}
	}
	merged.Shard = ""
	merged.FinishedAt = &now
	merged.Counts = &counts
	merged.Run = nil
	merged.Error = ""
	merged.MergedFrom = dirs
	if len(strings.Join(shards, "")) > 0 {
		merged.MergedShards = shards
	}
	if err := WriteManifest(out, &merged); err != nil {
		return nil, err
	}
	return &merged, nil
}

// mergedConfig returns the configuration of the first merged run as the
// merged run's: its run id replaced and its shard removed, so that nothing
// in the merged manifest names the first shard.
func mergedConfig(cfg json.RawMessage, runID string) json.RawMessage {
	if len(cfg) == 0 {
		return cfg
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(cfg, &m); err != nil {
		return nil // not an object: dropped rather than kept wrong
	}
	delete(m, "shard")
	if _, ok := m["run_id"]; ok {
		id, _ := json.Marshal(runID)
		m["run_id"] = id
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// repeated returns the values that occur more than once in hs, which it
// sorts.
func repeated(hs []uint64) map[uint64]struct{} {
	slices.Sort(hs)
	out := map[uint64]struct{}{}
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			out[hs[i]] = struct{}{}
		}
	}
	return out
}

func sameSuites(a, b []ManifestSuite) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Hash != b[i].Hash || a[i].DatasetHash != b[i].DatasetHash {
			return false
		}
	}
	return true
}

// scoreHash identifies one score of one trial: judge, metric and rater.
func scoreHash(seed maphash.Seed, k TrialKey, sc Score) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var b [8]byte
	x := keyHash(seed, k)
	for i := range b {
		b[i] = byte(x >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(sc.Judge)
	h.WriteByte(0)
	h.WriteString(sc.Metric)
	h.WriteByte(0)
	h.WriteString(sc.Rater)
	return h.Sum64()
}
