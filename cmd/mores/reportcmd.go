package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
	htmlreport "github.com/mores-eval/mores/reports/html"
	"github.com/mores-eval/mores/reports/plot"
	"github.com/spf13/cobra"
	"strings"
)

// output opens -o FILE (atomically replaced) or returns stdout. done
// takes the error of the rendering: on an error it removes the temporary
// file and returns that error, else it moves the file into place (readable
// by all, like any file written by the shell: os.CreateTemp makes it 0600).
func (e *env) output(path string) (io.Writer, func(error) error, error) {
	if path == "" || path == "-" {
		return e.stdout, func(err error) error { return err }, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("%s: cannot write: %s", path, pathError(err))
	}
	removeStaleTemps(path)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		// Name the file asked for, not the temporary one.
		return nil, nil, fmt.Errorf("%s: cannot write: %s", path, pathError(err))
	}
	return f, func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o644)
		}
		if err != nil {
			os.Remove(f.Name())
			return err
		}
		return os.Rename(f.Name(), path)
	}, nil
}

// loadSummary reads summary.parquet, computing it when it is missing.
func loadSummary(dir string) ([]bench.SummaryRow, *bench.Manifest, error) {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, bench.SummaryFile)); err != nil {
		if _, err := os.Stat(filepath.Join(dir, bench.ScoresFile)); err != nil {
			if _, err := bench.WriteResults(dir, m.RunID); err != nil {
				return nil, nil, err
			}
		}
		rows, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(m.Seed)})
		return rows, m, err
	}
	rows, err := reports.ReadSummary(dir)
	return rows, m, err
}

func newReportCmd(e *env) *cobra.Command {
	var format, out, plots string
	var sample int
	c := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Render the summary of a run as a table (text, markdown, latex, csv, json) or an HTML report",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := args[0]
			if isSandboxRun(dir) {
				return reportSandbox(e, dir, format, out)
			}
			rows, m, err := loadSummary(dir)
			if err != nil {
				return err
			}
			warnNoEvidence(e, dir, m, rows)
			w, done, err := e.output(out)
			if err != nil {
				return err
			}
			return done(renderReport(w, dir, m, rows, format, plots, sample))
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text, markdown, latex, csv, html or json")
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	c.Flags().StringVar(&plots, "plots", "", "also write plots (PNG and SVG) into DIR")
	c.Flags().IntVar(&sample, "sample", htmlreport.DefaultSample,
		"html: the trials the per-sample browser holds (a sample, the same in every report of the run; 0: every trial, in memory that grows with the run)")
	return c
}

func renderReport(w io.Writer, dir string, m *bench.Manifest, rows []bench.SummaryRow, format, plots string, sample int) error {
	if plots != "" {
		if _, err := plot.WriteAll(dir, plots, plot.Options{}); err != nil {
			return err
		}
	}
	switch format {
	case "html":
		if sample < 0 {
			return usagef("--sample %d: want 0 (every trial) or more", sample)
		}
		if sample == 0 {
			sample = -1 // every trial
		}
		return htmlreport.Write(w, dir, htmlreport.Options{Sample: sample})
	case reports.FormatText:
		if err := reports.WriteSummaryTableWith(w, rows, format, tableOptions(m)); err != nil {
			return err
		}
		printCost(w, m.Cost)
		if err := reports.WritePanelAgreementSection(w, dir); err != nil {
			return err
		}
		return reports.WriteHumanAgreementSection(w, dir)
	case reports.FormatMarkdown, reports.FormatLaTeX:
		return reports.WritePaperTable(w, rows, m, format)
	case reports.FormatCSV, reports.FormatJSON:
		return reports.WriteSummaryTable(w, rows, format)
	}
	return usagef("--format %q: unknown (known: text, markdown, latex, csv, html, json)", format)
}

