package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
	"github.com/mores-eval/mores/suites"
	"github.com/schollz/progressbar/v3"
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

// count writes n and a noun, plural unless n is 1: "1 trial", "80 trials".
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// newProgress returns the function that draws the progress of a run on a
// terminal, and the one that ends it. The bar is first drawn when a trial
// is done, with the number of trials known: a frame at 0 would show a rate
// of "0 trials/hr".
func newProgress(w io.Writer) (progress func(done, total int64), finish func()) {
	var bar *progressbar.ProgressBar
	progress = func(done, total int64) {
		if done == 0 {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("trials"),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("trials"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		if bar.GetMax64() != total {
			bar.ChangeMax64(total)
		}
		bar.Set64(done)
	}
	finish = func() {
		if bar != nil {
			bar.Finish()
		}
	}
	return progress, finish
}

// tableOptions orders the text summary's model columns as the manifest
// (and so the paper table) does.
func tableOptions(m *bench.Manifest) reports.TableOptions {
	var o reports.TableOptions
	if m != nil {
		for _, mm := range m.Models {
			o.Models = append(o.Models, mm.Name)
		}
	}
	return o
}

// staleAfter is how long a temporary file must have gone unwritten before
// it counts as left behind by a killed writer.
const staleAfter = 30 * time.Second

// removeStaleTemps removes the temporary files (.NAME.DIGITS, from
// os.CreateTemp) that a killed writer of path left behind: those not
// written for staleAfter. A writer still at work keeps writing its file.
func removeStaleTemps(path string) {
	removeStaleTempsIn(filepath.Dir(path), filepath.Base(path))
}

// removeStaleTempsIn removes the stale temporary files of the file name in
// dir, or of any file when name is "".
func removeStaleTempsIn(dir, name string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, en := range entries {
		n := en.Name()
		i := strings.LastIndexByte(n, '.')
		if !strings.HasPrefix(n, ".") || i <= 0 || !en.Type().IsRegular() {
			continue
		}
		target, digits := n[1:i], n[i+1:]
		if digits == "" || strings.Trim(digits, "0123456789") != "" || (name != "" && target != name) {
			continue
		}
		if info, err := en.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// warnDroppedSystem says when a suite's system prompt is not sent to a
// model because its prompt format has no place for one (alpaca).
func warnDroppedSystem(e *env, s *suites.Suite, models []bench.ModelPlan) {
	if strings.TrimSpace(s.System) == "" {
		return
	}
	for _, mp := range models {
		if d, ok := mp.Model.(interface{ DropsSystem() bool }); ok && d.DropsSystem() {
			e.warnf("model %s: prompt_format alpaca has no place for a system prompt: the system: of suite %s is not sent (use a format with one, such as chatml, or an inline template with {{.System}})", mp.Name, s.Name)
		}
	}
}
