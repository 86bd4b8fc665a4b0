package stats

import (
	"errors"
	"math"
	"testing"
)

// citations is Stigler's (1994) inter-journal citation table as used by
// Agresti (2002, p. 448) and R's BradleyTerry2 (data/citations.txt): a
// citation of journal X by journal Y is a win of X over Y; self-citations
// are left out.
var citations = []struct {
	winner, loser string
	n             int
}{
	{"Comm Statist", "Biometrika", 33},
	{"JASA", "Biometrika", 320},
	{"JRSS-B", "Biometrika", 284},
	{"Biometrika", "Comm Statist", 730},
	{"JASA", "Comm Statist", 813},
	{"JRSS-B", "Comm Statist", 276},
	{"Biometrika", "JASA", 498},
	{"Comm Statist", "JASA", 68},
	{"JRSS-B", "JASA", 325},
	{"Biometrika", "JRSS-B", 221},
	{"Comm Statist", "JRSS-B", 17},
	{"JASA", "JRSS-B", 142},
}

func citationComparisons() []Comparison {
	var cs []Comparison
	for _, c := range citations {
		for i := range c.n {
			// Alternate the sides so that both outcome codes are used.
			if i%2 == 0 {
				cs = append(cs, Comparison{A: c.winner, B: c.loser, Outcome: 1})
			} else {
				cs = append(cs, Comparison{A: c.loser, B: c.winner, Outcome: 0})
			}
		}
	}
	return cs
}

