package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/jsontext"
)

// MaxLineBytes is the longest line of a JSON Lines file that Mores reads
// (8 MiB): one sample's prompt, conversation and fields. A longer line is
// bad input, refused with its file and line before it is held in memory
// whole (decoding a record takes many times its size).
const MaxLineBytes = 8 << 20

// jsonl reads JSON Lines: one object per line; blank lines are skipped.
func (rd *reader) jsonl(br *bufio.Reader, fn func(int, Row) error) error {
	for line := 1; ; line++ {
		b, err := readLine(br, MaxLineBytes)
		if err == errLineTooLong {
			return rd.inputError(line, "", "the line is longer than %d MiB, the limit of one JSON Lines record; split the record or shorten its fields", MaxLineBytes>>20)
		}
		if err != nil && err != io.EOF {
			return rd.ioError(err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			row, derr := rd.decodeObject(b, line, "the line")
			if derr != nil {
				return derr
			}
			rd.endRow()
			if ferr := fn(line, row); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// errLineTooLong reports a line over the limit of readLine.
var errLineTooLong = errors.New("line too long")

// readLine reads up to and including the next '\n', like ReadBytes, but
// stops with errLineTooLong once the line passes limit bytes.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			line = append(line, frag...)
			continue
		}
		if line == nil {
			return append([]byte(nil), frag...), err
		}
		return append(line, frag...), err
	}
}

// decodeObject decodes one JSON object into a Row. what names the unit in
// error messages ("the line", "element 3").
func (rd *reader) decodeObject(raw []byte, line int, what string) (Row, error) {
	if !utf8.Valid(raw) {
		rd.rowBad = true
		raw = []byte(fixUTF8(string(raw)))
	}
	if row, ok := quickObject(raw); ok {
		return row, nil
	}
	v, err := stdValue(raw)
	if err != nil {
		return nil, rd.inputError(line, "", "invalid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, rd.inputError(line, "", "%s holds %s, not a JSON object", what, jsonKind(v))
	}
	return Row(fromJSON(m).(map[string]any)), nil
}

// errExtraData reports data after a line's JSON value.
var errExtraData = errors.New("extra data after the object")

// stdValue decodes one JSON value with encoding/json, numbers as
// json.Number.
func stdValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errExtraData
	}
	return v, nil
}

// quickObject decodes a line without reflection (bench/jsontext), to the
// same Row as the encoding/json path below. It reports false for anything
// it does not accept, which that path then decodes or explains.
func quickObject(raw []byte) (Row, bool) {
	r := jsontext.NewReader(raw)
	if r.Peek() != '{' {
		return nil, false
	}
	v, ok := r.Value()
	if !ok || !r.End() {
		return nil, false
	}
	return Row(fromJSON(v).(map[string]any)), true
}

// jsonArray reads a JSON array of objects, streaming one element at a time.
func (rd *reader) jsonArray(br *bufio.Reader, src source, fn func(int, Row) error) error {
	dec := json.NewDecoder(br)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return rd.inputError(0, "", "empty file; want a JSON array of objects")
		}
		return rd.jsonError(err, src, 0)
	}
	if tok != json.Delim('[') {
		msg := "the file holds %s; want a JSON array of objects"
		if tok == json.Delim('{') {
			msg += " (for one object per line, name the file .jsonl)"
		}
		return rd.inputError(1, "", msg, jsonKind(tok))
	}
	for index := 0; dec.More(); index++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return rd.jsonError(err, src, start)
		}
		row, err := rd.decodeObject(raw, index+1, "element "+strconv.Itoa(index+1))
		if err != nil {
			return rd.relocate(err, src, dec.InputOffset()-int64(len(raw)))
		}
		rd.endRow()
		if err := fn(index+1, row); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return rd.jsonError(err, src, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return rd.inputError(0, "", "invalid JSON: extra data after the array")
	}
	return nil
}

// jsonError reports a decoding error of a JSON array at the physical line of
// offset (the start of the element being read).
func (rd *reader) jsonError(err error, src source, offset int64) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) && !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
		return rd.ioError(err)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return rd.inputError(src.lineAt(offset), "", "invalid JSON: %v", err)
}

// relocate moves the line of an element's error from its index to the
// physical line where the element starts, keeping the "element N" text.
func (rd *reader) relocate(err error, src source, offset int64) error {
	if ie, ok := err.(*bench.InputError); ok {
		ie.Line = src.lineAt(offset)
	}
	return err
}

// lineAt returns the 1-based physical line of the first byte at or after
// offset that is neither white space nor a comma. It reads the file again:
// it is only called to report an error.
func (s source) lineAt(offset int64) int {
	rc, err := s.open()
	if err != nil {
		return 0
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	line := 1
	for i := int64(0); ; i++ {
		c, err := br.ReadByte()
		if err != nil {
			return line
		}
		if i >= offset && !strings.ContainsRune(" \t\r\n,", rune(c)) {
			return line
		}
		if c == '\n' {
			line++
		}
	}
}

// jsonKind describes a decoded JSON value or token for error messages.
func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case json.Delim:
		if x == '{' {
			return "an object"
		}
		return "an array"
	}
	return "a value"
}

// fromJSON replaces the numbers of a decoded value (json.Number from
// encoding/json, jsontext.Number from quickObject) by float64 values, or
// by their text when a float64 cannot hold the integer exactly.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		return number(string(x))
	case jsontext.Number:
		return number(string(x))
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
	}
	return v
}

// maxExact is the largest magnitude up to which a float64 holds every integer.
const maxExact = 1 << 53

// number converts the text of a JSON number: to a float64 when that holds
// it exactly enough, else its text (an integer beyond 2⁵³, such as a 64-bit
// id, or a number out of float64's range).
func number(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		// An integer: exact in a float64 only up to 2⁵³ in magnitude (2⁵³+1
		// would round to 2⁵³, so the rounded value cannot tell).
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxExact || n < -maxExact {
			return s
		}
		return float64(n)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return f
}
