package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mores-eval/mores/bench"
)

// printEstimate prints what `mores run --dry-run` found.
func printEstimate(w io.Writer, est bench.Estimate) error {
	fmt.Fprintf(w, "dry run: %d trials to run", est.Trials)
	if est.Journaled > 0 {
		fmt.Fprintf(w, " (%d done already)", est.Journaled)
	}
	fmt.Fprintf(w, ", %d answered by the response cache, %d requests to send; nothing was sent\n", est.Cached, est.Requests)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MODEL\tTRIALS\tCACHED\tREQUESTS\tPROMPT TOKENS\tOUTPUT TOKENS\tCOST (USD)\t")
	for _, m := range est.Models {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t~%d\t~%d\t%s\t\n", m.Model, m.Trials, m.Cached, m.Requests, m.PromptTokens, m.OutputTokens, costCell(m.CostUSD, m.Priced))
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t~%d\t~%d\t%s\t\n", est.Trials, est.Cached, est.Requests, est.PromptTokens, est.OutputTokens, costCell(est.CostUSD, true))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "Estimates: prompt tokens ≈ bytes/4 + 4 a message; output tokens = max_tokens, else %d a request; requests of LLM judges are not counted.\n", bench.DefaultOutputEstimate)
	return err
}

// costCell formats a cost in USD, or "no price".
func costCell(usd float64, priced bool) string {
	if !priced {
		return "no price"
	}
	return fmt.Sprintf("~$%.4f", usd)
}

// printCost prints what a run spent, per model, when it spent anything or
// has a priced model.
func printCost(w io.Writer, c *bench.CostSummary) {
	if c == nil {
		return
	}
	priced := false
	for _, m := range c.Models {
		priced = priced || m.Priced
	}
	if !priced {
		return
	}
	fmt.Fprintf(w, "cost $%.6f:", c.CostUSD)
	for _, m := range c.Models {
		if m.Priced {
			fmt.Fprintf(w, " %s $%.6f (%d requests, %d+%d tokens)", m.Model, m.CostUSD, m.Requests, m.PromptTokens, m.CompletionTokens)
		} else {
			fmt.Fprintf(w, " %s no price", m.Model)
		}
	}
	fmt.Fprintln(w)
}
