package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/mores-eval/mores/bench"
)

// runBatches runs the batch part of `mores run`: --batch-file writes the
// input file and stops; --batch-results records an output file and stops
// when trials are left without an answer; --batch submits and polls
// batches. done reports that the run is over (no synchronous part);
// otherwise the caller runs the rest synchronously: the cached requests,
// the unbatchable ones, and those a batch did not answer (error lines, an
// expired or failed batch).
func runBatches(ctx context.Context, e *env, o *runOptions, spec bench.RunSpec, dir string, terminal bool) (bench.Stats, error, bool) {
	switch {
	case o.batchFile != "":
		n, err := bench.WriteBatchFile(spec, o.batchFile)
		if err != nil {
			return bench.Stats{}, err, true
		}
		abs, _ := filepath.Abs(o.batchFile)
		fmt.Fprintf(e.stdout, "%d requests written to %s\nrun them, e.g. vllm run-batch -i %s -o results.jsonl --model MODEL\nthen: mores run --batch-results results.jsonl --resume %s\n",
			n, abs, abs, dir)
		return bench.Stats{}, errBatchFileWritten, true
	case o.batchResults != "":
		rec, failed, err := bench.ImportBatchResults(ctx, spec, o.batchResults)
		if err != nil {
			return bench.Stats{}, err, true
		}
		e.warnf("%d answers recorded from %s (%d error lines)", rec, o.batchResults, failed)
		est, err := bench.EstimateRun(spec, bench.EstimateOptions{})
		if err != nil {
			return bench.Stats{}, err, true
		}
		if est.Requests > 0 {
			return bench.Stats{Planned: est.Trials + est.Journaled}, fmt.Errorf("%d trials have no answer in %s (error lines or missing); run them with mores run --resume %s (synchronously) or another --batch-file",
				est.Requests, o.batchResults, dir), true
		}
		return bench.Stats{}, nil, false // the cached rest, if any, synchronously
	case o.Batch:
		status := func(line string) { fmt.Fprintln(e.stderr, "mores: "+line) }
		if terminal {
			status = func(line string) { fmt.Fprintf(e.stderr, "\r\033[K%s", line) }
		}
		err := bench.RunBatch(ctx, spec, bench.BatchOptions{PollEvery: o.batchPoll, Status: status})
		if terminal {
			fmt.Fprintln(e.stderr)
		}
		if err != nil {
			return bench.Stats{}, err, true
		}
	}
	return bench.Stats{}, nil, false
}

// errBatchFileWritten ends a --batch-file run: not a failure.
var errBatchFileWritten = fmt.Errorf("batch file written")
