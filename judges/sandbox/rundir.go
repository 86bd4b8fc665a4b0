package sandbox

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// The files of a sandbox run directory.
const (
	JournalFile      = "sandbox.journal"
	InteractionsFile = "interactions.parquet"
	SummaryFile      = "summary.parquet"
	AlignmentFile    = "alignment_data.jsonl"
	ManifestFile     = "manifest.json"
)

// Manifest is manifest.json of a sandbox run.
type Manifest struct {
	Kind     string          `json:"kind"` // "sandbox"
	RunID    string          `json:"run_id"`
	Protocol string          `json:"protocol"`
	Started  time.Time       `json:"started"`
	Finished *time.Time      `json:"finished,omitempty"`
	Counts   *Stats          `json:"counts,omitempty"`
	Config   json.RawMessage `json:"config"`
}

// ReadManifest reads the manifest of a sandbox run directory.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &bench.InputError{File: path, Msg: "not a sandbox run directory: " + err.Error()}
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &bench.InputError{File: path, Msg: err.Error()}
	}
	if m.Kind != "sandbox" {
		return nil, &bench.InputError{File: path, Field: "kind", Msg: fmt.Sprintf("%q: not a sandbox run (mores run resumes those)", m.Kind)}
	}
	return &m, nil
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestFile))
}

// ReadJournal returns the records of a journal, cutting off a torn last
// line (a process killed while writing it); a missing journal is empty.
func ReadJournal(dir string) (map[Key]*Record, error) {
	path := filepath.Join(dir, JournalFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[Key]*Record{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[Key]*Record{}
	if i := bytes.LastIndexByte(b, '\n'); i+1 != len(b) {
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, err
		}
		b = b[:i+1]
	}
	for n, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, &bench.InputError{File: path, Line: n + 1, Msg: err.Error()}
		}
		out[r.Key()] = &r
	}
	return out, nil
}

// Execute runs spec in the run directory dir: it writes the manifest (with
// config, the resolved configuration), journals every record as it comes,
// resumes from the records already journaled (no call is made again for a
// finished back-scatter), and at the end writes interactions.parquet,
// summary.parquet and alignment_data.jsonl. The returned Stats.Errors
// counts the failed back-scatters of the whole run, resumed ones included.
func Execute(ctx context.Context, dir, runID string, spec Spec, config any) (Stats, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, err
	}
	lock, err := bench.LockRunDir(dir)
	if err != nil {
		return Stats{}, err
	}
	defer lock.Unlock()
	// Temporary files a killed process left behind.
	for _, pattern := range []string{"." + InteractionsFile + ".*", "." + SummaryFile + ".*", AlignmentFile + ".tmp", ManifestFile + ".tmp"} {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range stale {
			os.Remove(f)
		}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return Stats{}, err
	}
	m := &Manifest{Kind: "sandbox", RunID: runID, Started: time.Now().UTC(), Config: cfg,
		Protocol: "SANDBOX, github.com/agi-templar/Stable-Alignment@" + ReleasedCommit}
	if old, err := ReadManifest(dir); err == nil {
		m.Started = old.Started
	}
	if err := writeManifest(dir, m); err != nil {
		return Stats{}, err
	}
	done, err := ReadJournal(dir)
	if err != nil {
		return Stats{}, err
	}
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	var mu sync.Mutex
	spec.Done = func(k Key) (*Record, bool) { r, ok := done[k]; return r, ok }
	spec.Emit = func(r *Record) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		_, err = f.Write(append(b, '\n')) // one write: the OS has the line when it returns
		return err
	}
	st, runErr := Run(ctx, spec)
	if runErr != nil {
		return st, runErr
	}
	all, err := ReadJournal(dir)
	if err != nil {
		return st, err
	}
	recs := make([]*Record, 0, len(all))
	st.Errors = 0
	for _, r := range all {
		recs = append(recs, r)
		if r.Error != "" {
			st.Errors++
		}
	}
	slices.SortFunc(recs, func(a, b *Record) int {
		return cmp.Or(cmp.Compare(a.World, b.World), cmp.Compare(a.Round, b.Round), cmp.Compare(a.AgentID, b.AgentID))
	})
	if err := WriteInteractions(filepath.Join(dir, InteractionsFile), runID, recs); err != nil {
		return st, err
	}
	if err := WriteSummary(filepath.Join(dir, SummaryFile), runID, recs, spec.Seed); err != nil {
		return st, err
	}
	if err := WriteAlignmentData(filepath.Join(dir, AlignmentFile), recs); err != nil {
		return st, err
	}
	now := time.Now().UTC()
	m.Finished, m.Counts = &now, &st
	return st, writeManifest(dir, m)
}

