// Package bench holds the core of Mores: the types that travel through the
// pipeline, the Model and Judge interfaces, the planner that expands suites
// into trials, the runner that sends trials to models and judges, the
// append-only journal that makes runs crash-safe and resumable, the response
// cache, and the Parquet writer and reader of a run directory.
//
// The path of one sample:
//
//	Source yields Sample → attacks transform it → Plan expands suites ×
//	samples × attacks × models × epochs into Trials → Runner calls
//	Model.Generate → Judges score the Completion → the Journal appends a
//	Record → Finish writes responses.parquet, scores.parquet,
//	summary.parquet and manifest.json.
//
// A refusal is a Completion, not an error: an error means that no response
// was obtained after retries. A failed trial is recorded with its error.
//
// bench imports no sibling package; every other package may import it.
package bench
