package harm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HeldOutFile is the held-out evaluation set, relative to the shared
// datasets folder: JailbreakBench's judge-comparison set, 300 rows with
// human labels. Training reads it only to remove what overlaps it.
const HeldOutFile = "jbb-judge-comparison/judge-comparison.csv"

// HeldOutRow is one row of the held-out set, its texts as stored (some
// hold Mac Roman bytes; see NormalizeText).
type HeldOutRow struct {
	Index                  int
	Goal, Prompt, Response string
	// Human is the human majority label: true for jailbroken (harmful
	// compliance).
	Human bool
	// Columns holds every column of the row by name (the published judges'
	// labels among them).
	Columns map[string]string
}

// ReadHeldOut reads the 300 rows of the held-out set below dir.
func ReadHeldOut(dir string) ([]HeldOutRow, error) {
	p := filepath.Join(dir, HeldOutFile)
	rows, err := readCSV(p, "Index", "goal", "prompt", "target_response", "human_majority")
	if err != nil {
		return nil, err
	}
	out := make([]HeldOutRow, len(rows))
	for i, r := range rows {
		var idx int
		if _, err := fmt.Sscan(r["Index"], &idx); err != nil {
			return nil, fmt.Errorf("%s: row %d: Index %q: %w", p, i+2, r["Index"], err)
		}
		out[i] = HeldOutRow{Index: idx, Goal: r["goal"], Prompt: r["prompt"], Response: r["target_response"], Human: r["human_majority"] == "1", Columns: r}
	}
	if len(out) != 300 {
		return nil, fmt.Errorf("%s: %d rows, want 300", p, len(out))
	}
	return out, nil
}

// macRoman maps the bytes 0x80..0xFF of the Mac Roman code page to
// Unicode (generated from golang.org/x/text/encoding/charmap.Macintosh).
var macRoman = [128]rune{
	0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1,
	0x00E0, 0x00E2, 0x00E4, 0x00E3, 0x00E5, 0x00E7, 0x00E9, 0x00E8,
	0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3,
	0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC,
	0x2020, 0x00B0, 0x00A2, 0x00A3, 0x00A7, 0x2022, 0x00B6, 0x00DF,
	0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8,
	0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211,
	0x220F, 0x03C0, 0x222B, 0x00AA, 0x00BA, 0x03A9, 0x00E6, 0x00F8,
	0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB,
	0x00BB, 0x2026, 0x00A0, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153,
	0x2013, 0x2014, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x25CA,
	0x00FF, 0x0178, 0x2044, 0x20AC, 0x2039, 0x203A, 0xFB01, 0xFB02,
	0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1,
	0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x00D3, 0x00D4,
	0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0x0131, 0x02C6, 0x02DC,
	0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7,
}

