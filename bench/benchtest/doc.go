// Package benchtest holds helpers for tests of Mores packages: where the
// shared real datasets are, and a loopback server that speaks the OpenAI wire
// format with scripted answers and failure modes (in the manner of
// net/http/httptest).
package benchtest