func newMergeCmd(e *env) *cobra.Command {
	var out string
	var allowPartial bool
	c := &cobra.Command{
		Use:   "merge RUN_DIR ... -o RUN_DIR",
		Short: "Merge the run directories of shards into one (an incomplete set fails, exit 3, unless --allow-partial)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usagef("merge: -o RUN_DIR is required")
			}
			if _, err := os.Stat(out); err == nil {
				return usagef("merge: %s exists already", out)
			}
			// A run given twice would add its later scores (mores judge,
			// pair judges) twice: only its trials are kept once.
			for i, a := range args {
				for _, b := range args[:i] {
					sa, err1 := os.Stat(a)
					sb, err2 := os.Stat(b)
					if filepath.Clean(a) == filepath.Clean(b) || (err1 == nil && err2 == nil && os.SameFile(sa, sb)) {
						return usagef("merge: %s is given twice", a)
					}
				}
			}
			// An incomplete set (a shard missing, killed or given twice)
			// would pass for the whole run: it fails, unless asked for.
			gaps, err := mergeGaps(args)
			if err != nil {
				return err
			}
			if len(gaps) > 0 && !allowPartial {
				return fmt.Errorf("merge: incomplete set of runs: %s; nothing written (--allow-partial merges them anyway, recorded as status: partial)",
					strings.Join(gaps, "; "))
			}
			// The merged run is built in a hidden folder beside its final
			// name (report, plots and tables included) and renamed when
			// complete, so that a merge that fails or is killed leaves no
			// half run under that name. Folders left by killed merges to
			// the same name are removed first.
			clean := filepath.Clean(out)
			if err := os.MkdirAll(filepath.Dir(clean), 0o755); err != nil {
				return err
			}
			prefix := "." + filepath.Base(clean) + ".merging-"
			if stale, _ := filepath.Glob(filepath.Join(filepath.Dir(clean), prefix+"*")); len(stale) > 0 {
				for _, d := range stale {
					os.RemoveAll(d)
				}
			}
			tmp, err := os.MkdirTemp(filepath.Dir(clean), prefix)
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp) // nothing left there once renamed
			if err := os.Chmod(tmp, 0o755); err != nil {
				return err
			}
			m, err := bench.MergeAs(args, tmp, filepath.Base(clean))
			if err != nil {
				return err
			}
			if len(gaps) > 0 {
				m.Status, m.Missing = "partial", gaps
				if err := bench.WriteManifest(tmp, m); err != nil {
					return err
				}
				e.warnf("merge: a partial run (--allow-partial): %s", strings.Join(gaps, "; "))
			}
			rows, err := reports.WriteSummary(tmp, reports.SummaryOptions{Seed: uint64(m.Seed)})
			if err != nil {
				return err
			}
			writeArtifacts(e, tmp)
			if err := os.Rename(tmp, clean); err != nil {
				return err
			}
			if err := reports.WriteSummaryTableWith(e.stdout, rows, reports.FormatText, tableOptions(m)); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s from %s → %s\n", count(int64(m.Counts.Trials), "trial"), count(int64(len(args)), "run"), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "the merged run directory")
	c.Flags().BoolVar(&allowPartial, "allow-partial", false, "merge an incomplete set of runs, recording status: partial and what is missing")
	return c
}

// writeArtifacts renders the shareable files of a run directory: report.html,
// plots/ (PNG and SVG) and tables/ (the paper table in LaTeX and Markdown,
// the summary as text and CSV). A failure is reported on stderr and does not
// fail the run: the Parquet files are what matters.
func writeArtifacts(e *env, dir string) {
	// The run, judge or merge before has left a large heap of garbage
	// (and the memory it held): collect it and return the memory to the
	// operating system first, so that the report's reading of the Parquet
	// files does not add its own heap on top of it.
	debug.FreeOSMemory()
	rows, m, err := loadSummary(dir)
	if err != nil {
		e.warnf("report: %v", err)
		return
	}
	write := func(path string, render func(io.Writer) error) {
		w, done, err := e.output(path)
		if err == nil {
			err = done(render(w))
		}
		if err != nil {
			e.warnf("writing %s: %v", path, err)
		}
	}
	// What a killed writer of the artifacts left behind.
	removeStaleTempsIn(filepath.Join(dir, "plots"), "")
	removeStaleTempsIn(filepath.Join(dir, "tables"), "")
	write(filepath.Join(dir, "report.html"), func(w io.Writer) error { return htmlreport.Write(w, dir, htmlreport.Options{}) })
	if _, err := plot.WriteAll(dir, filepath.Join(dir, "plots"), plot.Options{}); err != nil {
		e.warnf("writing plots: %v", err)
	}
	tables := filepath.Join(dir, "tables")
	write(filepath.Join(tables, "paper.tex"), func(w io.Writer) error { return reports.WritePaperTable(w, rows, m, reports.FormatLaTeX) })
	write(filepath.Join(tables, "paper.md"), func(w io.Writer) error { return reports.WritePaperTable(w, rows, m, reports.FormatMarkdown) })
	write(filepath.Join(tables, "summary.txt"), func(w io.Writer) error {
		return reports.WriteSummaryTableWith(w, rows, reports.FormatText, tableOptions(m))
	})
	write(filepath.Join(tables, "summary.csv"), func(w io.Writer) error { return reports.WriteSummaryTable(w, rows, reports.FormatCSV) })
}
