package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// SchemaVersion is the version of the Parquet schemas of a run directory,
// recorded in each file's key/value metadata under SchemaKey.
const SchemaVersion = "1"

// SchemaKey is the Parquet metadata key that holds SchemaVersion.
const SchemaKey = "mores.schema_version"

// File names inside a run directory.
const (
	ManifestFile = "manifest.json"
	// JournalFile is the journal of a run: its lines as zstd frames.
	JournalFile = "journal.jsonl.zst"
	// PlainJournalFile is the journal of runs written before version
	// 0.3, one line per entry; it is still read and appended to.
	PlainJournalFile = "journal.jsonl"
	ResponsesFile    = "responses.parquet"
	ScoresFile       = "scores.parquet"
	SummaryFile      = "summary.parquet"
)

// ResponseRow is one row of responses.parquet: one trial.
type ResponseRow struct {
	RunID            string  `parquet:"run_id,dict" json:"run_id"`
	Suite            string  `parquet:"suite,dict" json:"suite"`
	SampleID         string  `parquet:"sample_id" json:"sample_id"`
	Model            string  `parquet:"model,dict" json:"model"`
	Attack           string  `parquet:"attack,dict" json:"attack"`
	Epoch            int32   `parquet:"epoch" json:"epoch"`
	Prompt           string  `parquet:"prompt" json:"prompt"`
	Response         string  `parquet:"response" json:"response"`
	FinishReason     string  `parquet:"finish_reason,dict" json:"finish_reason"`
	PromptTokens     int64   `parquet:"prompt_tokens" json:"prompt_tokens"`
	CompletionTokens int64   `parquet:"completion_tokens" json:"completion_tokens"`
	LatencyMS        float64 `parquet:"latency_ms" json:"latency_ms"`
	Attempts         int32   `parquet:"attempts" json:"attempts"`
	Cached           bool    `parquet:"cached" json:"cached"`
	Error            *string `parquet:"error,optional" json:"error"`
	// System is the system prompt sent with the trial (an added column).
	System string `parquet:"system,dict" json:"system"`
	// Messages is the whole conversation of a multi-turn trial as a JSON
	// array of {role, content}, its last user turn being Prompt; null for a
	// single-turn trial (an added column).
	Messages *string `parquet:"messages,optional" json:"messages"`
	// CostUSD is what the request cost, in US dollars, at the model's price
	// (batch answers at half price); 0 for a cached answer, a failed trial
	// or a model with no price (an added column).
	CostUSD float64 `parquet:"cost_usd" json:"cost_usd"`
}

// ScoreRow is one row of scores.parquet: one trial × judge × metric.
type ScoreRow struct {
	RunID       string   `parquet:"run_id,dict" json:"run_id"`
	Suite       string   `parquet:"suite,dict" json:"suite"`
	SampleID    string   `parquet:"sample_id" json:"sample_id"`
	Model       string   `parquet:"model,dict" json:"model"`
	Attack      string   `parquet:"attack,dict" json:"attack"`
	Epoch       int32    `parquet:"epoch" json:"epoch"`
	Judge       string   `parquet:"judge,dict" json:"judge"`
	Metric      string   `parquet:"metric,dict" json:"metric"`
	Value       *float64 `parquet:"value,optional" json:"value"`
	Label       string   `parquet:"label,dict" json:"label"`
	Explanation string   `parquet:"explanation" json:"explanation"`
	Error       *string  `parquet:"error,optional" json:"error"`
	// Rater identifies a human rater (an added column; empty otherwise).
	Rater string `parquet:"rater,dict" json:"rater"`
	// JudgeVersion identifies the judge's prompt or model (an added column).
	JudgeVersion string `parquet:"judge_version,dict" json:"judge_version"`
}

// SummaryRow is one row of summary.parquet: one suite × model × attack ×
// judge × metric. N counts samples, the clusters of the interval (the
// epochs of a sample and the ratings of its responses are one cluster);
// NScores counts the values averaged.
type SummaryRow struct {
	RunID  string  `parquet:"run_id,dict" json:"run_id"`
	Suite  string  `parquet:"suite,dict" json:"suite"`
	Model  string  `parquet:"model,dict" json:"model"`
	Attack string  `parquet:"attack,dict" json:"attack"`
	Judge  string  `parquet:"judge,dict" json:"judge"`
	Metric string  `parquet:"metric,dict" json:"metric"`
	N      int64   `parquet:"n" json:"n"`
	Mean   float64 `parquet:"mean" json:"mean"`
	Stderr float64 `parquet:"stderr" json:"stderr"`
	CILow  float64 `parquet:"ci_low" json:"ci_low"`
	CIHigh float64 `parquet:"ci_high" json:"ci_high"`
	// CIMethod says how the interval was computed (an added column).
	CIMethod string `parquet:"ci_method,dict" json:"ci_method"`
	// Errors counts the trials whose judge failed for this metric (an added column).
	Errors int64 `parquet:"errors" json:"errors"`
	// NScores is the number of values averaged: N times the epochs and the
	// ratings per response (an added column).
	NScores int64 `parquet:"n_scores" json:"n_scores"`
}

