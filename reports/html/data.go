package html

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
)

// interner assigns each distinct string a small integer; index 0 is the
// empty string.
type interner struct {
	idx  map[string]int32
	list []string
}

func newInterner() *interner {
	return &interner{idx: map[string]int32{"": 0}, list: []string{""}}
}

func (in *interner) id(s string) int32 {
	if i, ok := in.idx[s]; ok {
		return i
	}
	i := int32(len(in.list))
	in.idx[s] = i
	in.list = append(in.list, s)
	return i
}

// num is a float64 that marshals with at most six significant digits (the
// report shows values, it does not store them), NaN as null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', 6, 64), nil
}

// metricColumn holds the scores of one judge × metric (× rater) for the
// trials that have it: parallel arrays indexed by entry, T giving the
// trial.
type metricColumn struct {
	Judge  string `json:"judge"`
	Metric string `json:"metric"`
	Rater  string `json:"rater,omitempty"`
	// Binary is true when every value is 0 or 1.
	Binary bool    `json:"binary"`
	T      []int32 `json:"t"`
	V      []num   `json:"v"`
	// L, X and E index the label, the explanation (the judge's reason) and
	// the error in the string table.
	L []int32 `json:"l"`
	X []int32 `json:"x"`
	E []int32 `json:"e"`
}

// browserData is the JSON of the per-sample browser. Strings that repeat
// (suites, models, attacks, labels, sample ids, prompts, reasons) are sent
// once in tables; trials refer to them by index, so filters compare
// integers.
type browserData struct {
	N       int      `json:"n"`
	Suites  []string `json:"suites"`
	Models  []string `json:"models"`
	Attacks []string `json:"attacks"`
	// Str is the string table of sample ids, prompts, system prompts,
	// finish reasons, labels, explanations and errors.
	Str []string `json:"str"`
	// MaxText is the cap on embedded texts (0: none).
	MaxText int `json:"max_text"`
	// PageSize is the number of rows per page.
	PageSize int `json:"page_size"`

	Suite  []int32 `json:"suite"`
	Model  []int32 `json:"model"`
	Attack []int32 `json:"attack"`
	Sample []int32 `json:"sample"`
	Epoch  []int32 `json:"epoch"`
	Prompt []int32 `json:"prompt"`
	System []int32 `json:"system"`
	Finish []int32 `json:"finish"`
	Err    []int32 `json:"err"`
	// Resp holds the responses (capped at MaxText runes); Cut the number
	// of runes cut from each.
	Resp    []string `json:"resp"`
	Cut     []int32  `json:"cut"`
	Tokens  []int64  `json:"tokens"` // prompt, completion interleaved
	Latency []num    `json:"latency"`

	Metrics []*metricColumn `json:"metrics"`
}

type trialKey struct {
	suite, sample, model, attack string
	epoch                        int32
}

// cut returns s capped at max runes and the number of runes cut.
func cut(s string, max int) (string, int32) {
	if max <= 0 || len(s) <= max {
		return s, 0
	}
	n := utf8.RuneCountInString(s)
	if n <= max {
		return s, 0
	}
	i, k := 0, 0
	for k < max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		k++
	}
	return s[:i], int32(n - max)
}

// capText caps a text interned into the string table, with a note saying
// how much was left out.
func capText(s string, max int) string {
	c, n := cut(s, max)
	if n == 0 {
		return s
	}
	return c + "… [" + strconv.Itoa(int(n)) + " more characters in the Parquet files]"
}

// collect streams responses.parquet and scores.parquet of dir into the
// browser's columns.
func collect(dir string, maxText, pageSize int, modelOrder, suiteOrder []string) (*browserData, error) {
	// Every list starts empty, not nil: a run without trials or without
	// any score must marshal [] (the page's script maps over them), not null.
	d := &browserData{MaxText: max(maxText, 0), PageSize: pageSize,
		Suite: []int32{}, Model: []int32{}, Attack: []int32{}, Sample: []int32{}, Epoch: []int32{}, Prompt: []int32{},
		System: []int32{}, Finish: []int32{}, Err: []int32{}, Resp: []string{}, Cut: []int32{}, Tokens: []int64{},
		Latency: []num{}, Metrics: []*metricColumn{}}
	str := newInterner()
	suites, models, attacks := newInterner(), newInterner(), newInterner()
	// Seed the dimension tables in manifest order; index 0 stays "".
	for _, s := range suiteOrder {
		suites.id(s)
	}
	for _, m := range modelOrder {
		models.id(m)
	}
	attacks.id("none")
	index := map[trialKey]int32{}
	err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		i := int32(d.N)
		d.N++
		index[trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}] = i
		d.Suite = append(d.Suite, suites.id(r.Suite))
		d.Model = append(d.Model, models.id(r.Model))
		d.Attack = append(d.Attack, attacks.id(r.Attack))
		d.Sample = append(d.Sample, str.id(r.SampleID))
		d.Epoch = append(d.Epoch, r.Epoch)
		d.Prompt = append(d.Prompt, str.id(capText(r.Prompt, maxText)))
		d.System = append(d.System, str.id(capText(r.System, maxText)))
		d.Finish = append(d.Finish, str.id(r.FinishReason))
		d.Err = append(d.Err, str.id(capText(bench.Deref(r.Error), maxText)))
		resp, n := cut(r.Response, maxText)
		d.Resp = append(d.Resp, resp)
		d.Cut = append(d.Cut, n)
		d.Tokens = append(d.Tokens, r.PromptTokens, r.CompletionTokens)
		d.Latency = append(d.Latency, num(r.LatencyMS))
		return nil
	})
	if err != nil {
		return nil, err
	}
	type colKey struct{ judge, metric, rater string }
	cols := map[colKey]*metricColumn{}
	err = bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		i, ok := index[trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}]
		if !ok {
			return nil // a score without its response (a merged or partial run)
		}
		k := colKey{r.Judge, r.Metric, r.Rater}
		c := cols[k]
		if c == nil {
			c = &metricColumn{Judge: r.Judge, Metric: r.Metric, Rater: r.Rater, Binary: true}
			cols[k] = c
			d.Metrics = append(d.Metrics, c)
		}
		v := math.NaN()
		if r.Value != nil {
			v = *r.Value
			if v != 0 && v != 1 {
				c.Binary = false
			}
		}
		c.T = append(c.T, i)
		c.V = append(c.V, num(v))
		c.L = append(c.L, str.id(r.Label))
		c.X = append(c.X, str.id(capText(r.Explanation, maxText)))
		c.E = append(c.E, str.id(capText(bench.Deref(r.Error), maxText)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Str, d.Suites, d.Models, d.Attacks = str.list, suites.list, models.list, attacks.list
	return d, nil
}

// marshalData encodes d as JSON safe to embed in a <script> element:
// json.Marshal escapes <, > and & (so no "</script>" or "<!--" can appear)
// and U+2028 and U+2029.
func marshalData(d *browserData) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// compress gzips JSON data into a JSON string of its base64, which the
// page inflates (repeated texts compress several times over).
func compress(data []byte) ([]byte, error) {
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(z.Len())+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, z.Bytes())
	return append(out, '"'), nil
}
