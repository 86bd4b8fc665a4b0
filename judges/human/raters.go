package human

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/mores-eval/mores/bench"
)

// maxRaterID is the longest rater id accepted.
const maxRaterID = 64

// ParseRaters reads the --raters flag: a number N gives rater-1 … rater-N;
// anything else names a file with one rater id per line (blank lines and
// lines starting with # are skipped). Ids are at most 64 printable
// characters without spaces, and unique; a bad id is a *bench.InputError
// naming the file and line.
func ParseRaters(spec string) ([]string, error) {
	if n, err := strconv.Atoi(spec); err == nil {
		if n < 1 || n > 10000 {
			return nil, &bench.InputError{File: "--raters", Msg: fmt.Sprintf("%d raters: want 1 to 10000", n)}
		}
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("rater-%d", i+1)
		}
		return ids, nil
	}
	f, err := os.Open(spec)
	if err != nil {
		return nil, &bench.InputError{File: spec, Msg: "--raters wants a number or a file of rater ids: " + err.Error()}
	}
	defer f.Close()
	var ids []string
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		if msg := checkRaterID(id); msg != "" {
			return nil, &bench.InputError{File: spec, Line: line, Field: "rater", Msg: msg}
		}
		if prev, dup := seen[id]; dup {
			return nil, &bench.InputError{File: spec, Line: line, Field: "rater", Msg: fmt.Sprintf("%q is listed already on line %d", id, prev)}
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, &bench.InputError{File: spec, Line: line, Msg: err.Error()}
	}
	if len(ids) == 0 {
		return nil, &bench.InputError{File: spec, Msg: "no rater ids"}
	}
	return ids, nil
}

// checkRaterID returns what is wrong with a rater id, or "".
func checkRaterID(id string) string {
	if len(id) > maxRaterID {
		return fmt.Sprintf("id of %d bytes: at most %d", len(id), maxRaterID)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Sprintf("id %q holds a space or an unprintable character", id)
		}
	}
	if id == "all" {
		return `"all" is reserved (--reissue all)`
	}
	return ""
}
