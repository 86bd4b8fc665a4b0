package datasets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// builtinPrefix starts the path of an embedded dataset.
const builtinPrefix = "builtin:"

//go:embed builtin/*.jsonl
var builtinFS embed.FS

// BuiltinNames returns the names of the embedded datasets, sorted; the
// dataset NAME is read with the path "builtin:NAME".
func BuiltinNames() []string {
	paths, _ := fs.Glob(builtinFS, "builtin/*.jsonl")
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(path.Base(p), ".jsonl"))
	}
	sort.Strings(names)
	return names
}

// builtinBytes returns the bytes of the embedded dataset name.
func builtinBytes(name string) ([]byte, error) {
	if name != "" && !strings.ContainsAny(name, `/\`) {
		if b, err := builtinFS.ReadFile("builtin/" + name + ".jsonl"); err == nil {
			return b, nil
		}
	}
	return nil, &bench.InputError{File: builtinPrefix + name, Msg: "no such built-in dataset; known: " + strings.Join(BuiltinNames(), ", ")}
}

// Checksum returns the SHA-256 of the bytes of the dataset at path, in hex,
// for the run manifest: of the file as stored (a .gz file is hashed
// compressed), of the embedded bytes of a builtin:NAME dataset, or, for an
// hf: path, of the bytes of the split's Parquet shards concatenated in order
// (see HubResolver). A missing file is a *bench.InputError.
func Checksum(path string) (string, error) {
	h := sha256.New()
	if strings.HasPrefix(path, hubPrefix) {
		files, err := hubFiles(path)
		if err != nil {
			return "", err
		}
		for _, p := range files {
			if err := hashFile(h, p); err != nil {
				return "", err
			}
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if name, ok := strings.CutPrefix(path, builtinPrefix); ok {
		b, err := builtinBytes(name)
		if err != nil {
			return "", err
		}
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if err := hashFile(h, path); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile writes the bytes of the file at path to w.
func hashFile(w io.Writer, path string) error {
	f, err := openFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
