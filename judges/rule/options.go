package rule

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// options reads a judge's options as a suite file or the command line gives
// them (decoded YAML or JSON: strings, bools, ints, float64s and lists), and
// reports every problem as a *bench.InputError whose Field names the option,
// in the form "judges.<judge>.<option>".
type options struct {
	judge string
	m     map[string]any
	used  map[string]bool
}

func newOptions(judge string, m map[string]any) *options {
	return &options{judge: judge, m: m, used: map[string]bool{}}
}

// errorf returns an input error about one option.
func (o *options) errorf(opt, format string, args ...any) *bench.InputError {
	return &bench.InputError{Field: "judges." + o.judge + "." + opt, Msg: fmt.Sprintf(format, args...)}
}

// lookup marks opt as known and returns its value.
func (o *options) lookup(opt string) (any, bool) {
	o.used[opt] = true
	v, ok := o.m[opt]
	return v, ok && v != nil
}

// str returns a string option, or def when it is absent.
func (o *options) str(opt, def string) (string, error) {
	v, ok := o.lookup(opt)
	if !ok {
		return def, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", o.errorf(opt, "want a string, got %s", describe(v))
	}
	return s, nil
}

// boolean returns a bool option, or def when it is absent.
func (o *options) boolean(opt string, def bool) (bool, error) {
	v, ok := o.lookup(opt)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, o.errorf(opt, "want true or false, got %s", describe(v))
	}
	return b, nil
}

// integer returns a non-negative integer option, or def when it is absent.
func (o *options) integer(opt string, def int) (int, error) {
	v, ok := o.lookup(opt)
	if !ok {
		return def, nil
	}
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case int32:
		n = int64(x)
	case uint64:
		if x > math.MaxInt32 {
			return 0, o.errorf(opt, "%d is too large", x)
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, o.errorf(opt, "want a whole number, got %v", x)
		}
		n = int64(x)
	default:
		return 0, o.errorf(opt, "want a whole number, got %s", describe(v))
	}
	if n < 0 {
		return 0, o.errorf(opt, "want a number >= 0, got %d", n)
	}
	if n > math.MaxInt32 {
		return 0, o.errorf(opt, "%d is too large", n)
	}
	return int(n), nil
}

// strings returns a list-of-strings option; a single string counts as a
// list of one.
func (o *options) strings(opt string) ([]string, error) {
	v, ok := o.lookup(opt)
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []string:
		return append([]string(nil), x...), nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, isStr := e.(string)
			if !isStr {
				return nil, o.errorf(opt, "item %d: want a string, got %s", i+1, describe(e))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, o.errorf(opt, "want a list of strings, got %s", describe(v))
	}
}

// finish reports the first unknown option (in sorted order), naming the
// options the judge accepts.
func (o *options) finish() error {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := make([]string, 0, len(o.used))
	for k := range o.used {
		known = append(known, k)
	}
	sort.Strings(known)
	msg := "unknown option"
	if len(unknown) > 1 {
		msg = fmt.Sprintf("unknown option (also %s)", strings.Join(unknown[1:], ", "))
	}
	return o.errorf(unknown[0], "%s; %s accepts %s", msg, o.judge, strings.Join(known, ", "))
}

// describe names the type of a decoded option value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int, int32, int64, uint64, float64:
		return fmt.Sprintf("the number %v", x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
