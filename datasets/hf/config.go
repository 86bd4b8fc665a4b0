package hf

import (
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultEndpoint is the Hugging Face Hub.
const DefaultEndpoint = "https://huggingface.co"

// Config is everything a Client takes from its environment. The command
// fills it (see ConfigFromEnv); the package reads no environment itself.
type Config struct {
	// Endpoint is the Hub's base URL (HF_ENDPOINT); "" means DefaultEndpoint.
	Endpoint string
	// Token is a Hub access token (HF_TOKEN), sent as "Authorization:
	// Bearer" to the endpoint's host, for gated and private datasets. It is
	// never logged, never put in an error and never written to the cache.
	Token string
	// CacheDir is the folder of the cache (required; see DefaultCacheDir).
	CacheDir string
	// Offline forbids network calls: a spec resolves only from the cache.
	Offline bool
	// Refresh looks up the Hub's current files for a spec that is already
	// cached under a branch name or no revision, instead of reusing the
	// commit the cache pinned it to. It has no effect when Offline is set.
	Refresh bool
	// HTTPClient makes the requests; nil means a client with no overall
	// timeout (downloads may be large; cancel through the context).
	HTTPClient *http.Client
	// Log, if set, receives progress messages (a download starting, a
	// corrupt cache file replaced). They never hold the token.
	Log func(format string, args ...any)
}

// ConfigFromEnv fills a Config from environment variables read through
// getenv: HF_ENDPOINT, HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN),
// HF_HUB_OFFLINE (1, true, yes or on) and the cache folder of
// DefaultCacheDir.
func ConfigFromEnv(getenv func(string) string) Config {
	token := getenv("HF_TOKEN")
	if token == "" {
		token = getenv("HUGGING_FACE_HUB_TOKEN")
	}
	endpoint := strings.TrimRight(getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	switch strings.ToLower(strings.TrimSpace(getenv("HF_HUB_OFFLINE"))) {
	case "1", "true", "yes", "on":
		return Config{Endpoint: endpoint, Token: token, CacheDir: DefaultCacheDir(getenv), Offline: true}
	}
	return Config{Endpoint: endpoint, Token: token, CacheDir: DefaultCacheDir(getenv)}
}

// DefaultCacheDir returns the cache folder for Hub files given the
// environment read through getenv: $MORES_CACHE_DIR/hf when MORES_CACHE_DIR
// is set, else the folder "mores/hf" in the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache on Unix, ~/Library/Caches on macOS,
// %LocalAppData% on Windows), or "" when none can be found.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("MORES_CACHE_DIR"); d != "" {
		return filepath.Join(d, "hf")
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("LocalAppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Caches")
		}
	default:
		base = getenv("XDG_CACHE_HOME")
		if base == "" || !filepath.IsAbs(base) {
			base = ""
			if h := getenv("HOME"); h != "" {
				base = filepath.Join(h, ".cache")
			}
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "mores", "hf")
}
