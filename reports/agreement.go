package reports

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// Rating is one row of a ratings table in long form: the value a rater
// gave a unit. An empty Value is a missing rating.
type Rating struct {
	Unit, Rater, Value string
	// Line is the line of the file the rating came from.
	Line int
}

// ReadRatingsCSV reads a ratings table from CSV with a header naming (in
// any order, any case) the columns unit, rater and value; other columns
// are ignored. An empty value is a missing rating. Problems are
// *bench.InputError naming the file and line: a malformed CSV, a missing
// column, an empty unit or rater, or a rater rating one unit twice.
func ReadRatingsCSV(r io.Reader, file string) ([]Rating, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &bench.InputError{File: file, Line: 1, Msg: "empty file: want a header with the columns unit, rater and value"}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	col := map[string]int{"unit": -1, "rater": -1, "value": -1}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if j, ok := col[name]; ok {
			if j >= 0 {
				return nil, &bench.InputError{File: file, Line: 1, Field: name, Msg: "column given twice"}
			}
			col[name] = i
		}
	}
	for _, name := range []string{"unit", "rater", "value"} {
		if col[name] < 0 {
			return nil, &bench.InputError{File: file, Line: 1, Field: name, Msg: "missing column (the header needs unit, rater and value)"}
		}
	}
	type key struct{ unit, rater string }
	first := map[key]int{}
	var out []Rating
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := cr.FieldPos(0)
		rt := Rating{Unit: strings.TrimSpace(rec[col["unit"]]), Rater: strings.TrimSpace(rec[col["rater"]]),
			Value: strings.TrimSpace(rec[col["value"]]), Line: line}
		if rt.Unit == "" {
			return nil, &bench.InputError{File: file, Line: line, Field: "unit", Msg: "empty"}
		}
		if rt.Rater == "" {
			return nil, &bench.InputError{File: file, Line: line, Field: "rater", Msg: "empty"}
		}
		k := key{rt.Unit, rt.Rater}
		if l, dup := first[k]; dup {
			return nil, &bench.InputError{File: file, Line: line, Msg: fmt.Sprintf("rater %q rated unit %q twice (first at line %d)", rt.Rater, rt.Unit, l)}
		}
		first[k] = line
		out = append(out, rt)
	}
	return out, nil
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &bench.InputError{File: file, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &bench.InputError{File: file, Msg: err.Error()}
}

// PairKappa is Cohen's kappa of two raters on the units both rated.
type PairKappa struct {
	A, B  string
	Units int
	Kappa float64
	// Note says why Kappa is NaN.
	Note string
}

// AgreementResult describes the agreement of the raters of a ratings table.
type AgreementResult struct {
	Level stats.Level
	// Units and Raters count the distinct units and raters; Ratings the
	// non-missing ratings; Pairable the ratings in units with at least two.
	Units, Raters, Ratings, Pairable int
	// PairableUnits counts the units with at least two ratings.
	PairableUnits int
	// Alpha is Krippendorff's alpha at Level.
	Alpha float64
	// Fleiss is Fleiss' kappa (nominal), NaN with FleissNote saying why
	// when it does not apply.
	Fleiss     float64
	FleissNote string
	// Percent is the mean pairwise percent agreement within units.
	Percent float64
	// AlphaNote says why Alpha is NaN.
	AlphaNote string
	Cohen     []PairKappa
}

