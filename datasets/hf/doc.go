// Package hf fetches dataset splits from the Hugging Face Hub as Parquet
// files and keeps them in a local cache, so that a suite can name
//
//	hf:OWNER/NAME[:CONFIG]/SPLIT[@REVISION]
//
// as its dataset path and run offline after the first fetch.
//
// The Hub converts every public dataset to Parquet on the branch
// refs/convert/parquet. Without a revision, Resolve asks the Hub for the
// split's Parquet files,
//
//	GET {endpoint}/api/datasets/OWNER/NAME/parquet/CONFIG/SPLIT → ["…/0.parquet", …]
//
// and downloads each URL in order, following the Hub's redirects (the API
// URL redirects to .../resolve/refs%2Fconvert%2Fparquet/CONFIG/SPLIT/0000.parquet,
// which redirects to a content server). The commit the files came from
// (the X-Repo-Commit header of the resolve response) is recorded, and the
// cache then pins the spec to it: later resolves of the same spec use the
// cached files without a network call, until Config.Refresh asks for the
// newest conversion. With @REVISION (a commit, branch or tag holding Parquet
// files laid out as CONFIG/SPLIT/*.parquet, as refs/convert/parquet is),
// Resolve lists that folder with the tree API,
//
//	GET {endpoint}/api/datasets/OWNER/NAME/tree/REVISION/CONFIG/SPLIT
//
// and downloads .../resolve/REVISION/PATH for each .parquet file, sorted by
// path. CONFIG defaults to "default", the Hub's name for the configuration
// of a dataset that has only one.
//
// Every downloaded file is checked and recorded by SHA-256: the Hub gives
// the SHA-256 of a Git LFS file as X-Linked-Etag (or as lfs.oid in the tree
// listing), and a download that does not match it is rejected. The cache
// folder of a split holds one snapshot folder per commit with the shards
// (0000.parquet, 0001.parquet, … in order) and a manifest.json that records
// the spec, the commit, and each file's URL, size and SHA-256; a refs folder
// maps each requested revision (or the unpinned spec) to its commit. Every
// reuse re-hashes the files against the manifest; a file that does not
// match is downloaded again, or, offline, reported.
//
// Config carries everything that comes from the environment (the command
// fills it, see ConfigFromEnv): the endpoint (HF_ENDPOINT), the token
// (HF_TOKEN, sent as "Authorization: Bearer" to the endpoint's host only,
// never logged and never written to the cache), the cache folder and
// offline mode. Package datasets reads hf: paths through its HubResolver
// variable, which the command sets to a Client's Resolve method; this
// package imports nothing of Mores but bench.
package hf
