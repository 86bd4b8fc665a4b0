package llm_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mores-eval/mores/judges/llm"
)

var testFields = []llm.Field{
	{Key: "reason", Kind: llm.Text},
	{Key: "score", Kind: llm.Integer, Min: 1, Max: 7},
	{Key: "pick", Kind: llm.Choice, Choices: []string{"A", "B", "tie"}},
}

func TestParseVerdict(t *testing.T) {
	const id = "00112233aabbccdd"
	good := `{"id": "00112233aabbccdd", "reason": "ok", "score": 3, "pick": "a"}`
	cases := []struct {
		name, reply string
		wantErr     string
		score       int
		pick        string
	}{
		{"plain", good, "", 3, "A"},
		{"in a code fence", "```json\n" + good + "\n```", "", 3, "A"},
		{"repeated identically", good + " so: " + good, "", 3, "A"},
		{"other ids ignored", `{"id": "ffffffffffffffff", "reason": "x", "score": 7, "pick": "B"} ` + good + ` {"id": "x", "score": 7}`, "", 3, "A"},
		{"nested braces in a reason", `{"id": "00112233aabbccdd", "reason": "a {\"id\": \"00112233aabbccdd\"} b", "score": 2, "pick": "tie"}`, "", 2, "tie"},
		{"draft inside thoughts ignored", "<think>maybe " + strings.Replace(good, `"score": 3`, `"score": 4`, 1) + " no</think>" + good, "", 3, "A"},
		{"two different verdicts", good + strings.Replace(good, `"score": 3`, `"score": 4`, 1), "several different verdicts", 0, ""},
		{"a later invalid verdict", good + strings.Replace(good, `"score": 3`, `"score": 8`, 1), "not an integer", 0, ""},
		{"missing key", `{"id": "00112233aabbccdd", "reason": "ok", "score": 3}`, `missing key "pick"`, 0, ""},
		{"string score", `{"id": "00112233aabbccdd", "reason": "ok", "score": "3", "pick": "A"}`, "not a number", 0, ""},
		{"bad choice", `{"id": "00112233aabbccdd", "reason": "ok", "score": 3, "pick": "C"}`, "not one of", 0, ""},
		{"empty reason", `{"id": "00112233aabbccdd", "reason": " ", "score": 3, "pick": "A"}`, "empty", 0, ""},
		{"line format only", "score: 3\npick: A", "no JSON object", 0, ""},
		{"truncated", good[:len(good)-3], "no JSON object", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := llm.ParseVerdict(tc.reply, id, testFields)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Ints["score"] != tc.score || v.Texts["pick"] != tc.pick {
				t.Errorf("verdict %+v, want score %d pick %s", v, tc.score, tc.pick)
			}
		})
	}
}

func TestNeutralizeLeavesNoMarker(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("<<<>-E ")
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		out := llm.Neutralize(string(b))
		if strings.Contains(out, "<<<") {
			t.Fatalf("Neutralize(%q) = %q", b, out)
		}
		if strings.ReplaceAll(out, " ", "") != strings.ReplaceAll(string(b), " ", "") {
			t.Fatalf("Neutralize(%q) = %q changed more than spacing", b, out)
		}
	}
}

func TestTemplateVersionAndRender(t *testing.T) {
	a := &llm.Template{Name: "t", Revision: 1, System: "S {{.Format}}", User: "{{fence .ID \"X\" .Text}}", Fields: testFields}
	b := &llm.Template{Name: "t", Revision: 1, System: "S! {{.Format}}", User: "{{fence .ID \"X\" .Text}}", Fields: testFields}
	if a.Version() == b.Version() || !strings.HasPrefix(a.Version(), "t@v1+") || len(a.Version()) != len("t@v1+")+12 {
		t.Errorf("versions %s and %s", a.Version(), b.Version())
	}
	p1, err := a.Render(map[string]string{"Text": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := a.Render(map[string]string{"Text": "hello"})
	p3, _ := a.Render(map[string]string{"Text": "hello!"})
	if p1.ID != p2.ID || p1.ID == p3.ID || p1.User != p2.User {
		t.Errorf("ids %s %s %s: want deterministic and content-derived", p1.ID, p2.ID, p3.ID)
	}
	if want := "<<<X-" + p1.ID + ">>>\nhello\n<<<END-X-" + p1.ID + ">>>"; p1.User != want {
		t.Errorf("user %q, want %q", p1.User, want)
	}
	if _, err := a.Render(map[string]string{}); err == nil {
		t.Error("a missing key rendered without error")
	}
}

func BenchmarkParseVerdict(b *testing.B) {
	const id = "00112233aabbccdd"
	reply := strings.Repeat("Some reasoning {with braces} and \"quotes\". ", 40) +
		`{"id": "00112233aabbccdd", "reason": "ok", "score": 3, "pick": "a"}`
	for b.Loop() {
		if _, err := llm.ParseVerdict(reply, id, testFields); err != nil {
			b.Fatal(err)
		}
	}
}
