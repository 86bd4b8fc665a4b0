package hf

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// Prefix starts a Hub dataset path.
const Prefix = "hf:"

// DefaultConfig is the configuration name the Hub gives the only
// configuration of a dataset.
const DefaultConfig = "default"

// Spec is a parsed path hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION].
type Spec struct {
	Owner, Name string
	// Config is the dataset configuration ("subset"), DefaultConfig when
	// the path names none.
	Config string
	// Split is the split, such as train or test.
	Split string
	// Revision is a commit, branch or tag; "" means the Hub's current
	// Parquet conversion.
	Revision string
}

var (
	reRepoPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	reSegment  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]*$`)
	reRevision = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
)

// ParseSpec parses hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION] (the hf: prefix
// may be left out). A malformed spec is a *bench.InputError.
func ParseSpec(spec string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, &bench.InputError{File: spec, Msg: fmt.Sprintf(format, args...) +
			"; want hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION], as in hf:JailbreakBench/JBB-Behaviors:behaviors/harmful"}
	}
	rest := strings.TrimPrefix(spec, Prefix)
	var s Spec
	if i := strings.Index(rest, "@"); i >= 0 {
		s.Revision = rest[i+1:]
		rest = rest[:i]
		if s.Revision == "" {
			return bad("empty revision after @")
		}
		if !reRevision.MatchString(s.Revision) || strings.Contains(s.Revision, "..") || strings.HasPrefix(s.Revision, "/") || strings.HasSuffix(s.Revision, "/") {
			return bad("bad revision %q", s.Revision)
		}
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return bad("%d parts separated by /", len(parts))
	}
	s.Owner, s.Name, s.Split = parts[0], parts[1], parts[2]
	if name, config, ok := strings.Cut(s.Name, ":"); ok {
		s.Name, s.Config = name, config
		if config == "" {
			return bad("empty config after :")
		}
	} else {
		s.Config = DefaultConfig
	}
	for _, p := range []struct{ what, v string }{{"owner", s.Owner}, {"dataset name", s.Name}} {
		if !reRepoPart.MatchString(p.v) || strings.Contains(p.v, "..") {
			return bad("bad %s %q", p.what, p.v)
		}
	}
	for _, p := range []struct{ what, v string }{{"config", s.Config}, {"split", s.Split}} {
		if !reSegment.MatchString(p.v) || strings.Contains(p.v, "..") {
			return bad("bad %s %q", p.what, p.v)
		}
	}
	return s, nil
}

// Repo returns OWNER/NAME.
func (s Spec) Repo() string { return s.Owner + "/" + s.Name }

// String returns the spec in its canonical form, config included.
func (s Spec) String() string {
	out := Prefix + s.Owner + "/" + s.Name + ":" + s.Config + "/" + s.Split
	if s.Revision != "" {
		out += "@" + s.Revision
	}
	return out
}