// pageZstd compresses every column of the files CreateParquet writes. It is
// parquet-go's ZSTD codec at its default level, but with encoders sized for
// one page: parquet-go compresses each page (PageBufferSize, 256 KiB) on its
// own, so a window beyond a page finds nothing, while the default 8 MiB
// window made each pooled encoder hold 16 MiB of history.
var pageZstd = zstdCodec{window: 512 << 10}

// zstdCodec is a parquet compress.Codec for ZSTD with a bounded window.
type zstdCodec struct {
	window   int
	encoders sync.Pool
	decoders sync.Pool
}

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(c.window), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, err
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	d, _ := c.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		d, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
	}
	defer c.decoders.Put(d)
	return d.DecodeAll(src, dst[:0])
}

// ParquetWriter streams rows of one type into a Parquet file, written to a
// temporary name and renamed on Close so that a reader never sees half a
// file.
type ParquetWriter[T any] struct {
	path string
	f    *os.File
	w    *parquet.GenericWriter[T]
	buf  []T
}

// CreateParquet opens a writer for path.
func CreateParquet[T any](path string) (*ParquetWriter[T], error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	w := parquet.NewGenericWriter[T](f,
		parquet.KeyValueMetadata(SchemaKey, SchemaVersion),
		parquet.PageBufferSize(256<<10),
		parquet.MaxRowsPerRowGroup(128<<10),
		parquet.Compression(&pageZstd),
		// Free text gains nothing from page min/max bounds, which cost a
		// comparison of every value.
		parquet.SkipPageBounds("prompt"), parquet.SkipPageBounds("response"),
		parquet.SkipPageBounds("explanation"), parquet.SkipPageBounds("error"),
	)
	return &ParquetWriter[T]{path: path, f: f, w: w, buf: make([]T, 0, 1024)}, nil
}

// RemoveStaleTemps removes the temporary files that writers of a run
// directory's Parquet files (and its manifest) left when their process was
// killed. The caller holds the directory's lock, so no writer is at work.
func RemoveStaleTemps(dir string) {
	for _, pattern := range []string{"." + ResponsesFile + ".*", "." + ScoresFile + ".*", "." + SummaryFile + ".*", ".manifest.*",
		"." + JournalFile + ".*", ".journal-sort-*"} {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range stale {
			os.Remove(f)
		}
	}
}

// Write buffers one row.
func (p *ParquetWriter[T]) Write(row T) error {
	p.buf = append(p.buf, row)
	if len(p.buf) == cap(p.buf) {
		return p.flush()
	}
	return nil
}

func (p *ParquetWriter[T]) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.w.Write(p.buf)
	clear(p.buf)
	p.buf = p.buf[:0]
	return err
}

// Close finishes the file and moves it into place.
func (p *ParquetWriter[T]) Close() error {
	err := p.flush()
	if cerr := p.w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// os.CreateTemp makes the file 0600; a result file is for every
		// reader (DuckDB, Spark, a reviewer), like the journal beside it.
		err = p.f.Chmod(0o644)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return os.Rename(p.f.Name(), p.path)
}

// Abort discards the file.
func (p *ParquetWriter[T]) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// openParquet opens a Parquet file of a run, checking its schema version.
func openParquet(path string) (*os.File, *parquet.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, &InputError{File: path, Msg: "not a readable Parquet file: " + err.Error()}
	}
	if v, ok := pf.Lookup(SchemaKey); ok && v != SchemaVersion {
		f.Close()
		return nil, nil, &InputError{File: path, Msg: fmt.Sprintf("schema version %s, this mores reads %s", v, SchemaVersion)}
	}
	return f, pf, nil
}

