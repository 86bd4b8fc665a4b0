package jsontext

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// std is what encoding/json writes for v with HTML escaping off.
func std(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", `q " b \ /`, "\t\n\r\a\f\b\x00\x1f\x7f", "<&>", "héllo 🙂", "bad \xff\xfe", "\xe2\x80", "\u2028\u2029"} {
		f.Add(s, 0.1)
	}
	f.Add("x", 1e21)
	f.Add("x", 1e-7)
	f.Add("x", math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, s string, v float64) {
		if got, want := AppendString(nil, s), std(t, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := AppendFloat(nil, v), std(t, v); !bytes.Equal(got, want) {
			t.Fatalf("AppendFloat(%v) = %s, encoding/json %s", v, got, want)
		}
	})
}
