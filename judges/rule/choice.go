package rule

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
)

// Labels of the choice judge when no single letter was extracted.
const (
	LabelNone      = "none"
	LabelAmbiguous = "ambiguous"
)

// Choice is the judge `choice`: it extracts a multiple-choice answer from
// the response and scores metric "accuracy", 1 when the extracted letter is
// a correct answer, else 0; the label is the extracted letter, "none" when
// no answer was found, or "ambiguous" when the response names conflicting
// answers.
//
// The correct answers are the sample's Target and, for items with several
// correct options, every letter (or 0-based index, or choice text) listed,
// comma-separated, in the sample's field "targets" ("A,C"), as the built-in
// truthful suite has them: naming any one of them counts as correct
// (MC1-style accuracy, one letter answered). The option targets_field names
// another field, or "" to score against the Target alone.
//
// The sample's Choices are shown to the model as the letters A, B, C, … in
// order. The option num_choices gives the number of options for samples
// that list no Choices (their letters are then the only answers; the text
// rule below does not apply). At most 26 options are supported.
//
// The Target is a letter ("B" or "b"), a 0-based index ("1" is the second
// choice, B, as in Hugging Face datasets such as MMLU's answer column), or
// the text of the correct choice (compared after NormalizeAnswer).
//
// Extraction ignores Markdown emphasis and code marks and HTML tags, and
// reads full-width letters as ASCII. It then tries these rules in order;
// the first rule that finds any valid letter decides. If it finds one
// letter, that is the answer; if it finds several different letters, the
// answer is "ambiguous" (later rules are not consulted). Only letters of
// the sample's options count; a lower-case letter counts only where it
// cannot be an English word: alone, or in brackets. A statement that names
// two letters ("the answer is A or B") names both, so it is ambiguous.
//
//  1. The whole response is a letter: "B", "(B)", "b.", "[B]".
//  2. Answer statements: "Answer: B", "The answer is (B).", "Final
//     answer - option C", "the correct answer would be D", "答案是 B".
//  3. Choice statements: "I choose B", "I'd pick (C)", "I will go with D",
//     "select B".
//  4. A leading letter: the response starts with "B)", "B.", "B:", "(B)",
//     "B - …", or a line holding only the letter.
//  5. Letter mentions anywhere: "(B)", "B)", "option B", "choice B".
//  6. Choice text: the text of a choice occurs in the response at word
//     boundaries (case-folded, white space collapsed); a choice whose text
//     lies inside another matched choice's text is dropped.
type Choice struct {
	numChoices   int
	targetsField string
	version      string
}

// NewChoice returns the multiple-choice judge configured by opts.
func NewChoice(opts map[string]any) (*Choice, error) {
	o := newOptions("choice", opts)
	n, err := o.integer("num_choices", 0)
	if err != nil {
		return nil, err
	}
	tf, err := o.str("targets_field", "targets")
	if err != nil {
		return nil, err
	}
	if err := o.finish(); err != nil {
		return nil, err
	}
	if n == 1 || n > 26 {
		return nil, o.errorf("num_choices", "want 2 to 26 options, got %d", n)
	}
	return &Choice{numChoices: n, targetsField: tf, version: version("choice/2", strconv.Itoa(n), tf)}, nil
}

// Name returns "choice".
func (j *Choice) Name() string { return "choice" }

// Score extracts the answer letter and compares it with the target.
func (j *Choice) Score(_ context.Context, t bench.Trial, c bench.Completion) ([]bench.Score, error) {
	fail := func(format string, args ...any) ([]bench.Score, error) {
		return errorScore("choice", "accuracy", j.version, format, args...), nil
	}
	if t.Sample == nil {
		return fail("no sample to read the choices and target from (replayed record?)")
	}
	choices := t.Sample.Choices
	n := len(choices)
	if n == 0 {
		n = j.numChoices
	}
	switch {
	case n == 0:
		return fail("sample %q has no choices (set the option num_choices when the prompt lists them)", t.Sample.ID)
	case n > 26:
		return fail("sample %q has %d choices; at most 26 are supported", t.Sample.ID, n)
	}
	want, err := j.correct(t.Sample, choices, n)
	if err != nil {
		return fail("sample %q: %v", t.Sample.ID, err)
	}
	ans := ExtractChoice(c.Text, choices, n)
	explain := ans.Explanation()
	if len(want) > 1 {
		explain += " (correct: " + strings.Join(want, ", ") + ")"
	}
	return []bench.Score{{
		Judge: "choice", Metric: "accuracy", Value: boolValue(ans.Letter != "" && slices.Contains(want, ans.Letter)),
		Label: ans.Label(), Explanation: explain, Version: j.version,
	}}, nil
}

