// Package atomicfile writes a file so that readers see either its old
// content or its whole new content, never a part: the content goes to a
// temporary file beside the target (named "." + the target's base name +
// ".*", so that a directory's stale temporaries can be globbed), which is
// closed, given its mode and renamed over the target. On any error the
// temporary file is removed and the target is left as it was.
//
// It imports only the standard library, so that any package of Mores may
// use it.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes path atomically with fill's output and mode perm (not
// masked by the umask, unlike os.WriteFile). An error of fill, of the
// writes or of the rename is returned as it is.
func WriteFile(path string, perm os.FileMode, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Write writes data to path atomically with mode perm.
func Write(path string, perm os.FileMode, data []byte) error {
	return WriteFile(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
