package suites

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// builtinPrefix names a built-in suite or dataset in a path.
const builtinPrefix = "builtin:"

//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames returns the names of the built-in suites, sorted.
func BuiltinNames() []string {
	paths, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(path.Base(p), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Builtin parses the built-in suite name. Its File is builtin:NAME and its
// Dir is empty; an unknown name is a *bench.InputError listing the
// built-in suites.
func Builtin(name string) (*Suite, error) {
	arg := name
	name = strings.TrimPrefix(name, builtinPrefix)
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, unknownSuite(arg)
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, unknownSuite(arg)
	}
	return Parse(builtinPrefix+name, data)
}

func unknownSuite(arg string) error {
	return &bench.InputError{File: arg, Msg: fmt.Sprintf(
		"unknown suite: neither a built-in suite (%s) nor a .yaml or .yml file", strings.Join(BuiltinNames(), ", "))}
}

// Load reads and parses the suite file at path. Its Dir is the folder of
// the file, against which a relative dataset path is resolved. A file that
// cannot be read is a *bench.InputError.
func Load(path string) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &bench.InputError{File: path, Msg: "cannot read the suite file: " + msg}
	}
	return parse(path, filepath.Dir(path), data)
}

// Resolve returns the suite an argument of the command line names: a
// built-in suite (quickstart or builtin:quickstart), or the path of a .yaml
// or .yml file. Anything else is a *bench.InputError that lists the
// built-in suites.
func Resolve(arg string) (*Suite, error) {
	if strings.HasPrefix(arg, builtinPrefix) || slices.Contains(BuiltinNames(), arg) {
		return Builtin(arg)
	}
	ext := strings.ToLower(filepath.Ext(arg))
	if ext == ".yaml" || ext == ".yml" {
		return Load(arg)
	}
	return nil, unknownSuite(arg)
}
