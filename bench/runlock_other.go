//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package bench

import "os"

// lockFile does nothing where flock(2) is not available: run directories
// are not protected from a second process there.
func lockFile(f *os.File) error { return nil }
