package datasets

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquet reads a Parquet file of any schema. Each top-level column becomes
// one entry of the Row: leaves become string, float64 or bool; LIST columns
// and bare repeated fields become []any; groups become map[string]any; MAP
// columns become map[string]any keyed by the keys' text.
func (rd *reader) parquet(ra io.ReaderAt, size int64, fn func(int, Row) error) error {
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		return rd.inputError(0, "", "not a readable Parquet file: %v", err)
	}
	root := f.Schema()
	fields := root.Fields()
	// bounds[i] is the first leaf column of top-level field i.
	bounds := make([]int, len(fields)+1)
	for i, fl := range fields {
		bounds[i+1] = bounds[i] + leafCount(fl)
	}
	pr := parquet.NewReader(f)
	defer pr.Close()
	buf := make([]parquet.Row, 64)
	cols := make([][]parquet.Value, bounds[len(fields)])
	index := 0
	for {
		n, err := pr.ReadRows(buf)
		for _, prow := range buf[:n] {
			clear(cols)
			prow.Range(func(ci int, vals []parquet.Value) bool {
				if ci < len(cols) {
					cols[ci] = vals
				}
				return true
			})
			row := make(Row, len(fields))
			for i, fl := range fields {
				v, cerr := rd.pqValue(fl, cols[bounds[i]:bounds[i+1]], 0, 0)
				if cerr != nil {
					return rd.inputError(index+1, fl.Name(), "cannot read the Parquet value: %v", cerr)
				}
				row[fl.Name()] = v
			}
			index++
			rd.endRow()
			if ferr := fn(index, row); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rd.inputError(index+1, "", "cannot read the Parquet rows: %v", err)
		}
	}
}

// leafCount is the number of leaf columns below node.
func leafCount(node parquet.Node) int {
	if node.Leaf() {
		return 1
	}
	n := 0
	for _, f := range node.Fields() {
		n += leafCount(f)
	}
	return n
}

