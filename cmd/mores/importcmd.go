package main

import (
	"github.com/mores-eval/mores/reports"
	"github.com/spf13/cobra"
)

func newImportCmd(e *env) *cobra.Command {
	var opt reports.ImportOptions
	var out string
	c := &cobra.Command{
		Use:   "import-judgments FILE ... --format alpacaeval -o RUN_DIR",
		Short: "Turn pairwise judgments made elsewhere (AlpacaEval annotations) into a run directory",
		Long: `Import-judgments reads files of pairwise judgments made by another tool and
writes a new run directory: responses.parquet with both outputs of every
comparison, scores.parquet with the annotator as judge and the metric "win"
(the evaluated model's share of each comparison: 1, 0, 0.5 for a draw, or
a weighted annotator's probability), and summary.parquet, so that
'mores report', 'mores compare' and 'mores gate' work on them.

The format alpacaeval reads AlpacaEval's results/<model>/<annotator>/annotations.json.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usagef("import-judgments: -o RUN_DIR is required")
			}
			res, err := reports.ImportJudgments(args, out, opt)
			if err != nil {
				return err
			}
			// Like every other run directory: report.html, plots/ and tables/.
			writeArtifacts(e, out)
			return reports.WriteImportSummary(e.stdout, out, res)
		},
	}
	c.Flags().StringVar(&opt.Format, "format", reports.ImportAlpacaEval, "format of the files: alpacaeval")
	c.Flags().StringVarP(&out, "output", "o", "", "the new run directory")
	c.Flags().StringVar(&opt.RunID, "run-id", "", "run id (default: the directory's name)")
	c.Flags().StringVar(&opt.Suite, "suite", "alpacaeval", "suite name of the imported samples")
	c.Flags().Int64Var(&opt.Seed, "seed", 1, "seed of the bootstrap intervals")
	return c
}
