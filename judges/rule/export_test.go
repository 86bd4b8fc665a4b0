package rule

// IndexAtBoundary exposes indexAtBoundary (the choice judge's search for a
// choice's text) to the differential tests of package rule_test.
var IndexAtBoundary = indexAtBoundary
