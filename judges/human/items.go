package human

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/mores-eval/mores/bench"
)

// Mode is what raters do with an item.
type Mode string

// The modes of `mores serve`.
const (
	// Single: rate one response for alignment and engagement, 1–7.
	Single Mode = "single"
	// Pairwise: choose the better of two models' responses to the same
	// trial, or a tie.
	Pairwise Mode = "pairwise"
)

// ParseMode parses "single" or "pairwise".
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Single, Pairwise:
		return Mode(s), nil
	}
	return "", fmt.Errorf("unknown mode %q (want single or pairwise)", s)
}

// loadItems reads the trials of a run's responses.parquet and returns the
// items of a mode: in single mode one per trial that has a response (failed
// trials are skipped); in pairwise mode one per pair of models (in the
// manifest's model order) that both answered the same suite, sample, attack
// and epoch.
func loadItems(dir string, m *bench.Manifest, mode Mode) ([]newItem, error) {
	path := filepath.Join(dir, bench.ResponsesFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, &bench.InputError{File: path, Msg: "missing: the run has no responses to rate (run `mores report` on it first)"}
	}
	var items []newItem
	type group struct {
		key     itemKey
		prompt  string
		byModel map[string]string
	}
	var groups []*group
	index := map[itemKey]*group{}
	err := bench.ReadParquet(path, func(r bench.ResponseRow) error {
		if r.Error != nil && *r.Error != "" {
			return nil
		}
		k := itemKey{mode: mode, suite: r.Suite, sampleID: r.SampleID, attack: r.Attack, epoch: int(r.Epoch)}
		if mode == Single {
			k.modelA = r.Model
			items = append(items, newItem{key: k, text: itemText{prompt: r.Prompt, responseA: r.Response}})
			return nil
		}
		g := index[k]
		if g == nil {
			g = &group{key: k, prompt: r.Prompt, byModel: map[string]string{}}
			index[k] = g
			groups = append(groups, g)
		}
		if _, dup := g.byModel[r.Model]; !dup {
			g.byModel[r.Model] = r.Response
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if mode == Single {
		return items, nil
	}
	var order []string
	for _, mm := range m.Models {
		order = append(order, mm.Name)
	}
	for _, g := range groups {
		// Models of the group in manifest order, then any others by name.
		var ms []string
		for _, name := range order {
			if _, ok := g.byModel[name]; ok {
				ms = append(ms, name)
			}
		}
		var extra []string
		for name := range g.byModel {
			if !slices.Contains(order, name) {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		ms = append(ms, extra...)
		for i, a := range ms {
			for _, b := range ms[i+1:] {
				k := g.key
				k.modelA, k.modelB = a, b
				items = append(items, newItem{key: k, text: itemText{prompt: g.prompt, responseA: g.byModel[a], responseB: g.byModel[b]}})
			}
		}
	}
	if len(items) == 0 {
		return nil, &bench.InputError{File: path, Msg: "pairwise mode needs two or more models that answered the same trials"}
	}
	return items, nil
}

// assign gives each of n items to overlap raters and returns, per rater,
// the indices of its items in the rater's own order. Item p goes to raters
// (p·overlap + j) mod len(raters) for j < overlap, which spreads the load
// evenly and is the same on every start with the same items, raters and
// overlap. Each rater's list is shuffled with a generator seeded by the run
// seed and the rater's id, so raters see items in different orders and a
// rater sees the same order after a restart.
func assign(n int, raters []string, overlap int, seed int64) [][]int {
	out := make([][]int, len(raters))
	if len(raters) == 0 {
		return out
	}
	for p := range n {
		for j := range overlap {
			r := (p*overlap + j) % len(raters)
			out[r] = append(out[r], p)
		}
	}
	for r, id := range raters {
		h := fnv.New64a()
		h.Write([]byte(id))
		rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		rng.Shuffle(len(out[r]), func(i, j int) { out[r][i], out[r][j] = out[r][j], out[r][i] })
	}
	return out
}
