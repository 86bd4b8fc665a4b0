package bench

import (
	"errors"
	"testing"
)

// TestLockRunDirExcludesASecondHolder checks that a run directory held by
// one open lock cannot be taken by another (flock locks belong to an open
// file, so this holds within one process too) and is free once unlocked.
func TestLockRunDirExcludesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := LockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockRunDir(dir)
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != dir {
		t.Fatalf("second lock: %v, want an *InputError naming %s", err, dir)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockRunDir(dir)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
	if _, err := LockRunDir(dir + "/missing"); err == nil {
		t.Error("locking a missing directory succeeded")
	}
}
