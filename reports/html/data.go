package html

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"container/heap"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"path/filepath"
	"slices"
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
//
// The browser holds a sample of at most Options.Sample trials (N of the
// Total), so that the page and the memory of writing it do not grow with
// the run; the counts of the filters are exact, from every trial: Cells
// counts the trials of each suite × model × attack, Verdicts the trials of
// each verdict in each cell.
type browserData struct {
	N int `json:"n"`
	// Total is the number of trials of the run, N of them in the sample.
	Total   int64    `json:"total"`
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

	// Row is each sampled trial's row in responses.parquet, from 1.
	Row    []int64 `json:"row"`
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

	// Cells are the suite × model × attack combinations of the run, as
	// indexes into Suites, Models and Attacks; CellN counts their trials
	// and CellErr their failed trials.
	Cells   [][3]int32 `json:"cells"`
	CellN   []int64    `json:"cell_n"`
	CellErr []int64    `json:"cell_err"`
	// Verdicts are the filter's verdicts, with their exact counts.
	Verdicts []*verdict `json:"verdicts"`
}

// verdict is one choice of the verdict filter: the trials whose score of
// metric column K has label Label (an index into Str), or, for a binary
// column without labels, value Value; Label -1 is a judge error. N counts
// the trials of each cell that have it.
type verdict struct {
	K     int     `json:"k"`
	Label int32   `json:"label"`
	Value *num    `json:"value,omitempty"`
	N     []int64 `json:"n"`
}

// DefaultSample is the default number of trials the sample browser holds.
const DefaultSample = 5000

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

// sampled is a trial of the sample: its row and key hash, and its row of
// responses.parquet (texts capped).
type sampled struct {
	row  int64
	hash uint64
	cut  int32 // runes cut from the response
	r    bench.ResponseRow
}

// trialHash is the hash of a trial key that picks the sample: the same for
// every report of a run.
func trialHash(suite, sample, model, attack string, epoch int32) uint64 {
	// FNV-1a, inline: no allocation per trial.
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [...]string{suite, sample, model, attack} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h *= prime // a 0 byte between fields
	}
	for i := 0; i < 4; i++ {
		h = (h ^ uint64(byte(epoch>>(8*i)))) * prime
	}
	return h
}

