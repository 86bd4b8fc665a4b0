package judges

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/rule"
)

// Env is what a judge factory may use besides its spec.
type Env struct {
	// Model resolves a judge model name (a name from the configuration) or
	// spec (such as "openai:gpt-4o") to a model; nil when no judge model is
	// configured.
	Model func(name string) (bench.Model, error)
	// Seed is the run seed, for judges that sample (personas, orders).
	Seed int64
	// Subject resolves a model under test by its run name, for judges that
	// ask it again (the society judge's revision round); nil when none.
	Subject func(name string) (bench.Model, error)
	// Warn, when set, reports diagnostics (such as a deprecated judge
	// name).
	Warn func(format string, args ...any)
}

// Factory builds a judge from its spec. It returns a bench.Judge or a
// bench.PairJudge. Bad options are reported as a *bench.InputError whose
// Field names the option.
type Factory func(spec bench.JudgeSpec, env Env) (any, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

func init() {
	for _, name := range rule.Names() {
		Register(name, func(spec bench.JudgeSpec, _ Env) (any, error) {
			return rule.New(name, spec.Options)
		})
	}
}

// Register makes a judge available under name. It panics when name is empty
// or already registered, or f is nil: registration happens in init
// functions, where such a mistake is a programming error.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || f == nil {
		panic("judges: Register with an empty name or a nil factory")
	}
	if _, dup := factories[name]; dup {
		panic("judges: Register called twice for judge " + name)
	}
	factories[name] = f
}

// Known returns the names of the registered judges, sorted.
func Known() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the judge that spec names; the result is a bench.Judge or a
// bench.PairJudge. An unknown name is a *bench.InputError with Field
// "judges" whose message lists the known names; bad options are a
// *bench.InputError naming the option. Both carry spec.Line; the File is
// left for the caller (the suite loader) to fill in.
func New(spec bench.JudgeSpec, env Env) (any, error) {
	mu.RLock()
	f, ok := factories[spec.Name]
	mu.RUnlock()
	if !ok {
		return nil, &bench.InputError{
			Line:  spec.Line,
			Field: "judges",
			Msg:   fmt.Sprintf("unknown judge %q (known: %s)", spec.Name, strings.Join(Known(), ", ")),
		}
	}
	j, err := f(spec, env)
	if err != nil {
		var ie *bench.InputError
		if errors.As(err, &ie) {
			if ie.Line == 0 {
				ie.Line = spec.Line
			}
			if ie.Field == "" {
				ie.Field = "judges." + spec.Name
			}
			return nil, ie
		}
		return nil, fmt.Errorf("judge %s: %w", spec.Name, err)
	}
	switch j.(type) {
	case bench.Judge, bench.PairJudge:
		return j, nil
	case nil:
		return nil, fmt.Errorf("judge %s: the factory returned no judge", spec.Name)
	default:
		return nil, fmt.Errorf("judge %s: the factory returned a %T, which is neither a bench.Judge nor a bench.PairJudge", spec.Name, j)
	}
}
