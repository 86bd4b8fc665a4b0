package main

import (
	"fmt"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// mergeGaps says what keeps the runs given to `mores merge` from making a
// whole run: a run that did not finish (killed, interrupted, failed), and,
// for shards I/N of one N, the shards missing, those given more than once
// (a copy of a shard directory under another path), or shards of different
// totals. It returns nothing when they make a whole. A run that is not
// a directory of a run is bad input (exit 2).
func mergeGaps(dirs []string) ([]string, error) {
	var gaps []string
	ms := make([]*bench.Manifest, len(dirs))
	for i, d := range dirs {
		m, err := bench.ReadManifest(d)
		if err != nil {
			return nil, err
		}
		ms[i] = m
		switch m.Status {
		case "complete":
		case "running":
			gaps = append(gaps, fmt.Sprintf("%s did not finish (status running: killed, or still running; finish it with mores run --resume %s)", d, d))
		case "failed":
			gaps = append(gaps, fmt.Sprintf("%s failed (%s)", d, oneLine(m.Error)))
		default:
			gaps = append(gaps, fmt.Sprintf("%s did not finish (status %s; finish it with mores run --resume %s)", d, m.Status, d))
		}
	}

	// Shards of one set.
	total := 0
	byShard := map[int][]string{}
	for i, m := range ms {
		var sh, n int
		if _, err := fmt.Sscanf(m.Shard, "%d/%d", &sh, &n); err != nil || n < 1 {
			total = -1 // not all shards: no set to check
			break
		}
		if total > 0 && n != total {
			var all []string
			for _, m := range ms {
				all = append(all, m.Shard)
			}
			return append(gaps, fmt.Sprintf("the runs are shards of different totals (%s)", strings.Join(all, ", "))), nil
		}
		total = n
		byShard[sh] = append(byShard[sh], dirs[i])
	}
	if total > 0 {
		var missing []string
		for i := 1; i <= total; i++ {
			switch ds := byShard[i]; {
			case len(ds) == 0:
				missing = append(missing, fmt.Sprintf("%d/%d", i, total))
			case len(ds) > 1:
				gaps = append(gaps, fmt.Sprintf("shard %d/%d given more than once (%s)", i, total, strings.Join(ds, ", ")))
			}
		}
		if len(missing) > 0 {
			gaps = append(gaps, "shards missing: "+strings.Join(missing, ", "))
		}
		return gaps, nil
	}
	// Whole runs: the same run twice (a copy of its directory).
	byID := map[string][]string{}
	var ids []string
	for i, m := range ms {
		if byID[m.RunID] == nil {
			ids = append(ids, m.RunID)
		}
		byID[m.RunID] = append(byID[m.RunID], dirs[i])
	}
	for _, id := range ids {
		if ds := byID[id]; len(ds) > 1 {
			gaps = append(gaps, fmt.Sprintf("run %s given more than once (%s)", id, strings.Join(ds, ", ")))
		}
	}
	return gaps, nil
}
