package benchtest

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDatasets returns the absolute path of the shared datasets folder
// (../shared/datasets from the module root). When it is missing the test
// stops with a clear message: it fails under MORES_REQUIRE_ALL=1 (CI and
// `make test`) and skips otherwise (see Missing).
func SharedDatasets(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("benchtest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("benchtest: no go.mod above the test's directory")
		}
		dir = parent
	}
	if env := os.Getenv("MORES_SHARED_DATASETS"); env != "" {
		return env
	}
	p := filepath.Join(dir, "..", "shared", "datasets")
	if _, err := os.Stat(filepath.Join(p, "README.md")); err != nil {
		Missing(t, "benchtest: the shared datasets are missing at %s (set MORES_SHARED_DATASETS to their folder): %v", p, err)
	}
	abs, _ := filepath.Abs(p)
	return abs
}

// SharedFile returns the path of a file below the shared datasets folder; a
// missing file is reported like a missing folder (see Missing).
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(SharedDatasets(t), rel)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "benchtest: shared dataset file missing: %v", err)
	}
	return p
}
