package datasets

import (
	"fmt"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// hubPrefix starts the path of a Hugging Face Hub dataset split.
const hubPrefix = "hf:"

// HubResolver turns a path hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION] into the
// local paths of the split's Parquet shards, in order, downloading them if
// need be. The command sets it (to the Resolve method of a hf.Client built
// from the environment); package datasets does not import package hf, so
// that the Hub client can grow without widening this package's
// dependencies. While it is nil, an hf: path is a *bench.InputError.
var HubResolver func(spec string) ([]string, error)

// hubFiles resolves an hf: path through HubResolver.
func hubFiles(spec string) ([]string, error) {
	if HubResolver == nil {
		return nil, &bench.InputError{File: spec, Msg: "Hugging Face Hub datasets are not available in this program (no Hub resolver is set)"}
	}
	files, err := HubResolver(spec)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &bench.InputError{File: spec, Msg: "the Hub split has no Parquet files"}
	}
	for _, f := range files {
		if !strings.HasSuffix(strings.ToLower(f), ".parquet") {
			return nil, fmt.Errorf("%s: the Hub resolver returned %s, which is not a .parquet file", spec, f)
		}
	}
	return files, nil
}
