package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/suites"
	"github.com/mores-eval/mores/suites/attack"
	"github.com/spf13/cobra"
)

func newSuitesCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "suites [list | show NAME | validate FILE ...]",
		Short: "List, show or validate suites",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return listSuites(e)
		},
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in suites",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return listSuites(e) },
	}, &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Show a suite: its file, its judges, attacks and a rendered first prompt",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return showSuite(e, args[0])
		},
	}, &cobra.Command{
		Use:   "validate FILE ...",
		Short: "Validate suite files: syntax, keys, dataset, template, judges and attacks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var all bench.InputErrors
			for _, a := range args {
				n, err := validateSuite(e, a)
				if err != nil {
					var ies bench.InputErrors
					var ie *bench.InputError
					switch {
					case errors.As(err, &ies):
						all = append(all, ies...)
					case errors.As(err, &ie):
						all = append(all, ie)
					default:
						return err
					}
					continue
				}
				fmt.Fprintf(e.stdout, "%s: ok (%d samples)\n", a, n)
			}
			if len(all) > 0 {
				return all
			}
			return nil
		},
	})
	return c
}

func listSuites(e *env) error {
	t := table.NewWriter()
	t.SetOutputMirror(e.stdout)
	t.SetStyle(table.StyleLight)
	t.AppendHeader(table.Row{"suite", "version", "samples", "judges", "attacks", "description"})
	for _, name := range suites.BuiltinNames() {
		s, err := suites.Builtin(name)
		if err != nil {
			return err
		}
		samples, err := s.Samples(nil)
		if err != nil {
			return err
		}
		var js []string
		for _, j := range s.Judges {
			js = append(js, j.Name)
		}
		desc := s.Description
		if i := strings.Index(desc, ": "); i > 0 && i < 60 {
			desc = desc[:i]
		}
		if r := []rune(desc); len(r) > 60 {
			desc = strings.TrimSpace(string(r[:59])) + "…"
		}
		t.AppendRow(table.Row{s.Name, s.Version, len(samples), strings.Join(js, ", "), strings.Join(s.Attacks, ", "), desc})
	}
	t.Render()
	return nil
}

func showSuite(e *env, arg string) error {
	s, err := suites.Resolve(arg)
	if err != nil {
		return err
	}
	samples, err := s.Samples(e.warnf)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "name:        %s (version %d)\nfile:        %s\nsha256:      %s\ndataset:     %s (%d samples)\n",
		s.Name, s.Version, s.File, s.Hash, s.DatasetPath(), len(samples))
	if s.Description != "" {
		fmt.Fprintf(e.stdout, "description: %s\n", strings.TrimSpace(s.Description))
	}
	var js []string
	for _, j := range s.Judges {
		js = append(js, j.Name)
	}
	fmt.Fprintf(e.stdout, "judges:      %s\n", strings.Join(js, ", "))
	for _, a := range s.Attacks {
		fmt.Fprintf(e.stdout, "attack:      %s — %s\n", a, attack.Describe(strings.SplitN(a, ":", 2)[0]))
	}
	if s.System != "" {
		fmt.Fprintf(e.stdout, "system:      %s\n", s.System)
	}
	if len(samples) > 0 {
		req, err := s.Request(samples[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "first prompt (sample %s):\n", samples[0].ID)
		for _, m := range req.Messages {
			fmt.Fprintf(e.stdout, "  [%s] %s\n", m.Role, strings.ReplaceAll(m.Content, "\n", "\n  "))
		}
	}
	return nil
}

// validateSuite checks everything about a suite that can be checked without
// a model: syntax, keys, the dataset and its mapping, every template
// rendering, the judges' names and options, and the attacks.
func validateSuite(e *env, arg string) (int, error) {
	s, err := suites.Resolve(arg)
	if err != nil {
		return 0, err
	}
	var errs bench.InputErrors
	// Every problem at once: a dataset that cannot be read does not hide
	// the judges' and attacks' problems.
	samples, err := s.Samples(e.warnf)
	if err == nil {
		err = renderAll(s, samples)
	}
	if err != nil {
		var ies bench.InputErrors
		var ie *bench.InputError
		switch {
		case errors.As(err, &ies):
			errs = append(errs, ies...)
		case errors.As(err, &ie):
			errs = append(errs, ie)
		default:
			return 0, err
		}
	}
	env := judges.Env{Model: func(string) (bench.Model, error) { return offline{}, nil },
		Subject: func(string) (bench.Model, error) { return offline{}, nil }}
	for _, js := range s.Judges {
		if _, err := judges.New(js, env); err != nil {
			var ie *bench.InputError
			if errors.As(err, &ie) {
				if ie.File == "" {
					ie.File = s.File
				}
				errs = append(errs, ie)
			}
		}
	}
	for _, a := range s.Attacks {
		if _, err := attack.ResolveWith(a, attack.Options{Dir: s.Dir}); err != nil {
			var ie *bench.InputError
			if errors.As(err, &ie) {
				if ie.File == "" {
					ie.File, ie.Line = s.File, s.Line("attacks")
				}
				errs = append(errs, ie)
			}
		}
	}
	if len(errs) > 0 {
		return 0, errs
	}
	return len(samples), nil
}

// offline stands in for judge models while a suite is validated: judges are
// built, never asked.
type offline struct{}

func (offline) Generate(context.Context, bench.Request) (bench.Completion, error) {
	return bench.Completion{}, errors.New("validation does not call models")
}
