// Package datasets reads evaluation data into bench.Sample values.
//
// A dataset is a file of rows: JSON Lines (.jsonl, .ndjson), a JSON array of
// objects (.json), CSV (.csv) or TSV (.tsv) with or without a header row,
// or Parquet (.parquet), each optionally gzip-compressed (.gz; the format is
// then named by the inner suffix, as in test.jsonl.gz). A path of the form
// builtin:NAME names a small file embedded in the binary (see BuiltinNames).
// A path of the form hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION] names a split of
// a Hugging Face Hub dataset, read from its Parquet shards in order; the
// command sets HubResolver to the Hub client (package datasets/hf) that
// downloads and caches them.
//
// Reading happens in two layers:
//
//	ReadRows(path, Options, fn) streams the file as Rows (column name → value),
//	    calling fn once per row with the row's line number;
//	Load(path, Mapping, Options) maps the columns of each row onto the fields
//	    of a bench.Sample (input or messages, choices, target, response, id)
//	    and gives every sample a stable ID.
//
// The values of a Row are those of decoded JSON: string, float64, bool, []any,
// map[string]any or nil. CSV cells are always strings. Parquet lists become
// []any, groups become map[string]any, so a Parquet list of {role, content}
// structs reads the same as a JSON list of {"role", "content"} objects.
//
// Bytes that are not valid UTF-8 are replaced by U+FFFD, one per bad byte, and
// Options.Warn is told once per file how many rows held such bytes: real
// datasets (for example the JailbreakBench judge comparison) hold stray Mac
// Roman bytes, and a loader that fails on them, or hides them, is worse than
// one that says so. Malformed input is reported as a *bench.InputError that
// names the file, the line and the problem, so that the command can exit 2
// with one line the user can act on.
//
// Checksum gives the SHA-256 of a dataset's bytes for the run manifest, so a
// result can be traced to the exact data it was computed on.
package datasets
