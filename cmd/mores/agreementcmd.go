package main

import (
	"os"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
	"github.com/mores-eval/mores/reports"
	"github.com/spf13/cobra"
)

func newAgreementCmd(e *env) *cobra.Command {
	var levelFlag, out string
	c := &cobra.Command{
		Use:   "agreement FILE",
		Short: "Inter-rater agreement of a ratings table (CSV with unit, rater, value)",
		Long: `Agreement reads a ratings table in long form — a CSV file whose header names
the columns unit, rater and value (other columns are ignored; an empty value
is a missing rating) — and prints Krippendorff's alpha at the level of
measurement, Fleiss' kappa (when every unit has the same number of ratings),
Cohen's kappa for each pair of raters on the units both rated, the percent
agreement, and the counts of units, raters and pairable values.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			level, err := stats.ParseLevel(levelFlag)
			if err != nil {
				return usagef("--level %q: want nominal, ordinal, interval or ratio", levelFlag)
			}
			file := args[0]
			f, err := os.Open(file)
			if err != nil {
				return &bench.InputError{File: file, Msg: "cannot read: " + pathError(err)}
			}
			defer f.Close()
			rs, err := reports.ReadRatingsCSV(f, file)
			if err != nil {
				return err
			}
			res, err := reports.Agreement(rs, level, file)
			if err != nil {
				return err
			}
			w, done, err := e.output(out)
			if err != nil {
				return err
			}
			return done(reports.WriteAgreement(w, file, res))
		},
	}
	c.Flags().StringVar(&levelFlag, "level", "nominal", "level of measurement: nominal, ordinal, interval or ratio")
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return c
}

// pathError returns the reason of an *os.PathError without the path.
func pathError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