// pqValue rebuilds the value of node for one row from the values of its leaf
// columns (the Dremel assembly): def is the definition level reached by the
// parent, rep its repetition depth.
func (rd *reader) pqValue(node parquet.Node, cols [][]parquet.Value, def, rep int) (any, error) {
	if len(cols) == 0 || len(cols[0]) == 0 {
		return nil, nil
	}
	switch {
	case node.Optional():
		def++
		if cols[0][0].DefinitionLevel() < def {
			return nil, nil
		}
	case node.Repeated():
		def++
		rep++
		if cols[0][0].DefinitionLevel() < def {
			return []any{}, nil
		}
		// Split every column into the segments of the list's elements: a
		// value with repetition level rep starts a new element.
		segs := make([][][]parquet.Value, len(cols))
		for c, col := range cols {
			start := 0
			for j := 1; j <= len(col); j++ {
				if j == len(col) || col[j].RepetitionLevel() <= rep {
					segs[c] = append(segs[c], col[start:j])
					start = j
				}
			}
		}
		n := len(segs[0])
		out := make([]any, n)
		elem := make([][]parquet.Value, len(cols))
		for k := range n {
			for c := range cols {
				if k >= len(segs[c]) {
					return nil, fmt.Errorf("column %d has %d list elements, want %d", c, len(segs[c]), n)
				}
				elem[c] = segs[c][k]
			}
			v, err := rd.pqRequired(node, elem, def, rep)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	return rd.pqRequired(node, cols, def, rep)
}

// pqRequired rebuilds one present (defined, non-repeated) value of node.
func (rd *reader) pqRequired(node parquet.Node, cols [][]parquet.Value, def, rep int) (any, error) {
	if node.Leaf() {
		return rd.pqLeaf(node, cols[0][0])
	}
	fields := node.Fields()
	m := make(map[string]any, len(fields))
	off := 0
	for _, f := range fields {
		n := leafCount(f)
		v, err := rd.pqValue(f, cols[off:off+n], def, rep)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		m[f.Name()] = v
		off += n
	}
	if len(fields) != 1 || !fields[0].Repeated() {
		return m, nil
	}
	// A LIST or MAP group holds one repeated field: return its elements.
	inner := fields[0]
	items, _ := m[inner.Name()].([]any)
	switch {
	case isList(node):
		if !inner.Leaf() && len(inner.Fields()) == 1 {
			name := inner.Fields()[0].Name()
			for i, it := range items {
				if im, ok := it.(map[string]any); ok {
					items[i] = im[name]
				}
			}
		}
		return items, nil
	case isMap(node):
		out := make(map[string]any, len(items))
		for _, it := range items {
			kv, ok := it.(map[string]any)
			if !ok {
				return nil, errors.New("malformed MAP entry")
			}
			out[Text(kv["key"])] = kv["value"]
		}
		return out, nil
	}
	return m, nil
}

// isList tells whether node is annotated as a LIST.
func isList(node parquet.Node) bool {
	if lt := node.Type().LogicalType(); lt != nil {
		if _, ok := lt.Value.(*format.ListType); ok {
			return true
		}
	}
	ct := node.Type().ConvertedType()
	return ct != nil && *ct == deprecated.List
}

// isMap tells whether node is annotated as a MAP.
func isMap(node parquet.Node) bool {
	if lt := node.Type().LogicalType(); lt != nil {
		if _, ok := lt.Value.(*format.MapType); ok {
			return true
		}
	}
	ct := node.Type().ConvertedType()
	return ct != nil && (*ct == deprecated.Map || *ct == deprecated.MapKeyValue)
}

// pqLeaf converts one primitive value following its logical type.
func (rd *reader) pqLeaf(node parquet.Node, v parquet.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	var lt format.LogicalTypeValue
	if l := node.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean(), nil
	case parquet.Int32:
		switch t := lt.(type) {
		case *format.DateType:
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly), nil
		case *format.IntType:
			if !t.IsSigned {
				return float64(uint32(v.Int32())), nil
			}
		case *format.DecimalType:
			return decimal(big.NewInt(int64(v.Int32())), t.Scale), nil
		}
		return float64(v.Int32()), nil
	case parquet.Int64:
		x := v.Int64()
		switch t := lt.(type) {
		case *format.TimestampType:
			var d time.Duration = time.Millisecond
			if t.Unit.Value != nil {
				d = t.Unit.Value.Duration()
			}
			sec, frac := x/int64(time.Second/d), x%int64(time.Second/d)
			return time.Unix(sec, frac*int64(d)).UTC().Format(time.RFC3339Nano), nil
		case *format.IntType:
			if !t.IsSigned {
				u := uint64(x)
				if u > maxExact {
					return strconv.FormatUint(u, 10), nil
				}
				return float64(u), nil
			}
		case *format.DecimalType:
			return decimal(big.NewInt(x), t.Scale), nil
		}
		if x > maxExact || x < -maxExact {
			return strconv.FormatInt(x, 10), nil
		}
		return float64(x), nil
	case parquet.Int96:
		// The legacy Impala timestamp: nanoseconds of the day, then the
		// Julian day number.
		i := v.Int96()
		days := int64(i[2]) - julianUnixEpoch
		nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
		return time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano), nil
	case parquet.Float:
		// Widen through the shortest decimal text, so that 1.1 stays 1.1
		// rather than 1.100000023841858.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v.Float()), 'g', -1, 32), 64)
		return f, nil
	case parquet.Double:
		return v.Double(), nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := v.ByteArray()
		switch t := lt.(type) {
		case *format.UUIDType:
			if len(b) == 16 {
				h := hex.EncodeToString(b)
				return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
			}
		case *format.DecimalType:
			u := new(big.Int).SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 { // two's complement, big-endian
				u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
			return decimal(u, t.Scale), nil
		}
		return rd.text(string(b)), nil
	}
	return nil, fmt.Errorf("unsupported Parquet kind %v", v.Kind())
}

// julianUnixEpoch is the Julian day number of 1970-01-01.
const julianUnixEpoch = 2440588

// decimal returns the unscaled value u / 10^scale as a float64.
func decimal(u *big.Int, scale int32) any {
	f, _ := new(big.Float).SetInt(u).Float64()
	return f / math.Pow10(int(scale))
}
