package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func BenchmarkReadRowsJSONL(b *testing.B) {
	var sb strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&sb, `{"id":"p%07d","input":"Question %d: please explain how to bake sourdough bread, step by step, in plain words.","n":%d}`+"\n", i, i, i)
	}
	path := filepath.Join(b.TempDir(), "prompts.jsonl")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := ReadRows(path, Options{}, func(int, Row) error { n++; return nil }); err != nil || n != 20000 {
			b.Fatal(err, n)
		}
	}
}

func FuzzQuickObjectMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"p1","input":"plain","n":3}`,
		`{"a":"esc \" \\ \n \u00e9 \ud83d\ude00 \ud800 x","b":[1,2.5,-0,1e400,12345678901234567890],"c":{"d":null,"e":true,"f":false}}`,
		`{"a":1,"a":2}`, `{}`, `[]`, `null`, `{"a":01}`, `{"a":"x"} trailing`, `{"a":"ctl` + "\x01" + `"}`,
		`  {"x" : [ {"y" : [ ] } ] }  `, `{"a":"\u12"}`, `{"n":-1.5e-3,"m":1E+2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) {
			return // decodeObject repairs invalid UTF-8 before decoding
		}
		quick, ok := quickObject(raw)
		if !ok {
			return
		}
		v, err := stdValue(raw)
		if err != nil {
			t.Fatalf("quickObject accepted %q, which encoding/json rejects: %v", raw, err)
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			t.Fatalf("quickObject accepted %q, which is %T", raw, v)
		}
		if want := fromJSON(m); !reflect.DeepEqual(map[string]any(quick), want) {
			t.Fatalf("%q: quickObject %#v, encoding/json %#v", raw, quick, want)
		}
	})
}

func TestQuickObjectTakesTheCommonLines(t *testing.T) {
	for _, s := range []string{`{"id":"p1","input":"plain","n":3}`, `{"a":"esc \" \n \u00e9","b":[1,{"c":null}]}`} {
		if _, ok := quickObject([]byte(s)); !ok {
			t.Errorf("quickObject gave up on %s", s)
		}
	}
}