// sampleHeap is a max-heap by hash: the trials with the lowest hashes seen.
type sampleHeap []*sampled

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].hash > h[j].hash }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(*sampled)) }
func (h *sampleHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// collect streams responses.parquet and scores.parquet of dir into the
// browser's columns: a sample of at most sampleSize trials (every trial
// when sampleSize ≤ 0), those whose keys hash lowest, in the order of
// responses.parquet; and the exact counts of every filter over all trials.
// Its memory depends on sampleSize and the number of cells and verdicts,
// not on the number of trials.
func collect(dir string, maxText, pageSize, sampleSize int, modelOrder, suiteOrder []string) (*browserData, error) {
	// Every list starts empty, not nil: a run without trials or without
	// any score must marshal [] (the page's script maps over them), not null.
	d := &browserData{MaxText: max(maxText, 0), PageSize: pageSize,
		Row: []int64{}, Suite: []int32{}, Model: []int32{}, Attack: []int32{}, Sample: []int32{}, Epoch: []int32{}, Prompt: []int32{},
		System: []int32{}, Finish: []int32{}, Err: []int32{}, Resp: []string{}, Cut: []int32{}, Tokens: []int64{},
		Latency: []num{}, Metrics: []*metricColumn{}, Cells: [][3]int32{}, CellN: []int64{}, CellErr: []int64{},
		Verdicts: []*verdict{}}
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
	cells := map[[3]int32]int{}
	cellOf := func(suite, model, attack string) int {
		k := [3]int32{suites.id(suite), models.id(model), attacks.id(attack)}
		c, ok := cells[k]
		if !ok {
			c = len(d.Cells)
			cells[k] = c
			d.Cells = append(d.Cells, k)
			d.CellN = append(d.CellN, 0)
			d.CellErr = append(d.CellErr, 0)
		}
		return c
	}
	var h sampleHeap
	var all []*sampled // sampleSize ≤ 0: every trial
	var row int64
	err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		row++
		c := cellOf(r.Suite, r.Model, r.Attack)
		d.CellN[c]++
		if r.Error != nil && *r.Error != "" {
			d.CellErr[c]++
		}
		take := func() *sampled {
			r.Prompt = capText(r.Prompt, maxText)
			r.System = capText(r.System, maxText)
			if r.Error != nil {
				r.Error = bench.StrPtr(capText(*r.Error, maxText))
			}
			r.Messages = nil
			sm := &sampled{row: row, r: r}
			sm.r.Response, sm.cut = cut(r.Response, maxText)
			return sm
		}
		if sampleSize <= 0 {
			all = append(all, take())
			return nil
		}
		hs := trialHash(r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch)
		if len(h) < sampleSize {
			sm := take()
			sm.hash = hs
			heap.Push(&h, sm)
		} else if hs < h[0].hash {
			sm := take()
			sm.hash = hs
			h[0] = sm
			heap.Fix(&h, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Total = row
	if sampleSize > 0 {
		all = h
		slices.SortFunc(all, func(a, b *sampled) int { return cmp.Compare(a.row, b.row) })
	}
	index := make(map[trialKey]int32, len(all))
	for i, sm := range all {
		r := &sm.r
		index[trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}] = int32(i)
		d.Row = append(d.Row, sm.row)
		d.Suite = append(d.Suite, suites.id(r.Suite))
		d.Model = append(d.Model, models.id(r.Model))
		d.Attack = append(d.Attack, attacks.id(r.Attack))
		d.Sample = append(d.Sample, str.id(r.SampleID))
		d.Epoch = append(d.Epoch, r.Epoch)
		d.Prompt = append(d.Prompt, str.id(r.Prompt))
		d.System = append(d.System, str.id(r.System))
		d.Finish = append(d.Finish, str.id(r.FinishReason))
		d.Err = append(d.Err, str.id(bench.Deref(r.Error)))
		d.Resp = append(d.Resp, r.Response)
		d.Cut = append(d.Cut, sm.cut)
		d.Tokens = append(d.Tokens, r.PromptTokens, r.CompletionTokens)
		d.Latency = append(d.Latency, num(r.LatencyMS))
	}
	d.N = len(all)
	all, h = nil, nil

	type colKey struct{ judge, metric, rater string }
	cols := map[colKey]int{}
	// The verdicts of each column: by label id (-1: judge error), and by
	// value (0 or 1) for columns without labels.
	type colVerdicts struct {
		byLabel map[int32][]int64
		byValue [2][]int64
	}
	var cv []*colVerdicts
	count := func(counts *[]int64, cell int) {
		if len(*counts) < len(d.Cells) {
			*counts = append(*counts, make([]int64, len(d.Cells)-len(*counts))...)
		}
		(*counts)[cell]++
	}
	err = bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		k := colKey{r.Judge, r.Metric, r.Rater}
		ci, ok := cols[k]
		if !ok {
			ci = len(d.Metrics)
			cols[k] = ci
			d.Metrics = append(d.Metrics, &metricColumn{Judge: r.Judge, Metric: r.Metric, Rater: r.Rater, Binary: true,
				T: []int32{}, V: []num{}, L: []int32{}, X: []int32{}, E: []int32{}})
			cv = append(cv, &colVerdicts{byLabel: map[int32][]int64{}})
		}
		c := d.Metrics[ci]
		v := math.NaN()
		if r.Value != nil {
			v = *r.Value
			if v != 0 && v != 1 {
				c.Binary = false
			}
		}
		// The exact counts, from every score row.
		cell := cellOf(r.Suite, r.Model, r.Attack)
		vs := cv[ci]
		if r.Error != nil && *r.Error != "" {
			counts := vs.byLabel[-1]
			count(&counts, cell)
			vs.byLabel[-1] = counts
		}
		if r.Label != "" {
			l := str.id(r.Label)
			counts := vs.byLabel[l]
			count(&counts, cell)
			vs.byLabel[l] = counts
		} else if v == 0 || v == 1 {
			count(&vs.byValue[int(v)], cell)
		}
		// The sampled trial's score.
		i, ok := index[trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}]
		if !ok {
			return nil // not in the sample, or a score without its response (a merged or partial run)
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
	pad := func(n []int64) []int64 { return append(n, make([]int64, len(d.Cells)-len(n))...) }
	for ci, vs := range cv {
		for _, l := range slices.Sorted(maps.Keys(vs.byLabel)) {
			d.Verdicts = append(d.Verdicts, &verdict{K: ci, Label: l, N: pad(vs.byLabel[l])})
		}
		if !d.Metrics[ci].Binary {
			continue
		}
		for v, n := range vs.byValue {
			if n != nil {
				val := num(v)
				d.Verdicts = append(d.Verdicts, &verdict{K: ci, Value: &val, N: pad(n)})
			}
		}
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
