package stats_test

import (
	"fmt"

	"github.com/mores-eval/mores/bench/stats"
)

// The two examples of Newcombe (1998, Statistics in Medicine 17:857,
// Table I, method 3): 81 of 263 and 15 of 148, at 95%.
func ExampleWilson() {
	for _, c := range []struct{ k, n int }{{81, 263}, {15, 148}} {
		lo, hi := stats.Wilson(c.k, c.n, 0.95)
		fmt.Printf("%d/%d: %.4f [%.4f, %.4f]\n", c.k, c.n, float64(c.k)/float64(c.n), lo, hi)
	}
	// Output:
	// 81/263: 0.3080 [0.2553, 0.3662]
	// 15/148: 0.1014 [0.0624, 0.1605]
}
