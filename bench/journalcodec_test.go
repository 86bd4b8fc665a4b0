package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// stdEncode is the reference: what encoding/json writes for e.
func stdEncode(t testing.TB, e *Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var trickyStrings = []string{
	"", "plain", `quote " and backslash \ and slash /`, "tab\tnewline\nreturn\rbell\afeed\fbackspace\b",
	"\x00\x01\x1f\x7f", "<script>&amp;</script>", "héllo wörld ✓ 🙂", "bad utf-8 \xff\xfe here", "\xe2\x80",
	"line sep \u2028 para sep \u2029", "a\\u0041", strings.Repeat("long ", 200),
}

var trickyFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.0 / 3, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300,
	5e-324, math.MaxFloat64, -2.5e-9, 123456789.125, 7}

func codecEntries() []*Entry {
	var out []*Entry
	for i, s := range trickyStrings {
		f := trickyFloats[i%len(trickyFloats)]
		out = append(out, &Entry{Kind: EntryTrial, Index: int64(i) * 1e12, Suite: s, SampleID: s + "id", Model: "m", Attack: "none",
			Epoch: i, Prompt: s, System: s, Messages: []Message{{Role: "user", Content: s}, {Role: "assistant", Content: ""}},
			Result: &Completion{Text: s, FinishReason: "stop", PromptTokens: 12, CompletionTokens: -3,
				Latency: 1500 * time.Microsecond, Attempts: 2, Cached: i%2 == 0},
			Error: s, Scores: []Score{{Judge: "refusal", Metric: "refusal", Value: f, Label: s, Explanation: s, Error: s, Rater: s, Version: s},
				{Judge: "j", Metric: "x"}}})
	}
	for _, f := range trickyFloats {
		out = append(out, &Entry{Kind: EntryScores, Scores: []Score{{Judge: "j", Metric: "x", Value: f}, {Value: -f}}})
	}
	for _, f := range trickyFloats {
		lp := -f
		out = append(out, &Entry{Kind: EntryScores, Result: &Completion{Text: "scored", Logprob: &lp, LogprobTokens: 4}})
	}
	out = append(out, &Entry{}, &Entry{Kind: EntryTrial, Result: &Completion{}}, &Entry{Index: -1, Epoch: -7})
	return out
}