// Agreement computes the agreement of a ratings table at a level of
// measurement with bench/stats: Krippendorff's alpha at that level (the
// one coefficient that handles any number of raters and missing ratings),
// Fleiss' kappa when every unit that has ratings has the same number of
// them, Cohen's kappa for each pair of raters on the units both rated,
// and the percent agreement. Nominal values are categories compared as
// text (numbers are compared by value, so 1 and 1.0 agree); the other
// levels need numbers, and a value that is not one is a *bench.InputError
// naming file and line. When no unit has two ratings nothing can be
// measured, which is an input error too.
func Agreement(rs []Rating, level stats.Level, file string) (*AgreementResult, error) {
	res := &AgreementResult{Level: level, Alpha: math.NaN(), Fleiss: math.NaN(), Percent: math.NaN()}
	// Canonical labels: numbers by value, other text as is.
	numeric := true
	for _, r := range rs {
		if r.Value == "" {
			continue
		}
		if _, err := strconv.ParseFloat(r.Value, 64); err != nil {
			numeric = false
			if level != stats.Nominal {
				return nil, &bench.InputError{File: file, Line: r.Line, Field: "value", Msg: fmt.Sprintf("%q is not a number (the %s level needs numbers; use --level nominal for categories)", r.Value, level)}
			}
		}
	}
	label := func(v string) string {
		if numeric {
			f, _ := strconv.ParseFloat(v, 64)
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return v
	}
	var cats []string
	catIndex := map[string]int{}
	units := map[string]int{}
	var unitOrder []string
	raters := map[string]bool{}
	for _, r := range rs {
		if _, ok := units[r.Unit]; !ok {
			units[r.Unit] = 0
			unitOrder = append(unitOrder, r.Unit)
		}
		raters[r.Rater] = true
		if r.Value == "" {
			continue
		}
		units[r.Unit]++
		res.Ratings++
		l := label(r.Value)
		if _, ok := catIndex[l]; !ok {
			catIndex[l] = len(cats)
			cats = append(cats, l)
		}
	}
	res.Units, res.Raters = len(units), len(raters)
	for _, n := range units {
		if n >= 2 {
			res.PairableUnits++
			res.Pairable += n
		}
	}
	ur := make([]stats.UnitRating, 0, len(rs))
	for _, r := range rs {
		v := math.NaN()
		if r.Value != "" {
			if numeric {
				v, _ = strconv.ParseFloat(r.Value, 64)
			} else {
				v = float64(catIndex[r.Value])
			}
		}
		ur = append(ur, stats.UnitRating{Unit: r.Unit, Rater: r.Rater, Value: v})
	}
	a, err := stats.KrippendorffAlphaRatings(ur, level)
	switch {
	case errors.Is(err, stats.ErrNoPairableValues):
		return nil, &bench.InputError{File: file, Msg: "no unit has ratings from two raters, so agreement cannot be measured"}
	case errors.Is(err, stats.ErrNoVariation):
		res.AlphaNote = "undefined: every rating has the same value"
	case err != nil:
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	res.Alpha = a
	if p, err := stats.PercentAgreement(ur); err == nil {
		res.Percent = p
	}
	// Fleiss: every unit with ratings must have the same number.
	lo, hi := math.MaxInt, 0
	for _, n := range units {
		if n == 0 {
			continue
		}
		lo, hi = min(lo, n), max(hi, n)
	}
	switch {
	case lo != hi:
		res.FleissNote = fmt.Sprintf("not computed: units have %d to %d ratings, and Fleiss' kappa needs the same number for every unit", lo, hi)
	case lo < 2:
		res.FleissNote = "not computed: every unit has one rating"
	default:
		counts := make([][]int, 0, len(units))
		for _, u := range unitOrder {
			if units[u] > 0 {
				counts = append(counts, make([]int, len(cats)))
			}
		}
		idx := map[string]int{}
		for _, u := range unitOrder {
			if units[u] > 0 {
				idx[u] = len(idx)
			}
		}
		for _, r := range rs {
			if r.Value != "" {
				counts[idx[r.Unit]][catIndex[label(r.Value)]]++
			}
		}
		k, err := stats.FleissKappa(counts)
		switch {
		case errors.Is(err, stats.ErrNoVariation):
			res.FleissNote = "undefined: every rating has the same value"
		case err != nil:
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		res.Fleiss = k
	}
	// Cohen's kappa per pair of raters.
	byRater := map[string]map[string]string{}
	for _, r := range rs {
		if r.Value == "" {
			continue
		}
		if byRater[r.Rater] == nil {
			byRater[r.Rater] = map[string]string{}
		}
		byRater[r.Rater][r.Unit] = label(r.Value)
	}
	names := make([]string, 0, len(raters))
	for n := range raters {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, a := range names {
		for _, b := range names[i+1:] {
			pk := PairKappa{A: a, B: b, Kappa: math.NaN()}
			var la, lb []string
			for _, u := range unitOrder {
				va, okA := byRater[a][u]
				vb, okB := byRater[b][u]
				if okA && okB {
					la, lb = append(la, va), append(lb, vb)
				}
			}
			pk.Units = len(la)
			if len(la) == 0 {
				pk.Note = "no unit rated by both"
			} else {
				k, err := stats.CohenKappa(la, lb)
				if errors.Is(err, stats.ErrNoVariation) {
					pk.Note = "undefined: both used one and the same value throughout"
				} else if err != nil {
					pk.Note = err.Error()
				}
				pk.Kappa = k
			}
			res.Cohen = append(res.Cohen, pk)
		}
	}
	return res, nil
}

func fmt4(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// WriteAgreement renders an agreement result as text.
func WriteAgreement(w io.Writer, file string, r *AgreementResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d units, %d raters, %d ratings; %d pairable values in %d units with two or more ratings\n",
		file, r.Units, r.Raters, r.Ratings, r.Pairable, r.PairableUnits)
	note := func(n string) string {
		if n == "" {
			return ""
		}
		return "  (" + n + ")"
	}
	fmt.Fprintf(&b, "%-31s %s%s\n", "Krippendorff's alpha ("+r.Level.String()+")", fmt4(r.Alpha), note(r.AlphaNote))
	fmt.Fprintf(&b, "%-31s %s%s\n", "Fleiss' kappa (nominal)", fmt4(r.Fleiss), note(r.FleissNote))
	fmt.Fprintf(&b, "%-31s %s\n", "percent agreement", fmt4(r.Percent))
	if len(r.Cohen) > 0 {
		b.WriteString("Cohen's kappa (nominal), per pair of raters on the units both rated:\n")
		width := 0
		for _, p := range r.Cohen {
			width = max(width, len([]rune(p.A+" – "+p.B)))
		}
		for _, p := range r.Cohen {
			pair := p.A + " – " + p.B
			fmt.Fprintf(&b, "  %s%s  %-6s  %s%s\n", pair, strings.Repeat(" ", width-len([]rune(pair))), fmt4(p.Kappa),
				plural(p.Units, "unit", "units"), note(p.Note))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
