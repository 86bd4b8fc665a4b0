package openai

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// attemptKey is the context key of an attempt's *attemptInfo.
type attemptKey struct{}

// attemptInfo carries what one attempt needs from, and learns in, the
// transport: fields to add to the request body, and the response's status
// and Retry-After. It belongs to one attempt; the transport writes it before
// go-openai returns, and Generate reads it after.
type attemptInfo struct {
	// patch holds JSON members (`"temperature":0`) to add to the body:
	// values that go-openai's omitempty float32 fields drop.
	patch []byte

	status     int
	retryAfter time.Duration
}

// transport wraps a RoundTripper to patch request bodies and capture
// response headers for the attempt in the request's context. Requests
// without an attempt pass through unchanged.
type transport struct {
	base  http.RoundTripper
	creds urlCreds
}

// urlCreds are the parts of a base URL that may hold credentials: they are
// kept out of the URL the clients see, and added to each request here.
type urlCreds struct {
	// query is the base URL's raw query, added to every request's query.
	query string
	// user is the base URL's user information, sent as basic
	// authentication when the request has no Authorization header (as
	// net/http does for a URL holding it).
	user *url.Userinfo
}

// splitBaseURL returns the base URL without its user information, query
// and fragment (and without a trailing slash), and those credentials.
func splitBaseURL(base string) (string, urlCreds, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", urlCreds{}, specError("", "base_url", badBaseURL(base))
	}
	creds := urlCreds{query: u.RawQuery, user: u.User}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return strings.TrimRight(u.String(), "/"), creds, nil
}

// RoundTrip implements http.RoundTripper. It does not modify req: a patched
// body goes into a clone.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.creds.query != "" || t.creds.user != nil {
		req = req.Clone(req.Context())
		if t.creds.query != "" {
			if req.URL.RawQuery == "" {
				req.URL.RawQuery = t.creds.query
			} else {
				req.URL.RawQuery = t.creds.query + "&" + req.URL.RawQuery
			}
		}
		if u := t.creds.user; u != nil && req.Header.Get("Authorization") == "" {
			p, _ := u.Password()
			req.SetBasicAuth(u.Username(), p)
		}
	}
	info, _ := req.Context().Value(attemptKey{}).(*attemptInfo)
	if info != nil && len(info.patch) > 0 && req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = patchBody(body, info.patch)
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	resp, err := t.base.RoundTrip(req)
	if resp != nil && info != nil {
		info.status = resp.StatusCode
		info.retryAfter = parseRetryAfter(resp.Header, time.Now())
	}
	return resp, err
}

// patchBody inserts the JSON members in patch at the start of the JSON
// object in body. The members are ones go-openai left out, so no key is
// repeated. A body that is not an object is returned unchanged.
func patchBody(body, patch []byte) []byte {
	i := bytes.IndexByte(body, '{')
	if i < 0 || len(bytes.TrimSpace(body[:i])) != 0 {
		return body
	}
	out := make([]byte, 0, len(body)+len(patch)+1)
	out = append(out, body[:i+1]...)
	out = append(out, patch...)
	if rest := bytes.TrimSpace(body[i+1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[i+1:]...)
}

// newHTTPClient returns the client that sends a model's requests: a copy of
// c (or a client of its own when c is nil) whose transport is wrapped by
// transport.
func newHTTPClient(c *http.Client, creds urlCreds) *http.Client {
	if c == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 512
		t.MaxIdleConnsPerHost = 256
		return &http.Client{Transport: &transport{base: t, creds: creds}}
	}
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = &transport{base: base, creds: creds}
	return &cp
}