// correct returns the letters of the correct answers: the Target's, then
// those listed in the targets field, without repeats. A sample with a
// targets field may have an empty Target.
func (j *Choice) correct(s *bench.Sample, choices []string, n int) ([]string, error) {
	var extra string
	if j.targetsField != "" {
		extra = s.Fields[j.targetsField]
	}
	var want []string
	if strings.TrimSpace(s.Target) != "" || strings.TrimSpace(extra) == "" {
		l, err := TargetLetter(s.Target, choices, n)
		if err != nil {
			return nil, err
		}
		want = append(want, l)
	}
	if strings.TrimSpace(extra) != "" {
		for _, tg := range strings.Split(extra, ",") {
			l, err := TargetLetter(tg, choices, n)
			if err != nil {
				return nil, fmt.Errorf("field %s: %v", j.targetsField, err)
			}
			if !slices.Contains(want, l) {
				want = append(want, l)
			}
		}
	}
	return want, nil
}

// TargetLetter resolves a target to an answer letter: a single letter, a
// 0-based index, or the text of one of the choices. n is the number of
// options.
func TargetLetter(target string, choices []string, n int) (string, error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return "", fmt.Errorf("no target")
	}
	if inner := strings.Trim(t, "()[]."); utf8.RuneCountInString(inner) == 1 {
		r, _ := utf8.DecodeRuneInString(inner)
		if r < utf8.RuneSelf && unicode.IsLetter(r) {
			l := unicode.ToUpper(r)
			if int(l-'A') >= n {
				return "", fmt.Errorf("target %q is beyond the %d options", target, n)
			}
			return string(l), nil
		}
	}
	if i, err := strconv.Atoi(t); err == nil {
		if i < 0 || i >= n {
			return "", fmt.Errorf("target index %d is out of range (0-based, %d options)", i, n)
		}
		return letter(i), nil
	}
	nt := NormalizeAnswer(t, false)
	for i, c := range choices {
		if NormalizeAnswer(c, false) == nt {
			return letter(i), nil
		}
	}
	return "", fmt.Errorf("target %q is not a letter, a 0-based index or the text of a choice", excerpt(target, 60))
}

func letter(i int) string { return string(rune('A' + i)) }

// Answer is the result of extracting a multiple-choice answer.
type Answer struct {
	// Letter is the extracted letter, or "" when there is none.
	Letter string
	// Ambiguous is set when a rule found several different letters.
	Ambiguous bool
	// Rule names the rule that decided ("whole response", "answer
	// statement", …), or "" when no rule found a letter.
	Rule string
	// Evidence is the text the rule matched (shortened), or the letters in
	// conflict.
	Evidence string
}

// Label returns the letter, "ambiguous" or "none".
func (a Answer) Label() string {
	switch {
	case a.Ambiguous:
		return LabelAmbiguous
	case a.Letter == "":
		return LabelNone
	}
	return a.Letter
}

// Explanation says which rule decided and on what evidence.
func (a Answer) Explanation() string {
	if a.Rule == "" {
		return "no answer letter or choice text found"
	}
	return a.Rule + ": " + a.Evidence
}

const letterGroup = `(?:\(\s*([A-Za-z])\s*\)|\[\s*([A-Za-z])\s*\]|([A-Z]))`

