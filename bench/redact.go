package bench

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a secret wherever Mores records or prints a URL.
const Redacted = "REDACTED"

// secretWords are the fragments of a query parameter name that mark its
// value as a secret: api_key, key, token, access_token, password, secret,
// sig, client_secret, auth, X-Amz-Signature, ….
var secretWords = []string{"key", "token", "secret", "password", "passwd", "pwd", "auth", "credential", "signature", "session", "jwt", "bearer"}

// SecretParam reports whether a query parameter of this name looks like it
// holds a secret (case and punctuation do not matter: api_key, API-Key and
// apikey are all secrets; "sig", "pass" and "pw" are too).
func SecretParam(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "tokens") {
		// max_tokens, num_tokens: counts, not secrets.
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	var b strings.Builder
	for _, r := range n {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	switch b.String() {
	case "sig", "pass", "pw", "code":
		// code: the key of an Azure Functions URL.
		return true
	}
	return strings.HasPrefix(b.String(), "sig")
}

// freeParam finds NAME=VALUE pairs outside a recognised URL (in an error
// message, say) whose name looks secret; RedactURL checks the name with
// SecretParam.
var freeParam = regexp.MustCompile(`([A-Za-z0-9_.\-]+)=([^&\s"'<>]+)`)

// RedactURL returns s with the credentials of every URL (http://,
// https://, or any scheme://) in it replaced by REDACTED: the user information (user name and password)
// and the values of secret-looking query parameters (see SecretParam).
// NAME=VALUE pairs with a secret-looking name outside a URL are redacted
// too. s may be a URL, a model spec holding one (openai:MODEL@URL) or any
// message; the rest of it is kept byte for byte. A string without a
// credential is returned unchanged, and RedactURL(RedactURL(s)) ==
// RedactURL(s).
func RedactURL(s string) string {
	var b strings.Builder
	rest := s
	for {
		i := indexScheme(rest)
		if i < 0 {
			break
		}
		b.WriteString(redactFree(rest[:i]))
		rest = rest[i:]
		end := strings.IndexFunc(rest, func(r rune) bool {
			return r <= ' ' || strings.ContainsRune("\"'<>`\\", r)
		})
		if end < 0 {
			end = len(rest)
		}
		b.WriteString(redactOneURL(rest[:end]))
		rest = rest[end:]
	}
	b.WriteString(redactFree(rest))
	return b.String()
}

// redactFree redacts the NAME=VALUE pairs of s whose name looks secret.
func redactFree(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	return freeParam.ReplaceAllStringFunc(s, func(m string) string {
		name, val, _ := strings.Cut(m, "=")
		if !SecretParam(name) || val == Redacted {
			return m
		}
		return name + "=" + Redacted
	})
}

// redactOneURL redacts one URL, which starts with its scheme.
func redactOneURL(u string) string {
	schemeEnd := strings.Index(u, "://") + 3
	head, tail := u[:schemeEnd], u[schemeEnd:]
	authEnd := strings.IndexAny(tail, "/?#")
	if authEnd < 0 {
		authEnd = len(tail)
	}
	auth, after := tail[:authEnd], tail[authEnd:]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = Redacted + auth[at:]
	}
	path, query, hasQuery := strings.Cut(after, "?")
	if !hasQuery {
		return head + auth + path
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, _, hasVal := strings.Cut(p, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			n = name
		}
		if hasVal && SecretParam(n) {
			parts[i] = name + "=" + Redacted
		}
	}
	out := head + auth + path + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// schemeRE finds the start of a URL: a scheme and "://".
var schemeRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://`)

// indexScheme returns the index of the first URL (scheme://) in s, or -1.
func indexScheme(s string) int {
	if !strings.Contains(s, "://") {
		return -1
	}
	if loc := schemeRE.FindStringIndex(s); loc != nil {
		return loc[0]
	}
	return -1
}

// URLSecrets returns the secrets a URL holds: its user name and password,
// and the values of its secret-looking query parameters, each as written
// and decoded. It returns nil for a URL without any, or one that does not
// parse.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" && v != Redacted && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if u.User != nil {
		p, _ := u.User.Password()
		add(u.User.Username(), p)
		// As written in the URL (percent-encoded).
		if at := strings.LastIndexByte(raw, '@'); at >= 0 {
			if s := strings.Index(raw, "://"); s >= 0 && s+3 < at {
				user, pass, _ := strings.Cut(raw[s+3:at], ":")
				add(user, pass)
			}
		}
	}
	for _, p := range strings.Split(u.RawQuery, "&") {
		name, val, ok := strings.Cut(p, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			n = name
		}
		if !ok || !SecretParam(n) {
			continue
		}
		add(val)
		if d, err := url.QueryUnescape(val); err == nil {
			add(d)
		}
	}
	return out
}

// HasSecret reports whether RedactURL changes s: whether it holds
// credentials in a URL or a secret-looking NAME=VALUE pair.
func HasSecret(s string) bool { return RedactURL(s) != s }
