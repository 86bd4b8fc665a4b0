package human

import (
	"embed"
	"net/http"
	"path"
)

// ui holds the page, script and style sheet of the rating UI. The page is
// static: it holds no data, and the script renders everything it fetches
// with textContent, never as HTML.
//
//go:embed ui/index.html ui/app.js ui/app.css
var ui embed.FS

var assetTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// serveAsset writes an embedded file with the given status.
func serveAsset(w http.ResponseWriter, name string, code int) {
	b, err := ui.ReadFile("ui/" + name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", assetTypes[path.Ext(name)])
	w.WriteHeader(code)
	w.Write(b)
}
