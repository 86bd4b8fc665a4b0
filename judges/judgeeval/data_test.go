package judgeeval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
)

func TestParseLabel(t *testing.T) {
	for in, want := range map[string]int8{"1": 1, "0": 0, " 1 ": 1, "1.0": 1, "0.0": 0, "1e0": 1, "TRUE": 1, "false": 0, "Yes": 1, "no": 0} {
		if got, ok := ParseLabel(in); !ok || got != want {
			t.Errorf("ParseLabel(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2", "0.5", "unsafe", "-1", "NaN"} {
		if _, ok := ParseLabel(in); ok {
			t.Errorf("ParseLabel(%q) accepted a label that is not 0/1-like", in)
		}
	}
}

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadReportsEveryBadRow: the problems of a file are reported at once,
// each with its line and column.
func TestLoadReportsEveryBadRow(t *testing.T) {
	p := write(t, "l.csv", "id,response,gold,ref\na,r,1,0\nb,r,2,1\na,r,0,x\n")
	_, err := Load(p, Columns{Label: "gold", ID: "id", References: []string{"ref"}}, nil)
	var es bench.InputErrors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("err = %v, want 3 input errors", err)
	}
	for i, want := range []string{p + ":3: gold: label \"2\"", p + ":4: ref: label \"x\"", p + `:4: id: id "a" repeats the row on line 2`} {
		if !strings.HasPrefix(es[i].Error(), want) {
			t.Errorf("error %d = %q, want it to start with %q", i, es[i], want)
		}
	}
}

// TestLoadColumns: defaults (response, an optional prompt column, row
// numbers as ids) and every column kept for the judges.
func TestLoadColumns(t *testing.T) {
	p := write(t, "l.jsonl", `{"prompt": "p1", "response": "r1", "y": true, "extra": 7}`+"\n"+`{"prompt": "p2", "response": "r2", "y": false, "extra": 8}`+"\n")
	d, err := Load(p, Columns{Label: "y"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 2 || d.Samples[1].ID != "2" || d.Samples[0].Input != "p1" || d.Samples[0].Response != "r1" ||
		d.Samples[1].Fields["extra"] != "8" || d.Labels[0] != 1 || d.Labels[1] != 0 {
		t.Errorf("loaded %+v labels %v", d.Samples, d.Labels)
	}
	if _, err := Load(p, Columns{}, nil); err == nil || !strings.Contains(err.Error(), "--label") {
		t.Errorf("no --label: %v", err)
	}
	if _, err := Load(write(t, "e.csv", "response,y\n"), Columns{Label: "y"}, nil); err == nil || !strings.Contains(err.Error(), "no rows") {
		t.Errorf("empty file: %v", err)
	}
}