// ReadParquet streams the rows of a Parquet file of type T to fn, checking
// the schema version.
func ReadParquet[T any](path string, fn func(T) error) error {
	f, _, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	buf := make([]T, 512)
	for {
		n, err := r.Read(buf)
		for i := 0; i < n; i++ {
			if ferr := fn(buf[i]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// StrPtr returns a pointer to s, or nil when s is empty (a Parquet null).
func StrPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Deref returns *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ScoreValue is the part of a score row that a summary reads.
type ScoreValue struct {
	RunID, Suite, Model, Attack, Judge, Metric string
	// Value is nil for a score without a value (an error).
	Value *float64
	// Rater is the human rater of the row ("" for a judge).
	Rater string
	// SampleID is the row's sample.
	SampleID string
	// Unit identifies the row's trial unit within one ScanScoreValues:
	// rows of one unit, such as the ratings of one response by several
	// people, share it. Its high 32 bits identify the sample (rows of the
	// sample's epochs share them), its low 32 bits are the epoch.
	Unit uint64
}

// scoreValueColumns are the columns ScanScoreValues reads: the strings of
// ScoreValue, then sample_id, epoch and value.
var scoreValueColumns = [...]string{"run_id", "suite", "model", "attack", "judge", "metric", "rater", "sample_id", "epoch", "value"}

// ScanScoreValues calls fn with the summary columns of each row of a
// scores.parquet file, in file order. It reads those columns alone, page by
// page, which is several times faster than ReadParquet building whole
// ScoreRows; each distinct string is made once. The ScoreValue passed to fn
// (and its Value) is only valid during the call.
func ScanScoreValues(path string, fn func(*ScoreValue) error) error {
	f, pf, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var idx [len(scoreValueColumns)]int
	for i, name := range scoreValueColumns {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			return &InputError{File: path, Msg: "no column " + name}
		}
		idx[i] = leaf.ColumnIndex
	}
	const nstr = len(scoreValueColumns) - 2 // the strings, sample_id last
	var (
		ids    [nstr][]int32
		epochs []int32
		values []float64
		null   []bool
		dict   = map[string]int32{}
		names  []string
		buf    = make([]parquet.Value, 1024)
		sv     ScoreValue
	)
	for _, rg := range pf.RowGroups() {
		n := int(rg.NumRows())
		chunks := rg.ColumnChunks()
		for i := range nstr {
			ids[i] = ids[i][:0]
			err = readColumn(chunks[idx[i]], buf, func(v parquet.Value) {
				id, ok := dict[string(v.ByteArray())]
				if !ok {
					id = int32(len(names))
					names = append(names, string(v.ByteArray()))
					dict[names[id]] = id
				}
				ids[i] = append(ids[i], id)
			})
			if err == nil && len(ids[i]) != n {
				err = fmt.Errorf("%d values for %d rows", len(ids[i]), n)
			}
			if err != nil {
				return fmt.Errorf("%s: column %s: %w", path, scoreValueColumns[i], err)
			}
		}
		epochs = epochs[:0]
		err = readColumn(chunks[idx[nstr]], buf, func(v parquet.Value) { epochs = append(epochs, v.Int32()) })
		if err == nil && len(epochs) != n {
			err = fmt.Errorf("%d values for %d rows", len(epochs), n)
		}
		if err != nil {
			return fmt.Errorf("%s: column epoch: %w", path, err)
		}
		values, null = values[:0], null[:0]
		err = readColumn(chunks[idx[nstr+1]], buf, func(v parquet.Value) {
			null = append(null, v.IsNull())
			if v.IsNull() {
				values = append(values, 0)
			} else {
				values = append(values, v.Double())
			}
		})
		if err == nil && len(values) != n {
			err = fmt.Errorf("%d values for %d rows", len(values), n)
		}
		if err != nil {
			return fmt.Errorf("%s: column value: %w", path, err)
		}
		for r := range n {
			sv.RunID, sv.Suite, sv.Model = names[ids[0][r]], names[ids[1][r]], names[ids[2][r]]
			sv.Attack, sv.Judge, sv.Metric = names[ids[3][r]], names[ids[4][r]], names[ids[5][r]]
			sv.Rater, sv.SampleID = names[ids[6][r]], names[ids[7][r]]
			sv.Unit = uint64(uint32(ids[7][r]))<<32 | uint64(uint32(epochs[r]))
			sv.Value = nil
			if !null[r] {
				sv.Value = &values[r]
			}
			if err := fn(&sv); err != nil {
				return err
			}
		}
	}
	return nil
}

// readColumn calls fn with each value of a column chunk, in order (the
// columns read are neither repeated nor nested: one value per row). A value
// is valid only during the call.
func readColumn(cc parquet.ColumnChunk, buf []parquet.Value, fn func(parquet.Value)) error {
	pages := cc.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		vr := p.Values()
		for {
			k, err := vr.ReadValues(buf)
			for _, v := range buf[:k] {
				fn(v)
			}
			if errors.Is(err, io.EOF) || (k == 0 && err == nil) {
				break
			}
			if err != nil {
				parquet.Release(p)
				return err
			}
		}
		parquet.Release(p)
	}
}
