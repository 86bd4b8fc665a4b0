package rule

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestFindKeyedMatchesRegexp checks that the keyed search finds what the
// plain unanchored pattern, preceded by \b, finds on the whole text.
func TestFindKeyedMatchesRegexp(t *testing.T) {
	texts := []string{
		"The answer is B. Answer: C. answers: (d)",
		"ANSWER - option A; the answer would be [b]; reanswer: C",
		"I choose B, then I chose (C), pick D, selected A, go with B, going with C, opt for D, Go  With A",
		"ungo with B; choosey B; (B) answer",
		"答案是B，答案：C",
		strings.Repeat("filler text ", 500) + "final answer: D " + strings.Repeat("é", 300) + "I pick A",
		"answer" + strings.Repeat(" ", 10) + "B",
	}
	cases := []struct {
		name  string
		re    *regexp.Regexp
		keys  []string
		plain *regexp.Regexp
	}{
		{"answer", reAnswer, answerKeys, regexp.MustCompile(`(?:\b|^)` + strings.TrimPrefix(reAnswer.String(), "^"))},
		{"choose", reChoose, chooseKeys, regexp.MustCompile(`\b` + strings.TrimPrefix(reChoose.String(), "^"))},
	}
	for _, c := range cases {
		for _, text := range texts {
			got := findKeyed(text, asciiLower(text), c.re, c.keys, false)
			want := c.plain.FindAllStringSubmatchIndex(text, -1)
			if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
				t.Errorf("%s on %q:\n got %v\nwant %v", c.name, text[:min(len(text), 60)], got, want)
			}
		}
	}
}
