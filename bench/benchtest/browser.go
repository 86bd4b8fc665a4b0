package benchtest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser that
// the tests of the HTML report and the rating UI drive.
const ChromiumPath = "/usr/bin/chromium"

// Browser starts headless Chromium for one test, with a fresh profile and the
// flags this machine's closed network needs, and returns the context of its
// first tab; the browser is stopped when the test ends. extra options (a window
// size, say) are added to the defaults. A missing Chromium is reported through
// Missing: a failure under MORES_REQUIRE_ALL=1, a skip otherwise.
func Browser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		Missing(t, "headless Chromium not found at %s (run make setup): %v", ChromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.ExecPath(ChromiumPath),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}