// InteractionRow is one row of interactions.parquet: one back-scatter.
type InteractionRow struct {
	RunID                  string     `parquet:"run_id,dict" json:"run_id"`
	World                  int32      `parquet:"world" json:"world"`
	Model                  string     `parquet:"model,dict" json:"model"`
	Setting                string     `parquet:"setting,dict" json:"setting"`
	Round                  int32      `parquet:"round" json:"round"`
	AgentID                int32      `parquet:"agent_id" json:"agent_id"`
	Label                  string     `parquet:"label,dict" json:"label"`
	Question               string     `parquet:"question" json:"question"`
	DraftAnswer            string     `parquet:"draft_answer" json:"draft_answer"`
	PeerIDs                []int32    `parquet:"peer_ids,list" json:"peer_ids"`
	PeerRatings            []*float64 `parquet:"peer_ratings,list" json:"peer_ratings"`
	PeerFeedback           []string   `parquet:"peer_feedback,list" json:"peer_feedback"`
	MeanPeerRating         *float64   `parquet:"mean_peer_rating,optional" json:"mean_peer_rating"`
	RevisedAnswer          string     `parquet:"revised_answer" json:"revised_answer"`
	AlignmentBefore        *float64   `parquet:"alignment_before,optional" json:"alignment_before"`
	AlignmentAfter         *float64   `parquet:"alignment_after,optional" json:"alignment_after"`
	EngagementBefore       *float64   `parquet:"engagement_before,optional" json:"engagement_before"`
	EngagementAfter        *float64   `parquet:"engagement_after,optional" json:"engagement_after"`
	AlignmentReasonBefore  string     `parquet:"alignment_reason_before" json:"alignment_reason_before"`
	AlignmentReasonAfter   string     `parquet:"alignment_reason_after" json:"alignment_reason_after"`
	EngagementReasonBefore string     `parquet:"engagement_reason_before" json:"engagement_reason_before"`
	EngagementReasonAfter  string     `parquet:"engagement_reason_after" json:"engagement_reason_after"`
	Error                  *string    `parquet:"error,optional" json:"error"`
}

