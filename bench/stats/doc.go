// Package stats holds the statistics that Mores judges and reports share.
//
// A run produces one score per trial, judge and metric. Reports group those
// scores (suite × model × attack × judge × metric) and describe each group
// with [Summarize]: the mean, its standard error and a t-based 95%
// confidence interval, which become the n, mean, stderr, ci_low and ci_high
// columns of summary.parquet. When the normal-theory interval is doubtful
// (skewed or bounded scores) [BootstrapMeanCI] gives a seeded percentile
// bootstrap interval instead, and [Wilson] gives the score interval of a
// rate such as an attack success rate.
//
// `mores compare` pairs the scores of a base and a head run item by item.
// [PairedBootstrap] estimates the mean difference with a bootstrap interval
// and a two-sided p-value, [PairedTTest] gives the classical paired t-test,
// and [McNemar] tests paired pass/fail outcomes. Because a gate usually
// tests many metrics at once, [Holm] adjusts the p-values for multiplicity
// before any regression is called significant.
//
// Pairwise judges produce wins, ties and losses. [WinRate] turns them into a
// rate with ties counted as half a win, and [BradleyTerry] fits strengths to
// many models at once (Hunter's MM algorithm), reported on an Elo-like scale
// with bootstrap intervals.
//
// Panels of judges and human raters are checked for agreement with
// [KrippendorffAlpha] (any number of raters, missing values, nominal to
// ratio data), [CohenKappa] (two raters), [FleissKappa] (a fixed number of
// raters per item) and [PercentAgreement]. [Confusion] compares a judge's
// labels with human labels (accuracy, false positive and false negative
// rates).
//
// Randomised procedures take an explicit seed and give the same answer for
// the same input and seed on every machine, whatever the number of CPUs.
// Functions never read global state and are safe for concurrent use.
package stats