// NormalizeText returns the form in which texts are compared for overlap:
// bytes decoded one by one (a valid UTF-8 sequence as UTF-8, any other byte
// >= 0x80 as Mac Roman, as jbb-judge-comparison needs), lower-cased,
// typographic quotes and dashes folded to ASCII, every run of white space
// collapsed to one space, trimmed.
func NormalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 && s[i] >= 0x80 {
			r = macRoman[s[i]-0x80]
		}
		i += n
		switch r {
		case '\u2018', '\u2019', '\u201A', '\u2032':
			r = '\''
		case '\u201C', '\u201D', '\u201E', '\u2033':
			r = '"'
		case '\u2013', '\u2014':
			r = '-'
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Overlap rules, applied to normalised texts.
const (
	// PrefixRunes: two texts at least this long that begin with the same
	// PrefixRunes characters are near copies.
	PrefixRunes = 200
	// shingleWords is the length of the word n-grams ("shingles") compared
	// to find near copies.
	shingleWords = 5
	// ShingleContainment: two texts that share at least this fraction of
	// the word 5-grams of the shorter one, which has at least
	// NearCopyShingles of them, are near copies.
	ShingleContainment = 0.5
	NearCopyShingles   = 10
	// ContainShingles: a text that contains another one verbatim (after
	// normalisation) of at least this many word 5-grams (seven words) is a
	// near copy of it, e.g. a goal followed by an adversarial suffix.
	ContainShingles = 3
)

// HeldOut indexes the texts of the held-out set for overlap checks.
type HeldOut struct {
	Rows []HeldOutRow
	// exact maps a normalised text to the fields it occurs in ("goal",
	// "prompt", "response").
	exact map[string][]string
	// prefix maps the first PrefixRunes characters of a long normalised
	// text to its fields.
	prefix map[string][]string
	// shingles maps a shingle to the held-out texts that hold it.
	shingles map[string][]int
	texts    []heldText
}

type heldText struct {
	field string
	norm  string // normalised text
	n     int    // number of distinct shingles
}

// AlpacaEvalModels are the three models whose recorded AlpacaEval outputs
// are the held-out set of benign answers.
var AlpacaEvalModels = []string{"gpt4_1106_preview", "alpaca-7b", "llama-2-7b-chat-hf"}

// AlpacaEvalRecord is one recorded AlpacaEval output.
type AlpacaEvalRecord struct {
	Instruction string `json:"instruction"`
	Output      string `json:"output"`
	Generator   string `json:"generator"`
}

// ReadAlpacaEval reads the 805 recorded outputs of one of AlpacaEvalModels
// below dir.
func ReadAlpacaEval(dir, model string) ([]AlpacaEvalRecord, error) {
	p := filepath.Join(dir, "alpacaeval", "results", model, "model_outputs.json")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var recs []AlpacaEvalRecord
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(recs) != 805 {
		return nil, fmt.Errorf("%s: %d records, want 805", p, len(recs))
	}
	return recs, nil
}

// LoadHeldOut reads and indexes the held-out sets below dir: the judge
// comparison set, and the AlpacaEval instructions and outputs (held-out
// benign answers), which are indexed for exact and first-200-character
// matches of texts of at least three words (so that "Yes." is no overlap).
func LoadHeldOut(dir string) (*HeldOut, error) {
	rows, err := ReadHeldOut(dir)
	if err != nil {
		return nil, err
	}
	h := NewHeldOut(rows)
	for _, m := range AlpacaEvalModels {
		recs, err := ReadAlpacaEval(dir, m)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			h.addExact("alpacaeval instruction", r.Instruction)
			h.addExact("alpacaeval output", r.Output)
		}
	}
	return h, nil
}

// addExact indexes a text for exact and first-200-character matches only,
// if it has at least three words.
func (h *HeldOut) addExact(field, text string) {
	n := NormalizeText(text)
	if len(strings.Fields(n)) < 3 {
		return
	}
	if _, ok := h.exact[n]; !ok {
		h.exact[n] = []string{field}
	}
	if p, ok := prefixOf(n); ok {
		if _, ok := h.prefix[p]; !ok {
			h.prefix[p] = []string{field}
		}
	}
}

// NewHeldOut indexes the rows.
func NewHeldOut(rows []HeldOutRow) *HeldOut {
	h := &HeldOut{Rows: rows, exact: map[string][]string{}, prefix: map[string][]string{}, shingles: map[string][]int{}}
	add := func(m map[string][]string, k, field string) {
		if !slices.Contains(m[k], field) {
			m[k] = append(m[k], field)
		}
	}
	for _, r := range rows {
		for _, f := range []struct{ name, text string }{{"goal", r.Goal}, {"prompt", r.Prompt}, {"response", r.Response}} {
			n := NormalizeText(f.text)
			if n == "" {
				continue
			}
			add(h.exact, n, f.name)
			if p, ok := prefixOf(n); ok {
				add(h.prefix, p, f.name)
			}
			sh := shinglesOf(n)
			id := len(h.texts)
			h.texts = append(h.texts, heldText{field: f.name, norm: n, n: len(sh)})
			for _, s := range sh {
				h.shingles[s] = append(h.shingles[s], id)
			}
		}
	}
	return h
}

// prefixOf returns the first PrefixRunes characters of n, if it has that
// many.
func prefixOf(n string) (string, bool) {
	k := 0
	for i := range n {
		if k == PrefixRunes {
			return n[:i], true
		}
		k++
	}
	return "", k == PrefixRunes
}