var (
	reHTMLTag     = regexp.MustCompile(`</?[A-Za-z][^<>]{0,200}>`)
	reWhole       = regexp.MustCompile(`^[\(\[]?\s*([A-Za-z])\s*[\)\]]?\s*[.:]?$`)
	reAnswer      = regexp.MustCompile(`^(?i:(?:answers?\b(?:\s+(?:is|was|would\s+be|will\s+be|should\s+be|must\s+be))?|答案\s*(?:是|为)?)\s*(?:[:=\-–—]\s*)?(?:(?:option|choice|letter)\s*)?)` + letterGroup)
	reChoose      = regexp.MustCompile(`^(?i:(?:choose|chose|pick|picked|select|selected|go\s+with|going\s+with|opt\s+for)\s+(?:(?:option|choice|letter|answer)\s*)?)` + letterGroup)
	reLeading     = regexp.MustCompile(`^(?:\(\s*([A-Za-z])\s*\)|\[\s*([A-Za-z])\s*\]|([A-Z])(?:[.:)]|\s+[-–—]|\s*\n))`)
	reHedge       = regexp.MustCompile(`^[\)\]]?\s*(?:,|/|\bor\b|\band\b)\s*` + letterGroup)
	reMention     = regexp.MustCompile(`^(?:\(\s*([A-Za-z])\s*\)|\[\s*([A-Za-z])\s*\]|([A-Z])\)|(?i:(?:option|choice)\s+)([A-Z]))`)
	answerCleaner = strings.NewReplacer("**", "", "__", "", "`", "", "\u00a0", " ")
)

// ExtractChoice extracts the answer letter from a response to a question
// with n options (the letters A.. up to n); choices, when given, are the
// options' texts, for the choice-text rule. See Choice for the rules.
func ExtractChoice(response string, choices []string, n int) Answer {
	text := cleanResponse(response)
	valid := func(l string) bool { return len(l) == 1 && int(l[0]-'A') < n && l[0] >= 'A' }

	// Rule 1: the whole response is a letter.
	if m := reWhole.FindStringSubmatch(text); m != nil {
		if l := strings.ToUpper(m[1]); valid(l) {
			return Answer{Letter: l, Rule: "whole response", Evidence: strconv.Quote(text)}
		}
	}
	lower := asciiLower(text)
	rules := []struct {
		name  string
		find  func() [][]int
		hedge bool
	}{
		{"answer statement", func() [][]int { return findKeyed(text, lower, reAnswer, answerKeys, false) }, true},
		{"choice statement", func() [][]int { return findKeyed(text, lower, reChoose, chooseKeys, false) }, true},
		{"leading letter", func() [][]int { return reLeading.FindAllStringSubmatchIndex(text, 1) }, false},
		{"letter mention", func() [][]int { return findKeyed(text, lower, reMention, mentionKeys, true) }, false},
	}
	for _, r := range rules {
		if a, ok := letterRule(text, r.name, r.find(), r.hedge, valid); ok {
			return a
		}
	}
	if len(choices) > 0 {
		return choiceText(text, choices)
	}
	return Answer{}
}

