package main

import (
	"context"
	"io"

	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/datasets/hf"
	"github.com/spf13/cobra"
)

// run is the whole command: it parses args and runs a subcommand. Process
// state reaches it only through its arguments.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	// hf: dataset paths resolve through the Hugging Face Hub client, which
	// reads HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE from the environment.
	hcfg := hf.ConfigFromEnv(getenv)
	if c, err := hf.New(hcfg); err == nil {
		datasets.HubResolver = c.Resolve
	} else {
		datasets.HubResolver = func(string) ([]string, error) { return nil, err }
	}
	entered := false
	root := &cobra.Command{
		Use:           "mores",
		Short:         "Evaluate the social alignment of language models",
		Long:          "Mores runs alignment and adversarial suites against models, judges the answers, and writes Parquet tables, reports and CI gates.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			entered = true
		},
	}
	// mores --version prints what `mores version` prints.
	root.Version = version()
	root.SetVersionTemplate("mores {{.Version}}\n")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v (see 'mores %s --help')", c.Name(), err, c.Name())
	})
	root.AddCommand(
		newRunCmd(e),
		newReportCmd(e),
		newMergeCmd(e),
		newSuitesCmd(e),
		newJudgeCmd(e),
		newJudgeEvalCmd(e),
		newCompareCmd(e),
		newGateCmd(e),
		newAgreementCmd(e),
		newImportCmd(e),
		newServeCmd(e),
		newSandboxCmd(e),
		newVersionCmd(e),
	)
	err := root.ExecuteContext(ctx)
	if err != nil && !entered {
		return usagef("%v", err)
	}
	return err
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of mores",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := io.WriteString(e.stdout, "mores "+version()+"\n")
			return err
		},
	}
}
