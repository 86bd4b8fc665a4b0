// Package reports turns a run directory into results worth sharing.
//
// Summaries read scores.parquet as a stream, group the values by suite ×
// model × attack × judge × metric and compute, with bench/stats, the mean,
// its standard error and a 95% confidence interval (Wilson for 0/1 metrics,
// a seeded percentile bootstrap otherwise), written to summary.parquet.
// Tables render a summary as text (go-pretty), Markdown, CSV or JSON.
package reports