// cleanResponse removes Markdown marks and HTML tags, maps full-width
// letters and brackets to ASCII, and trims the response.
func cleanResponse(s string) string {
	s = reHTMLTag.ReplaceAllString(s, " ")
	s = answerCleaner.Replace(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'Ａ' && r <= 'Ｚ':
			return r - 'Ａ' + 'A'
		case r >= 'ａ' && r <= 'ｚ':
			return r - 'ａ' + 'a'
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case r == '：':
			return ':'
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Keys are the lower-case literals at which the keyed patterns can match.
var (
	answerKeys  = []string{"answer", "答案"}
	chooseKeys  = []string{"choose", "chose", "pick", "select", "go", "opt"}
	mentionKeys = []string{"(", "[", "option", "choice"}
)

// keyedWindow bounds the text a keyed pattern reads from its key.
const keyedWindow = 160

// findKeyed finds the non-overlapping matches of the anchored pattern re
// that start at one of keys, as regexp's FindAllStringSubmatchIndex would
// for the unanchored pattern preceded by \b. It runs the pattern only on a
// short window at each key, found by a plain substring search of lower (the
// text with ASCII letters lower-cased), so that long responses cost linear
// time with a small constant. With letterParen, a capital letter followed
// by ")" is a key too (the "B)" form).
func findKeyed(text, lower string, re *regexp.Regexp, keys []string, letterParen bool) [][]int {
	var starts []int
	for _, k := range keys {
		for off := 0; ; {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			starts = append(starts, off+i)
			off += i + len(k)
		}
	}
	if letterParen {
		for off := 0; ; {
			i := strings.IndexByte(text[off:], ')')
			if i < 0 {
				break
			}
			if p := off + i; p > 0 && text[p-1] >= 'A' && text[p-1] <= 'Z' {
				starts = append(starts, p-1)
			}
			off += i + 1
		}
	}
	slices.Sort(starts)
	var out [][]int
	end := 0
	for _, s := range starts {
		if s < end {
			continue
		}
		// A key that starts with a letter must start a word.
		if c, _ := utf8.DecodeRuneInString(text[s:]); isWordRune(c) && s > 0 {
			if prev, _ := utf8.DecodeLastRuneInString(text[:s]); isWordRune(prev) {
				continue
			}
		}
		w := min(len(text), s+keyedWindow)
		m := re.FindStringSubmatchIndex(text[s:w])
		if m == nil {
			continue
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += s
			}
		}
		out = append(out, m)
		end = m[1]
	}
	return out
}

// asciiLower lower-cases the ASCII letters of s, keeping byte offsets.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// letterRule applies one letter rule to the matches its pattern found: it
// collects their distinct valid letters and decides when there is at least
// one. With hedge, a statement that names a second letter ("the answer is
// A or B") counts both.
func letterRule(text, name string, matches [][]int, hedge bool, valid func(string) bool) (Answer, bool) {
	var letters []string
	seen := map[string]bool{}
	evidence := ""
	for _, m := range matches {
		l, end := "", m[1]
		for g := 2; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				// The patterns admit lower-case letters only in brackets.
				l, end = text[m[g]:m[g+1]], m[g+1]
				break
			}
		}
		if l == "" || !bareLetterOK(text, l, end) {
			continue
		}
		l = strings.ToUpper(l)
		if !valid(l) {
			continue
		}
		found := []string{l}
		if hedge {
			if h := reHedge.FindStringSubmatch(text[end:]); h != nil {
				if l2 := strings.ToUpper(h[1] + h[2] + h[3]); valid(l2) && bareLetterOK(text, l2, end+len(h[0])) {
					found = append(found, l2)
				}
			}
		}
		for _, l := range found {
			if !seen[l] {
				seen[l] = true
				letters = append(letters, l)
			}
		}
		if evidence == "" {
			evidence = strconv.Quote(excerpt(strings.TrimSpace(text[m[0]:m[1]]), 60))
		}
	}
	switch len(letters) {
	case 0:
		return Answer{}, false
	case 1:
		return Answer{Letter: letters[0], Rule: name, Evidence: evidence}, true
	}
	return Answer{Ambiguous: true, Rule: name, Evidence: "conflicting letters " + strings.Join(letters, ", ")}, true
}

// bareLetterOK rejects a matched letter that continues as a word: followed
// by a letter, a digit or an apostrophe ("I'm", "B12"), or the pronoun I
// followed by a lower-case word ("I think").
func bareLetterOK(text, l string, end int) bool {
	rest := text[end:]
	next, size := utf8.DecodeRuneInString(rest)
	if size == 0 {
		return true
	}
	if unicode.IsLetter(next) || unicode.IsDigit(next) || next == '\'' || next == '’' {
		return false
	}
	if l == "I" && next == ' ' {
		after, _ := utf8.DecodeRuneInString(rest[1:])
		if unicode.IsLower(after) {
			return false
		}
	}
	return true
}

// choiceText is rule 6: the text of exactly one choice occurs in the
// response.
func choiceText(text string, choices []string) Answer {
	hay := NormalizeAnswer(text, false)
	type hit struct {
		i    int
		norm string
	}
	var hits []hit
	for i, c := range choices {
		nc := NormalizeAnswer(c, false)
		if nc == "" {
			continue
		}
		if indexAtBoundary(hay, nc) >= 0 {
			hits = append(hits, hit{i, nc})
		}
	}
	var kept []hit
	for _, h := range hits {
		inside := false
		for _, o := range hits {
			if o.i != h.i && len(o.norm) > len(h.norm) && strings.Contains(o.norm, h.norm) {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, h)
		}
	}
	switch len(kept) {
	case 0:
		return Answer{}
	case 1:
		return Answer{Letter: letter(kept[0].i), Rule: "choice text", Evidence: strconv.Quote(excerpt(choices[kept[0].i], 60))}
	}
	ls := make([]string, len(kept))
	for k, h := range kept {
		ls[k] = letter(h.i)
	}
	return Answer{Ambiguous: true, Rule: "choice text", Evidence: "texts of choices " + strings.Join(ls, ", ")}
}
