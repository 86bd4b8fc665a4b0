package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mores-eval/mores/bench/atomicfile"
)

// Version is the version of Mores, recorded in every manifest.
var Version = "0.2.0"

// Manifest describes a run: what was asked, with what, and what happened.
// It never holds a secret.
type Manifest struct {
	RunID        string          `json:"run_id"`
	Status       string          `json:"status"` // running, complete, interrupted, failed, partial (a merge)
	MoresVersion string          `json:"mores_version"`
	Seed         int64           `json:"seed"`
	Epochs       int             `json:"epochs"`
	Shard        string          `json:"shard,omitempty"`
	Suites       []ManifestSuite `json:"suites"`
	Models       []ManifestModel `json:"models"`
	StartedAt    time.Time       `json:"started_at"`
	FinishedAt   *time.Time      `json:"finished_at,omitempty"`
	Counts       *ResultCounts   `json:"counts,omitempty"`
	Run          *Stats          `json:"run,omitempty"`
	Error        string          `json:"error,omitempty"`
	// Cost is what the run's models spent, per model and in all (answers
	// from the cache cost nothing; see ModelPlan.Price).
	Cost *CostSummary `json:"cost,omitempty"`
	// Prices are the prices the run used, USD per million tokens, by model
	// name (models with no price are absent).
	Prices map[string]Price `json:"prices,omitempty"`
	// MergedFrom lists the run directories that `mores merge` combined.
	MergedFrom   []string `json:"merged_from,omitempty"`
	MergedShards []string `json:"merged_shards,omitempty"`
	// Missing says what a partial merge (status partial) lacks: missing
	// shards, shards given more than once, runs that did not finish.
	Missing []string `json:"missing,omitempty"`
	// Config is the full resolved configuration of the command that made
	// the run (what --resume replays).
	Config json.RawMessage `json:"config,omitempty"`
}

// ManifestSuite records one suite of a run.
type ManifestSuite struct {
	Name        string   `json:"name"`
	Version     int      `json:"version"`
	File        string   `json:"file"`
	Hash        string   `json:"hash"`
	Dataset     string   `json:"dataset"`
	DatasetHash string   `json:"dataset_hash,omitempty"`
	Samples     int      `json:"samples"`
	Attacks     []string `json:"attacks"`
	Judges      []string `json:"judges"`
	// HigherIsBetter gives the direction of a metric, when the suite knows
	// it (true: higher is better).
	HigherIsBetter map[string]bool `json:"higher_is_better,omitempty"`
}

// ManifestModel records one model of a run.
type ManifestModel struct {
	Name string `json:"name"`
	Spec string `json:"spec"`
}

// WriteManifest writes m into dir atomically.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return atomicfile.Write(filepath.Join(dir, ManifestFile), 0o644, b)
}

// ReadManifest reads the manifest of a run directory.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, &InputError{File: dir, Msg: "not a run directory (a file; give the folder that holds manifest.json)"}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &InputError{File: p, Msg: "not a run directory (no manifest.json)"}
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &InputError{File: p, Msg: fmt.Sprintf("invalid manifest: %v", err)}
	}
	return &m, nil
}