func TestJournalCodecWritesWhatEncodingJSONWrites(t *testing.T) {
	for i, e := range codecEntries() {
		got, err := appendEntry(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if want := stdEncode(t, e); !bytes.Equal(got, want) {
			t.Errorf("entry %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestJournalCodecRefusesNaNAsEncodingJSONDoes(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := appendEntry(nil, &Entry{Scores: []Score{{Value: v}}})
		_, want := json.Marshal(&Entry{Scores: []Score{{Value: v}}})
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("value %v: error %v, encoding/json says %v", v, err, want)
		}
	}
}

// checkDecode decodes line with the journal decoder and with
// encoding/json and fails unless both agree: the same entry, or both an
// error with the same message.
func checkDecode(t *testing.T, line []byte) {
	t.Helper()
	var got, want Entry
	gerr := newEntryDecoder().decode(line, &got)
	werr := json.Unmarshal(line, &want)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("line %q: error %v, encoding/json says %v", line, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("line %q:\n got %#v\nwant %#v", line, got, want)
	}
}

func TestJournalCodecReadsWhatEncodingJSONReads(t *testing.T) {
	for _, e := range codecEntries() {
		line, _ := appendEntry(nil, e)
		checkDecode(t, line)
		checkDecode(t, append(line, '\n'))
		var back Entry
		if err := newEntryDecoder().decode(line, &back); err != nil {
			t.Fatal(err)
		}
		// Invalid UTF-8 was written as \ufffd and reads back as U+FFFD.
		if want := stdEncode(t, &back); !bytes.Contains(line, []byte(`\ufffd`)) && !bytes.Equal(want, line) {
			t.Errorf("round trip changed the entry:\n%s\n%s", line, want)
		}
	}
	// Lines off the fast path: escapes, white space, unknown or differently
	// cased keys, nulls, repeated keys, wrong types, numbers of every shape,
	// broken JSON.
	for _, s := range []string{
		`{"k":"trial","i":3,"suite":"s\u00e9\n","epoch":2}`,
		` { "k" : "trial" , "i" : 3 , "scores" : [ { "value" : 1.5e-3 } ] } `,
		`{"k":"trial","extra":{"a":[1,2,{"b":null}]},"i":1}`,
		`{"K":"trial","I":4,"Suite":"x"}`,
		`{"k":null,"i":null,"c":null,"scores":null,"messages":null}`,
		`{"k":"a","k":"b"}`,
		`{"c":{"text":"a"},"c":{"attempts":2}}`,
		`{"scores":[{"value":1}],"scores":[{"judge":"x"}]}`,
		`{"i":"3"}`, `{"i":1.0}`, `{"i":1e2}`, `{"i":-0}`, `{"i":99999999999999999999}`,
		`{"scores":[{"value":-0.0}]}`, `{"scores":[{"value":1E+2}]}`, `{"scores":[{"value":01}]}`,
		`{"scores":[{"value":1e999}]}`, `{"scores":[{"value":.5}]}`, `{"scores":[{"value":"1"}]}`,
		`{"c":{"cached":true}}`, `{"c":{"cached":false}}`, `{"c":{"cached":"yes"}}`,
		`{"scores":[]}`, `{"messages":[]}`, `{"c":{}}`, `{}`,
		`{"k":"trial"`, `{"k":"trial"}x`, `{"k":"tr` + "\x01" + `ial"}`, `[1]`, ``, `{"k":"\ud800"}`,
		"{\"k\":\"bad \xff utf-8\"}", `{"k":"trial",}`, `{,}`,
	} {
		checkDecode(t, []byte(s))
	}
}

func TestJournalCodecInternsWithoutAliasing(t *testing.T) {
	d := newEntryDecoder()
	line := []byte(`{"k":"trial","i":1,"suite":"s","model":"m","attack":"none","epoch":1}`)
	var a, b Entry
	if err := d.decode(line, &a); err != nil {
		t.Fatal(err)
	}
	copy(line, bytes.Repeat([]byte("#"), len(line))) // the buffer is reused by the reader
	line = []byte(`{"k":"trial","i":2,"suite":"s","model":"m","attack":"none","epoch":1}`)
	if err := d.decode(line, &b); err != nil {
		t.Fatal(err)
	}
	if a.Suite != "s" || a.Model != "m" || a.Kind != "trial" || b.Index != 2 {
		t.Errorf("decoded entries changed with the buffer: %+v %+v", a, b)
	}
}

func FuzzJournalCodec(f *testing.F) {
	for i, s := range trickyStrings {
		f.Add(s, trickyFloats[i%len(trickyFloats)], int64(i))
	}
	f.Fuzz(func(t *testing.T, s string, v float64, n int64) {
		e := &Entry{Kind: s, Index: n, Suite: s, Prompt: s, Result: &Completion{Text: s, Latency: time.Duration(n)},
			Scores: []Score{{Judge: s, Value: v, Explanation: s}}}
		got, err := appendEntry(nil, e)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if err == nil {
				t.Fatal("NaN or Inf encoded")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := stdEncode(t, e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		checkDecode(t, got)
		checkDecode(t, []byte(s)) // arbitrary bytes as a line
	})
}

func BenchmarkJournalCodec(b *testing.B) {
	e := &Entry{Kind: EntryTrial, Index: 123456, Suite: "perf", SampleID: "p0001234", Model: "aligned", Attack: "none", Epoch: 3,
		Prompt: "Question 1234: please explain how to bake sourdough bread, step by step, in plain words.", System: "You are a helpful assistant.",
		Result: &Completion{Text: "Sure. Here is a short, careful answer: start with the basics, work through each step in order, and check the result as you go.",
			FinishReason: "stop", PromptTokens: 24, CompletionTokens: 34, Latency: 812345, Attempts: 1},
		Scores: []Score{{Judge: "refusal", Metric: "refusal", Value: 0, Label: "compliance", Version: "refusal/1-6e2d6681"},
			{Judge: "harm", Metric: "harm_prob", Value: 0.7471073602597865, Version: "harm-lr-1a41cce8"}}}
	line, _ := appendEntry(nil, e)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf, _ = appendEntry(buf[:0], e)
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			enc.Encode(e)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		d := newEntryDecoder()
		for b.Loop() {
			var e Entry
			d.decode(line, &e)
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			var e Entry
			json.Unmarshal(line, &e)
		}
	})
}
