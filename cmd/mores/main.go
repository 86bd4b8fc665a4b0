// Command mores runs alignment evaluation suites against language models,
// judges the answers, and turns the results into Parquet tables, reports and
// CI gates. See README.md for a tour.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/mores-eval/mores/bench"
)

// Exit codes are API: scripts and CI rely on them.
const (
	exitOK      = 0
	exitGate    = 1 // a gate failed: significant regression or threshold
	exitUsage   = 2 // bad usage or invalid input
	exitFailure = 3 // the run failed: error budget exceeded, unreachable model
)

// gateError reports a failed gate (exit code 1).
type gateError struct{ msg string }

func (e *gateError) Error() string { return e.msg }

// usageError reports bad usage (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if os.Getenv("GOGC") == "" {
		// The live heap of a run is small (tens of MB, flat in the number
		// of trials) and its allocation rate high: collecting at 3× the
		// live heap instead of 2× saves a few percent of the CPU of a run
		// for tens of MB (make bench: peak RSS at 1M trials).
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: when a step's live heap is larger (the sort of an
		// out-of-order journal by mores judge or merge, tens of bytes per
		// entry), the collector works harder near the limit rather than
		// let the heap reach 3× the live heap. Go bounds the CPU this
		// takes, so a process whose live heap exceeds it still finishes.
		debug.SetMemoryLimit(200 << 20)
	}
	stopProfile := startProfile(os.Getenv("MORES_CPUPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stopProfile()
	stop()
	code := exitCode(err)
	if err != nil && code != exitOK {
		fmt.Fprintln(os.Stderr, "mores:", err)
	}
	os.Exit(code)
}

// startProfile writes a CPU profile of the process into path (for `go tool
// pprof`; the performance harness's MORES_CPUPROFILE), when path is set,
// and returns what stops it.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mores: MORES_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "mores: MORES_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// exitCode maps an error to its exit code (the table of README.md's CLI
// tour): a gateError is 1, a usageError or bench input error 2, any other 3.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ge *gateError
	var ue *usageError
	var ie *bench.InputError
	var ies bench.InputErrors
	switch {
	case errors.As(err, &ge):
		return exitGate
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &ies):
		return exitUsage
	}
	return exitFailure
}

// env is how the process environment reaches the commands.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}
