package sandbox

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// Settings are the initial settings of a world (WORLD_INITIAL_VIEW).
var Settings = []string{"all_good", "all_bad", "half_half", "mixed_half_half"}

// Agent is one member of a world: its id is row*size+col, as in the
// released code.
type Agent struct {
	ID       int
	Row, Col int
	Label    string // "good" or "bad"
}

// Layout returns the agents of a size×size world in the given setting, as
// World._set_up_layout does: all_good and all_bad label every agent alike;
// half_half labels good the agents with row ≤ col, in row-major order, until
// size²/2 are good; mixed_half_half labels good a random size²/2 of them
// (a seeded permutation; the released code draws it from numpy's global
// generator).
func Layout(size int, setting string, seed int64) ([]Agent, error) {
	if size < 1 {
		return nil, fmt.Errorf("size %d: a world needs at least one agent", size)
	}
	if !slices.Contains(Settings, setting) {
		return nil, fmt.Errorf("setting %q not supported (want one of all_good, all_bad, half_half, mixed_half_half)", setting)
	}
	n := size * size
	goodTotal := n / 2
	var mixed []bool
	if setting == "mixed_half_half" {
		mixed = make([]bool, n)
		for i := range goodTotal {
			mixed[i] = true
		}
		r := rng(seed, "layout")
		r.Shuffle(n, func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	}
	agents := make([]Agent, 0, n)
	good := 0
	for row := range size {
		for col := range size {
			label := "bad"
			switch setting {
			case "all_good":
				label = "good"
			case "half_half":
				if row <= col && good < goodTotal {
					label = "good"
					good++
				}
			case "mixed_half_half":
				if mixed[row*size+col] {
					label = "good"
				}
			}
			agents = append(agents, Agent{ID: row*size + col, Row: row, Col: col, Label: label})
		}
	}
	return agents, nil
}

// Neighbors returns the agents within the Euclidean distance radius of
// center (itself excluded), in id order, as _search_for_neighbors does.
func Neighbors(agents []Agent, center Agent, radius int) []Agent {
	var out []Agent
	for _, a := range agents {
		if a.ID == center.ID {
			continue
		}
		dr, dc := float64(a.Row-center.Row), float64(a.Col-center.Col)
		if math.Sqrt(dr*dr+dc*dc) <= float64(radius) {
			out = append(out, a)
		}
	}
	return out
}

// Interaction is how back-scatter picks the peers of an agent.
type Interaction struct {
	// Peers is tgt_agent_count: how many peers to ask (4 in the released
	// simulation.py).
	Peers int
	// Global adds global interaction: a share Dropout of the neighbours is
	// dropped and the quota is filled from the whole world.
	Global  bool
	Dropout float64
}

// PickPeers chooses the peers of center as World.back_scatter does (local
// interaction on): without Global, min(Peers, #neighbours) neighbours at
// random without replacement; with Global, max(1, ⌊(1−Dropout)·#neighbours⌋)
// neighbours, then Peers minus that many from the rest of the world. The
// released code asserts Peers > ⌊(1−Dropout)·#neighbours⌋ and that the
// rest of the world is large enough; those are errors here. radius is
// social_circle_radius = size // 2.
func PickPeers(agents []Agent, center Agent, radius int, in Interaction, r *rand.Rand) ([]Agent, error) {
	neighbors := Neighbors(agents, center, radius)
	var picked []Agent
	if in.Global {
		nLocal := int((1 - in.Dropout) * float64(len(neighbors)))
		if in.Peers <= nLocal {
			return nil, fmt.Errorf("not enough quota for global interactions (agent %d: %d local peers kept of %d neighbours, --peers %d): increase --dropout or --peers", center.ID, nLocal, len(neighbors), in.Peers)
		}
		picked = choose(neighbors, min(max(1, nLocal), len(neighbors)), r)
		quota := in.Peers - len(picked)
		var pool []Agent
		for _, a := range agents {
			if a.ID != center.ID && !slices.ContainsFunc(picked, func(p Agent) bool { return p.ID == a.ID }) {
				pool = append(pool, a)
			}
		}
		if len(pool) < quota {
			return nil, fmt.Errorf("not enough global agents to choose from (agent %d: %d left, %d wanted): decrease --peers", center.ID, len(pool), quota)
		}
		picked = append(picked, choose(pool, quota, r)...)
		return picked, nil
	}
	return choose(neighbors, min(in.Peers, len(neighbors)), r), nil
}

// choose returns k of xs at random without replacement, in the order drawn.
func choose(xs []Agent, k int, r *rand.Rand) []Agent {
	idx := r.Perm(len(xs))[:k]
	out := make([]Agent, k)
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// rng returns a generator seeded by the seed and the given parts, so that
// every draw of a world (its layout, an agent's prior memory, a
// back-scatter's peers) depends on where it is made, never on the order in
// which concurrent work reaches it.
func rng(seed int64, parts ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", seed)
	for _, p := range parts {
		fmt.Fprintf(h, "|%v", p)
	}
	s := h.Sum64()
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}