// shinglesOf returns the distinct word shingleWords-grams of a normalised
// text, in order of first occurrence.
func shinglesOf(n string) []string {
	words := strings.Fields(n)
	if len(words) < shingleWords {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for i := 0; i+shingleWords <= len(words); i++ {
		s := strings.Join(words[i:i+shingleWords], " ")
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Match returns how text overlaps the held-out set: "" when it does not,
// else "<field> (exact)", "<field> (first 200 characters)", "<field>
// (near copy)", "<field> (contained)" (text holds the held-out text) or
// "<field> (contains it)" (the held-out text holds text), where field is
// the held-out column it overlaps (goal, prompt or response).
func (h *HeldOut) Match(text string) string {
	n := NormalizeText(text)
	if n == "" {
		return ""
	}
	if fs, ok := h.exact[n]; ok {
		return fs[0] + " (exact)"
	}
	if p, ok := prefixOf(n); ok {
		if fs, ok := h.prefix[p]; ok {
			return fs[0] + " (first 200 characters)"
		}
	}
	sh := shinglesOf(n)
	if len(sh) == 0 {
		return ""
	}
	hits := map[int]int{}
	for _, s := range sh {
		for _, id := range h.shingles[s] {
			hits[id]++
		}
	}
	ids := make([]int, 0, len(hits))
	for id := range hits {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		k, t := hits[id], h.texts[id]
		m := min(len(sh), t.n)
		switch {
		case m >= NearCopyShingles && float64(k) >= ShingleContainment*float64(m):
			return t.field + " (near copy)"
		case k == t.n && t.n >= ContainShingles && strings.Contains(n, t.norm):
			return t.field + " (contained)"
		case k == len(sh) && len(sh) >= ContainShingles && strings.Contains(t.norm, n):
			return t.field + " (contains it)"
		}
	}
	return ""
}

// DropReport counts the items removed for overlapping the held-out set.
type DropReport struct {
	// Dropped counts removed items by source and then by the kind of
	// overlap (the first match found among the item's goal, prompt,
	// response and safer answer, as "<item field> = held-out <Match>").
	Dropped map[string]map[string]int
	// Kept counts the items kept, by source.
	Kept map[string]int
}

// Total returns the number of dropped items.
func (r DropReport) Total() int {
	n := 0
	for _, m := range r.Dropped {
		for _, k := range m {
			n += k
		}
	}
	return n
}

// String lists the drops, one line per source and kind.
func (r DropReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dropped %d items that overlap the held-out sets (%s, AlpacaEval):\n", r.Total(), HeldOutFile)
	srcs := make([]string, 0, len(r.Kept)+len(r.Dropped))
	for s := range r.Kept {
		srcs = append(srcs, s)
	}
	for s := range r.Dropped {
		if _, ok := r.Kept[s]; !ok {
			srcs = append(srcs, s)
		}
	}
	slices.Sort(srcs)
	for _, s := range srcs {
		n := 0
		for _, k := range r.Dropped[s] {
			n += k
		}
		fmt.Fprintf(&b, "  %-14s kept %5d  dropped %4d\n", s, r.Kept[s], n)
		kinds := make([]string, 0, len(r.Dropped[s]))
		for k := range r.Dropped[s] {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			fmt.Fprintf(&b, "      %4d  %s\n", r.Dropped[s][k], k)
		}
	}
	return b.String()
}

// Drop returns the examples that share no goal, prompt or response with
// the held-out set (after NormalizeText: exact, same first 200 characters,
// or near copy), and a report of what it removed. A group (one request)
// that loses an item to a prompt or goal match loses nothing else by that
// rule: each item is checked on its own texts.
func (h *HeldOut) Drop(examples []Example) ([]Example, DropReport) {
	rep := DropReport{Dropped: map[string]map[string]int{}, Kept: map[string]int{}}
	// Texts repeat (one prompt, many answers): match each once.
	memo := map[string]string{}
	match := func(s string) string {
		m, ok := memo[s]
		if !ok {
			m = h.Match(s)
			memo[s] = m
		}
		return m
	}
	var kept []Example
	for _, e := range examples {
		kind := ""
		for _, f := range []struct{ name, text string }{{"goal", e.Goal}, {"prompt", e.Prompt}, {"response", e.Response}, {"safer", e.Safer}} {
			if f.text == "" {
				continue
			}
			if m := match(f.text); m != "" {
				kind = f.name + " = held-out " + m
				break
			}
		}
		if kind == "" {
			kept = append(kept, e)
			rep.Kept[e.Source]++
			continue
		}
		if rep.Dropped[e.Source] == nil {
			rep.Dropped[e.Source] = map[string]int{}
		}
		rep.Dropped[e.Source][kind]++
	}
	return kept, rep
}
