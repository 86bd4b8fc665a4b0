// Package bench holds the core of Mores: the types that travel through the
// pipeline (Sample, Request, Trial, Completion, Score), the Model, Judge and
// PairJudge interfaces, the runner (Run), the append-only journal that makes
// runs crash-safe and resumable, the run lock, the manifest, the response
// cache, and the Parquet writer and reader of a run directory.
//
// The path of one sample:
//
//	a SuitePlan holds the suite's Samples, its attacks (Transform) and
//	Render → Run expands suites × samples × attacks × models × epochs into
//	Trials, renders each transformed sample into a Request → Model.Generate
//	returns a Completion → JudgeAll has the suite's Judges Score it → the
//	Journal appends an Entry (and, with RunSpec.WriteResults, the entry's
//	rows go to responses.parquet and scores.parquet as they come) →
//	WriteResults writes those two files from the journal when Run did not.
//
// Writing summary.parquet (reports.WriteSummary) and manifest.json
// (WriteManifest) is the caller's part: the command calls them after Run.
//
// A refusal is a Completion, not an error: an error means that no response
// was obtained after retries. A failed trial is recorded with its error.
//
// bench imports no sibling package (only its own bench/jsontext); every
// other package may import it.
package bench
