package datasets

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
)

// csv reads a CSV (or, with comma '\t', TSV) file with RFC 4180 quoting:
// quoted fields may hold separators, newlines and doubled quotes.
func (rd *reader) csv(br *bufio.Reader, comma rune, fn func(int, Row) error) error {
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.ReuseRecord = true
	var names []string
	widthFrom := "the first row"
	if rd.opt.Header == nil || *rd.opt.Header {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rd.csvError(err, 0, 0, "")
		}
		names = make([]string, len(rec))
		for i, n := range rec {
			if n == "" {
				n = strconv.Itoa(i)
			}
			names[i] = rd.text(n)
		}
		rd.rowBad = false // the header is not a row
		if len(rd.opt.Columns) > 0 {
			if len(rd.opt.Columns) != len(names) {
				return rd.inputError(1, "", "the header has %d columns but the options name %d", len(names), len(rd.opt.Columns))
			}
			names = rd.opt.Columns
		}
		widthFrom = "the header"
		if err := rd.uniqueNames(names, 1, "the header"); err != nil {
			return err
		}
	} else if len(rd.opt.Columns) > 0 {
		names = rd.opt.Columns
		cr.FieldsPerRecord = len(names)
		widthFrom = "the column names given"
		if err := rd.uniqueNames(names, 0, "the column names given"); err != nil {
			return err
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rd.csvError(err, len(rec), len(names), widthFrom)
		}
		if names == nil { // headerless, unnamed: "0", "1", ...
			names = make([]string, len(rec))
			for i := range rec {
				names[i] = strconv.Itoa(i)
			}
		}
		line, _ := cr.FieldPos(0)
		row := make(Row, len(names))
		for i, v := range rec {
			row[names[i]] = rd.text(v)
		}
		rd.endRow()
		if err := fn(line, row); err != nil {
			return err
		}
	}
}

// uniqueNames reports a column name that appears twice.
func (rd *reader) uniqueNames(names []string, line int, where string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return rd.inputError(line, "", "column %q appears twice in %s", n, where)
		}
		seen[n] = true
	}
	return nil
}

// csvError turns an error of encoding/csv into a *bench.InputError naming
// the line. A ragged row has got fields where widthFrom has want.
func (rd *reader) csvError(err error, got, want int, widthFrom string) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return rd.ioError(err)
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return rd.inputError(pe.StartLine, "", "row has %d fields, but %s has %d", got, widthFrom, want)
	}
	return rd.inputError(pe.Line, "", "malformed CSV: %v (at byte %d of the line)", pe.Err, pe.Column)
}
