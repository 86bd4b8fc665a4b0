package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
)

// Row is one record of a dataset: column name → value. Values are string,
// float64, bool, []any, map[string]any or nil, as decoded JSON; CSV cells are
// always strings. A JSON or Parquet integer too large to be held exactly by a
// float64 (beyond ±2^53) is kept as its decimal text. Parquet dates are
// written 2006-01-02, timestamps (also legacy INT96 ones) in RFC 3339 in UTC,
// UUIDs in their usual hex form; decimals become float64.
type Row map[string]any

// Options tune how a file is read. The zero value reads every format with
// its defaults.
type Options struct {
	// Header tells whether a CSV or TSV file starts with a header row naming
	// its columns. Nil means it does.
	Header *bool
	// Columns names the columns of a headerless CSV file; every row must then
	// have exactly len(Columns) fields. Without Columns, the columns of a
	// headerless file are named "0", "1", .... When the file has a header,
	// Columns, if set, renames its columns in order (the count must match).
	Columns []string
	// Warn, if set, is called once per file that holds bytes that are not
	// valid UTF-8, with the number of rows affected (of the rows read, when
	// reading stops early). The bytes are replaced by U+FFFD either way.
	Warn func(format string, args ...any)
}

// ReadRows streams the rows of the file at path to fn, in file order. line is
// the 1-based line number of the row: for CSV the physical line on which the
// record starts (a quoted field may span lines), for JSON Lines the line,
// for a JSON array or Parquet file the row's index + 1. An error returned by
// fn stops the reading and is returned as is.
//
// The format follows the file name: .jsonl or .ndjson, .json (an array of
// objects), .csv, .tsv, .parquet, each optionally followed by .gz. A path
// builtin:NAME reads the embedded file NAME (see BuiltinNames). A path
// hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION] reads the Parquet shards of a
// Hugging Face Hub split, in order, as one dataset: HubResolver gives their
// local paths, and line numbers (and errors) are those of each shard file.
// Malformed input, a missing file and an unknown suffix are
// *bench.InputError.
func ReadRows(path string, opt Options, fn func(line int, r Row) error) error {
	if strings.HasPrefix(path, hubPrefix) {
		files, err := hubFiles(path)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := readFile(f, opt, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return readFile(path, opt, fn)
}

// readFile is ReadRows for one file on disk or one builtin: dataset.
func readFile(path string, opt Options, fn func(line int, r Row) error) error {
	src, err := resolve(path)
	if err != nil {
		return err
	}
	rd := &reader{path: path, opt: opt}
	switch src.format {
	case formatParquet:
		err = src.withReaderAt(func(ra io.ReaderAt, size int64) error {
			return rd.parquet(ra, size, fn)
		})
	default:
		var rc io.ReadCloser
		rc, err = src.open()
		if err != nil {
			return err
		}
		br := bufio.NewReaderSize(rc, 64<<10)
		err = skipBOM(br)
		if err == nil {
			switch src.format {
			case formatJSONL:
				err = rd.jsonl(br, fn)
			case formatJSON:
				err = rd.jsonArray(br, src, fn)
			case formatCSV:
				err = rd.csv(br, ',', fn)
			case formatTSV:
				err = rd.csv(br, '\t', fn)
			}
		}
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = rd.ioError(cerr)
		}
	}
	if rd.badRows > 0 && opt.Warn != nil {
		if rd.badRows == 1 {
			opt.Warn("%s: %d row holds bytes that are not valid UTF-8; replaced with U+FFFD", path, rd.badRows)
		} else {
			opt.Warn("%s: %d rows hold bytes that are not valid UTF-8; replaced with U+FFFD", path, rd.badRows)
		}
	}
	return err
}

// reader holds the state of reading one file.
type reader struct {
	path    string
	opt     Options
	badRows int  // rows that held invalid UTF-8
	rowBad  bool // the current row holds invalid UTF-8
}

// inputError returns a *bench.InputError about this file.
func (rd *reader) inputError(line int, field, format string, args ...any) *bench.InputError {
	return &bench.InputError{File: rd.path, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ioError turns an error of the underlying stream into an error naming the
// file: corrupt compressed data is bad input, anything else is passed on.
func (rd *reader) ioError(err error) error {
	var ie *bench.InputError
	if errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return rd.inputError(0, "", "corrupt or truncated gzip data: %v", err)
	}
	return fmt.Errorf("%s: %w", rd.path, err)
}

// endRow counts the current row if it held invalid UTF-8 and resets the flag.
func (rd *reader) endRow() {
	if rd.rowBad {
		rd.badRows++
		rd.rowBad = false
	}
}

// text returns s with every byte that is not part of a valid UTF-8 sequence
// replaced by U+FFFD, and marks the current row when it did so.
func (rd *reader) text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	rd.rowBad = true
	return fixUTF8(s)
}

// fixUTF8 replaces each byte of s that is not part of a valid UTF-8 sequence
// by U+FFFD (unlike strings.ToValidUTF8, which replaces a run by one).
func fixUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// skipBOM drops a UTF-8 byte order mark at the start of a text file.
func skipBOM(br *bufio.Reader) error {
	p, err := br.Peek(3)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err
	}
	if bytes.HasPrefix(p, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	return nil
}

// fileFormat is the format of a dataset file.
type fileFormat int

const (
	formatJSONL fileFormat = iota
	formatJSON
	formatCSV
	formatTSV
	formatParquet
)

// source is a resolved dataset path: where its bytes come from and how to
// read them.
type source struct {
	path     string
	format   fileFormat
	gzip     bool
	embedded []byte // the bytes of a builtin: file, else nil
}

// resolve checks the path's suffix (or builtin name) and returns its source.
func resolve(path string) (source, error) {
	if name, ok := strings.CutPrefix(path, builtinPrefix); ok {
		b, err := builtinBytes(name)
		if err != nil {
			return source{}, err
		}
		return source{path: path, format: formatJSONL, embedded: b}, nil
	}
	lower := strings.ToLower(path)
	src := source{path: path}
	if inner, ok := strings.CutSuffix(lower, ".gz"); ok {
		src.gzip = true
		lower = inner
	}
	switch ext := filepath.Ext(lower); ext {
	case ".jsonl", ".ndjson":
		src.format = formatJSONL
	case ".json":
		src.format = formatJSON
	case ".csv":
		src.format = formatCSV
	case ".tsv":
		src.format = formatTSV
	case ".parquet", ".pq":
		src.format = formatParquet
	default:
		if ext == "" {
			ext = "no suffix"
		} else {
			ext = fmt.Sprintf("suffix %q", ext)
		}
		return source{}, &bench.InputError{File: path, Msg: fmt.Sprintf(
			"unknown dataset format (%s); want .jsonl, .ndjson, .json, .csv, .tsv or .parquet, optionally followed by .gz, or builtin:NAME", ext)}
	}
	return src, nil
}

// openFile opens a file on disk, reporting a missing or unreadable file as
// bad input.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			msg := err.Error()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			return nil, &bench.InputError{File: path, Msg: "cannot open the dataset: " + msg}
		}
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, &bench.InputError{File: path, Msg: "is a directory, not a dataset file"}
	}
	return f, nil
}

