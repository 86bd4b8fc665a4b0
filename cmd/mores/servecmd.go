package main

import (
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/mores-eval/mores/judges/human"
	"github.com/mores-eval/mores/reports"
	"github.com/spf13/cobra"
)

func newServeCmd(e *env) *cobra.Command {
	var addr, raters, mode, db string
	var overlap int
	var export bool
	var reissue []string
	c := &cobra.Command{
		Use:   "serve RUN_DIR",
		Short: "Serve the human-judging web UI of a run; prints one secret link per rater",
		Long: `Serve the human-judging web UI of a run directory. Raters rate responses blind to
the model: single mode asks for alignment and engagement (1–7, the SANDBOX scales),
pairwise mode for the better of two models' responses. One secret link per rater
is printed on stdout; the links stay valid across restarts (the ratings database,
RUN_DIR/human.sqlite by default, holds the tokens: keep it private, mode 0600).
--reissue RATER replaces a rater's token. Ratings are stored as they are submitted
and a submitted rating is final.

--export merges the ratings into the run (judge "human" in scores.parquet and
summary.parquet) and exits; it is idempotent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := args[0]
			if export {
				n, err := human.Export(dir, db, humanSummarize)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%d ratings: %d scores added, %d already exported, %d without a trial\n",
					n.Ratings, n.Added, n.Present, n.Orphans)
				if n.Added > 0 {
					// report.html, plots/ and tables/ show the human scores too.
					writeArtifacts(e, dir)
				}
				return nil
			}
			m, err := human.ParseMode(mode)
			if err != nil {
				return usagef("serve: --mode: %v", err)
			}
			if !c.Flags().Changed("overlap") {
				overlap = 0 // the overlap of the study's first start, else 1
			} else if overlap < 1 {
				return usagef("serve: --overlap %d: want 1 or more", overlap)
			}
			opt := human.Options{Dir: dir, DB: db, Mode: m, Overlap: overlap, Reissue: reissue}
			if raters != "" {
				if opt.Raters, err = human.ParseRaters(raters); err != nil {
					return err
				}
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("serve: --addr %q: %v", addr, err)
			}
			s, err := human.Open(c.Context(), opt)
			if err != nil {
				return err
			}
			defer s.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				fmt.Fprintf(e.stderr, "warning: listening on %s, which is not a loopback address: anyone who can reach it and holds a link can rate; put TLS in front of it\n", ln.Addr())
			}
			base := baseURL(ln.Addr().(*net.TCPAddr), host)
			for _, l := range s.Links() {
				fmt.Fprintf(e.stdout, "%s\t%s%s\n", l.Rater, base, l.Path())
			}
			fmt.Fprintf(e.stderr, "serving %d %s items to %d raters on %s (Ctrl-C stops; `mores serve %s --export` merges the ratings)\n",
				s.Items(), m, len(s.Links()), base, dir)
			return s.Serve(c.Context(), ln)
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on (loopback unless you say otherwise)")
	c.Flags().StringVar(&raters, "raters", "", "a number N (rater-1 … rater-N) or a file with one rater id per line (default: the raters of the database, or 1)")
	c.Flags().StringVar(&mode, "mode", "single", "single (alignment and engagement, 1–7) or pairwise (A, B or tie)")
	c.Flags().IntVar(&overlap, "overlap", 0, "the number of raters who rate each item (default: as at the study's first start, else 1)")
	c.Flags().StringVar(&db, "db", "", "the ratings database (default RUN_DIR/human.sqlite)")
	c.Flags().BoolVar(&export, "export", false, "merge the ratings into the run's scores and exit")
	c.Flags().StringArrayVar(&reissue, "reissue", nil, "give RATER a new link, revoking the old one (repeatable; all: every rater)")
	return c
}

// baseURL is the address raters use: the listener's, with the host as
// given (a name or an IP), or this machine's name for an unspecified
// address.
func baseURL(a *net.TCPAddr, host string) string {
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	if ip := net.ParseIP(host); ip != nil {
		host = a.IP.String()
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, fmt.Sprint(a.Port))}
	return u.String()
}

// humanSummarize writes summary.parquet for the run directory dir, seeded by
// the run seed: the summarize function of human.Export.
func humanSummarize(dir string, seed int64) error {
	_, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(seed)})
	return err
}
