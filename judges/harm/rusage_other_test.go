//go:build !linux

package harm

import "syscall"

// rusageThread falls back to the whole process where there is no
// per-thread usage.
const rusageThread = syscall.RUSAGE_SELF