// WriteInteractions writes interactions.parquet.
func WriteInteractions(path, runID string, recs []*Record) error {
	w, err := bench.CreateParquet[InteractionRow](path)
	if err != nil {
		return err
	}
	for _, r := range recs {
		row := InteractionRow{RunID: runID, World: int32(r.World), Model: r.Model, Setting: r.Setting, Round: int32(r.Round),
			AgentID: int32(r.AgentID), Label: r.Label, Question: r.Question, DraftAnswer: r.Draft,
			PeerIDs: []int32{}, PeerRatings: r.PeerRatings, PeerFeedback: r.PeerFeedback, MeanPeerRating: r.MeanPeerRating,
			RevisedAnswer: r.Revised, AlignmentBefore: r.AlignmentBefore, AlignmentAfter: r.AlignmentAfter,
			EngagementBefore: r.EngagementBefore, EngagementAfter: r.EngagementAfter,
			AlignmentReasonBefore: r.AlignmentReasonBefore, AlignmentReasonAfter: r.AlignmentReasonAfter,
			EngagementReasonBefore: r.EngagementReasonBefore, EngagementReasonAfter: r.EngagementReasonAfter}
		for _, id := range r.PeerIDs {
			row.PeerIDs = append(row.PeerIDs, int32(id))
		}
		if row.PeerRatings == nil {
			row.PeerRatings = []*float64{}
		}
		if row.PeerFeedback == nil {
			row.PeerFeedback = []string{}
		}
		if r.Error != "" {
			row.Error = bench.StrPtr(r.Error)
		}
		if err := w.Write(row); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// SummaryRow is one row of summary.parquet: a metric of a world in a round
// (round 0: all rounds), with a 95% interval from a bootstrap over agents
// (an agent's records are one cluster).
type SummaryRow struct {
	RunID    string   `parquet:"run_id,dict" json:"run_id"`
	World    int32    `parquet:"world" json:"world"`
	Model    string   `parquet:"model,dict" json:"model"`
	Setting  string   `parquet:"setting,dict" json:"setting"`
	Round    int32    `parquet:"round" json:"round"`
	Metric   string   `parquet:"metric,dict" json:"metric"`
	N        int64    `parquet:"n" json:"n"`
	Missing  int64    `parquet:"n_missing" json:"n_missing"`
	Clusters int64    `parquet:"n_agents" json:"n_agents"`
	Mean     *float64 `parquet:"mean,optional" json:"mean"`
	Stderr   *float64 `parquet:"stderr,optional" json:"stderr"`
	CILow    *float64 `parquet:"ci_low,optional" json:"ci_low"`
	CIHigh   *float64 `parquet:"ci_high,optional" json:"ci_high"`
}

// Metrics are the metrics of summary.parquet, in order.
var Metrics = []string{"alignment_before", "alignment_after", "engagement_before", "engagement_after", "mean_peer_rating", "alignment_gain"}

func metricValue(r *Record, metric string) *float64 {
	switch metric {
	case "alignment_before":
		return r.AlignmentBefore
	case "alignment_after":
		return r.AlignmentAfter
	case "engagement_before":
		return r.EngagementBefore
	case "engagement_after":
		return r.EngagementAfter
	case "mean_peer_rating":
		return r.MeanPeerRating
	case "alignment_gain":
		if r.AlignmentBefore != nil && r.AlignmentAfter != nil {
			v := *r.AlignmentAfter - *r.AlignmentBefore
			return &v
		}
	}
	return nil
}

// Summarize returns the summary rows of the records (sorted by world,
// round, agent): per world, per round and over all rounds (round 0), per
// metric.
func Summarize(runID string, recs []*Record, seed int64) []SummaryRow {
	type group struct {
		world, round int
	}
	byGroup := map[group][]*Record{}
	var groups []group
	for _, r := range recs {
		for _, g := range []group{{r.World, r.Round}, {r.World, 0}} {
			if _, ok := byGroup[g]; !ok {
				groups = append(groups, g)
			}
			byGroup[g] = append(byGroup[g], r)
		}
	}
	slices.SortFunc(groups, func(a, b group) int { return cmp.Or(cmp.Compare(a.world, b.world), cmp.Compare(a.round, b.round)) })
	var out []SummaryRow
	for _, g := range groups {
		rs := byGroup[g]
		for _, metric := range Metrics {
			row := SummaryRow{RunID: runID, World: int32(g.world), Model: rs[0].Model, Setting: rs[0].Setting, Round: int32(g.round), Metric: metric}
			sums, sizes := map[int]float64{}, map[int]float64{}
			var agents []int
			var xs []float64
			for _, r := range rs {
				v := metricValue(r, metric)
				if v == nil {
					row.Missing++
					continue
				}
				if _, ok := sizes[r.AgentID]; !ok {
					agents = append(agents, r.AgentID)
				}
				sums[r.AgentID] += *v
				sizes[r.AgentID]++
				xs = append(xs, *v)
			}
			row.N = int64(len(xs))
			row.Clusters = int64(len(agents))
			if len(xs) > 0 {
				var s, n []float64
				for _, a := range agents {
					s = append(s, sums[a])
					n = append(n, sizes[a])
				}
				mean := 0.0
				for _, x := range xs {
					mean += x
				}
				mean /= float64(len(xs))
				row.Mean = &mean
				if len(agents) > 1 {
					means := make([]float64, len(s))
					for i := range s {
						means[i] = s[i] / n[i]
					}
					cl := stats.Clusters{Means: means, Sizes: n}
					se := cl.Stderr()
					lo, hi := cl.BootstrapMeanCI(0.95, 2000, uint64(seed)^uint64(g.world)<<32^uint64(g.round))
					row.Stderr, row.CILow, row.CIHigh = finite(se), finite(lo), finite(hi)
				}
			}
			out = append(out, row)
		}
	}
	return out
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// WriteSummary writes summary.parquet.
func WriteSummary(path, runID string, recs []*Record, seed int64) error {
	w, err := bench.CreateParquet[SummaryRow](path)
	if err != nil {
		return err
	}
	for _, row := range Summarize(runID, recs, seed) {
		if err := w.Write(row); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// AlignmentExample is one line of alignment_data.jsonl, in one of the three
// forms the paper trains on: imitation (question → revision), self_critic
// (question and draft → the peers' ratings and feedback) and realignment
// (question, draft and feedback → revision).
type AlignmentExample struct {
	Form     string `json:"form"`
	World    int    `json:"world"`
	Model    string `json:"model"`
	Round    int    `json:"round"`
	AgentID  int    `json:"agent_id"`
	Question string `json:"question"`
	Draft    string `json:"draft,omitempty"`
	Feedback string `json:"feedback,omitempty"`
	Output   string `json:"output"`
}

// feedbackText is the peers' ratings and reasons, one a line, lowest last.
func feedbackText(r *Record) string {
	var b strings.Builder
	for i, f := range r.PeerFeedback {
		rating := "unrated"
		if r.PeerRatings[i] != nil {
			rating = strconv.FormatFloat(*r.PeerRatings[i], 'f', -1, 64)
		}
		fmt.Fprintf(&b, "Rating: %s ### Reason: %s\n", rating, f)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// WriteAlignmentData writes alignment_data.jsonl: for each back-scatter
// without error, its three examples.
func WriteAlignmentData(path string, recs []*Record) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if r.Error != "" || r.Revised == "" {
			continue
		}
		base := AlignmentExample{World: r.World, Model: r.Model, Round: r.Round, AgentID: r.AgentID, Question: r.Question}
		fb := feedbackText(r)
		for _, ex := range []AlignmentExample{
			{Form: "imitation", Output: r.Revised},
			{Form: "self_critic", Draft: r.Draft, Output: fb},
			{Form: "realignment", Draft: r.Draft, Feedback: fb, Output: r.Revised},
		} {
			e := base
			e.Form, e.Draft, e.Feedback, e.Output = ex.Form, ex.Draft, ex.Feedback, ex.Output
			if err := enc.Encode(e); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