// open returns the decompressed bytes of the source as a stream.
func (s source) open() (io.ReadCloser, error) {
	var rc io.ReadCloser
	if s.embedded != nil {
		rc = io.NopCloser(bytes.NewReader(s.embedded))
	} else {
		f, err := openFile(s.path)
		if err != nil {
			return nil, err
		}
		rc = f
	}
	if !s.gzip {
		return rc, nil
	}
	zr, err := gzip.NewReader(bufio.NewReader(rc))
	if err != nil {
		rc.Close()
		return nil, &bench.InputError{File: s.path, Msg: fmt.Sprintf("not gzip data: %v", err)}
	}
	return &gzipReadCloser{Reader: zr, under: rc}, nil
}

// gzipReadCloser closes both the gzip stream and the file under it.
type gzipReadCloser struct {
	*gzip.Reader
	under io.Closer
}

func (g *gzipReadCloser) Close() error {
	err := g.Reader.Close()
	if cerr := g.under.Close(); err == nil {
		err = cerr
	}
	return err
}

// withReaderAt gives fn random access to the decompressed bytes of the
// source: the file itself when it is a plain file on disk, else the bytes
// read into memory (Parquet needs random access; gzip offers none).
func (s source) withReaderAt(fn func(ra io.ReaderAt, size int64) error) error {
	if s.embedded == nil && !s.gzip {
		f, err := openFile(s.path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return fn(f, st.Size())
	}
	rc, err := s.open()
	if err != nil {
		return err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return (&reader{path: s.path}).ioError(err)
	}
	return fn(bytes.NewReader(b), int64(len(b)))
}
