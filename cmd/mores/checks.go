package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/suites"
)

// checkOut makes sure that the folder of run directories can hold one: it
// is created if missing, and must be a folder Mores can write in. A
// problem is bad usage (exit 2), found before any request is sent.
func checkOut(out string) error {
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		return usagef("--out %s: is a file, not a folder (name the folder that holds run directories)", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return usagef("--out %s: cannot create the folder: %v", out, pathErr(err))
	}
	probe, err := os.MkdirTemp(out, ".mores-probe-")
	if err != nil {
		return usagef("--out %s: cannot write in the folder: %v", out, pathErr(err))
	}
	os.Remove(probe)
	return nil
}

// pathErr is the reason of a file system error, without the path.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// renderAll renders the prompt of every sample of a suite, so that a
// template naming a field the data lacks, or misusing a function, is bad
// input found before any request. The error names the first sample that
// fails, and counts the others.
func renderAll(s *suites.Suite, samples []bench.Sample) error {
	var first error
	failed := 0
	for _, sm := range samples {
		if _, err := s.Request(sm); err != nil {
			if first == nil {
				first = err
			}
			failed++
		}
	}
	if first == nil {
		return nil
	}
	var ie *bench.InputError
	if !errors.As(first, &ie) {
		ie = &bench.InputError{File: s.File, Line: s.Line("prompt"), Field: "prompt", Msg: first.Error()}
	}
	if failed > 1 {
		cp := *ie
		cp.Msg += fmt.Sprintf(" (and %d more of the %d samples)", failed-1, len(samples))
		ie = &cp
	}
	return ie
}