func TestBradleyTerryCitations(t *testing.T) {
	// Reference: R BradleyTerry2, tests/BTabilities.Rout.save:
	// BTabilities(BTm(cbind(win1, win2), journal1, journal2,
	// data = countsToBinomial(citations))) gives abilities relative to
	// Biometrika: Comm Statist −2.9490725, JASA −0.4795698,
	// JRSS-B 0.2689541 (maximum likelihood, natural-log scale).
	rs, err := BradleyTerry(citationComparisons(), BTOptions{Resamples: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Rating{}
	for _, r := range rs {
		by[r.Name] = r
	}
	bio := by["Biometrika"].LogStrength
	near(t, "Comm Statist", by["Comm Statist"].LogStrength-bio, -2.9490725, 1e-6)
	near(t, "JASA", by["JASA"].LogStrength-bio, -0.4795698, 1e-6)
	near(t, "JRSS-B", by["JRSS-B"].LogStrength-bio, 0.2689541, 1e-6)
	// Elo-like scale: 400/ln 10 points per unit of log strength, mean 1000.
	near(t, "score gap", by["JRSS-B"].Score-by["Comm Statist"].Score, 400/math.Ln10*(0.2689541+2.9490725), 1e-4)
	mean := 0.0
	for _, r := range rs {
		mean += r.Score
	}
	near(t, "mean score", mean/4, 1000, 1e-9)
	// Sorted by score, with games counted.
	order := []string{"JRSS-B", "Biometrika", "JASA", "Comm Statist"}
	for i, name := range order {
		if rs[i].Name != name {
			t.Errorf("rank %d = %s, want %s", i, rs[i].Name, name)
		}
	}
	if g := by["Comm Statist"].Games; g != 730+33+813+68+276+17 {
		t.Errorf("Comm Statist games = %d", g)
	}
	// The bootstrap interval of each score contains the estimate, and its
	// width matches the standard errors of BradleyTerry2 (sum-to-zero
	// abilities: s.e. 0.0433 for Biometrika, 0.0726 for Comm Statist) to
	// within bootstrap error: 95% width ≈ 2·1.96·se·400/ln 10.
	for name, se := range map[string]float64{"Biometrika": 0.04333047, "Comm Statist": 0.07257974} {
		r := by[name]
		if !(r.CILow < r.Score && r.Score < r.CIHigh) {
			t.Errorf("%s: CI [%v, %v] misses %v", name, r.CILow, r.CIHigh, r.Score)
		}
		want := 2 * 1.96 * se * 400 / math.Ln10
		if w := r.CIHigh - r.CILow; math.Abs(w-want) > 0.25*want {
			t.Errorf("%s: CI width %v, want about %v", name, w, want)
		}
	}
}

func TestBradleyTerryTies(t *testing.T) {
	// Two models: A wins 3, B wins 1, two ties. Ties are half wins, so A
	// has 4 of 6 points and the MLE odds are πA/πB = 4/2 = 2: a gap of
	// 400·log10 2 ≈ 120.41 points.
	cs := []Comparison{
		{"A", "B", 1}, {"A", "B", 1}, {"B", "A", 0}, {"A", "B", 0},
		{"A", "B", 0.5}, {"B", "A", 0.5},
	}
	rs, err := BradleyTerry(cs, BTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Name != "A" {
		t.Fatalf("order %v", rs)
	}
	near(t, "gap", rs[0].Score-rs[1].Score, 400*math.Log10(2), 1e-6)
	near(t, "A", rs[0].Score, 1000+200*math.Log10(2), 1e-6)
	if !math.IsNaN(rs[0].CILow) {
		t.Errorf("CI without resamples should be NaN")
	}
}

func TestBradleyTerryNotConnected(t *testing.T) {
	// A never loses: no finite MLE.
	cs := []Comparison{{"A", "B", 1}, {"A", "C", 1}, {"B", "C", 1}, {"C", "B", 1}}
	if _, err := BradleyTerry(cs, BTOptions{}); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("err = %v, want ErrNotConnected", err)
	}
	// With a prior the fit is finite and A still ranks first.
	rs, err := BradleyTerry(cs, BTOptions{Prior: 1, Resamples: 100, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Name != "A" || math.IsInf(rs[0].Score, 0) || math.IsNaN(rs[0].CIHigh) {
		t.Errorf("ratings %+v", rs)
	}
	// B and C split their games, so they tie.
	near(t, "B vs C", rs[1].Score, rs[2].Score, 1e-6)
}

func TestBradleyTerryBootstrapFallback(t *testing.T) {
	// A connected but thin graph: many resamples lose the only upset, and
	// are fitted with the fallback prior rather than diverging.
	cs := []Comparison{{"A", "B", 1}, {"A", "B", 1}, {"A", "B", 0}, {"B", "C", 1}, {"B", "C", 0}}
	rs, err := BradleyTerry(cs, BTOptions{Resamples: 300, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if math.IsNaN(r.CILow) || math.IsInf(r.CILow, 0) || math.IsInf(r.CIHigh, 0) || r.CILow > r.CIHigh {
			t.Errorf("%s: CI [%v, %v]", r.Name, r.CILow, r.CIHigh)
		}
	}
	again, _ := BradleyTerry(cs, BTOptions{Resamples: 300, Seed: 4})
	for i := range rs {
		if rs[i] != again[i] {
			t.Errorf("not deterministic: %+v vs %+v", rs[i], again[i])
		}
	}
}

func TestBradleyTerryErrors(t *testing.T) {
	for _, cs := range [][]Comparison{
		nil,
		{{"A", "A", 1}},
		{{"A", "", 1}},
		{{"A", "B", 2}},
		{{"A", "B", math.NaN()}},
	} {
		if _, err := BradleyTerry(cs, BTOptions{}); err == nil {
			t.Errorf("BradleyTerry(%v): no error", cs)
		}
	}
	if _, err := BradleyTerry([]Comparison{{"A", "B", 1}, {"B", "A", 1}}, BTOptions{Prior: -1}); err == nil {
		t.Errorf("negative prior accepted")
	}
}

func TestBradleyTerryNewton(t *testing.T) {
	// The Newton stage alone, from zero, reaches the BradleyTerry2
	// citation estimates (see TestBradleyTerryCitations).
	names := map[string]int{"Biometrika": 0, "Comm Statist": 1, "JASA": 2, "JRSS-B": 3}
	f := newBTFit(4)
	for _, c := range citations {
		for range c.n {
			f.add(names[c.winner], names[c.loser], 1)
		}
	}
	clear(f.logp)
	f.newton(0)
	near(t, "Comm Statist", f.logp[1]-f.logp[0], -2.9490725, 1e-6)
	near(t, "JASA", f.logp[2]-f.logp[0], -0.4795698, 1e-6)
	near(t, "JRSS-B", f.logp[3]-f.logp[0], 0.2689541, 1e-6)

	// With a prior and an undefeated model (where MM crawls), Newton finds
	// the stationary point: every partial derivative is zero.
	f = newBTFit(3)
	f.add(0, 1, 1)
	f.add(0, 1, 1)
	f.add(1, 2, 1)
	f.add(1, 2, 0)
	clear(f.logp)
	f.newton(0.01)
	theta := make([]float64, 3)
	for i := range 3 {
		const h = 1e-5
		copy(theta, f.logp)
		theta[i] += h
		up := f.logLik(theta, 0.01)
		theta[i] -= 2 * h
		down := f.logLik(theta, 0.01)
		if g := (up - down) / (2 * h); math.Abs(g) > 1e-6 {
			t.Errorf("∂ℓ/∂θ%d = %v at %v", i, g, f.logp)
		}
	}
	if f.logp[0] < 3 {
		t.Errorf("undefeated model's log strength %v, want large", f.logp[0])
	}
}
