package benchtest

import (
	"os"
	"testing"
)

// RequireAllEnv is the environment variable that turns a missing test
// dependency (Chromium, pdflatex, Node.js with DuckDB, the shared datasets)
// from a skip into a failure. `make test` and .ci/run set it, so CI fails when
// a tool is missing; a contributor's plain `go test ./...` skips those tests
// with a one-line reason instead.
const RequireAllEnv = "MORES_REQUIRE_ALL"

// Missing reports a missing test dependency: it fails the test when
// MORES_REQUIRE_ALL=1, and skips it with the same one-line reason otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireAllEnv) == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (skipped; set "+RequireAllEnv+"=1 to fail instead)", args...)
}
