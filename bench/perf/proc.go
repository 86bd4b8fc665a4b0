package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// procSpec is a subprocess to run.
type procSpec struct {
	Path string
	Args []string
	// Env is added to this process's environment.
	Env []string
	Dir string
}

// procResult is what a finished subprocess took.
type procResult struct {
	Wall time.Duration
	// PeakRSS is the peak resident set size in bytes (getrusage's ru_maxrss
	// of the waited-for child, the kernel's high-water mark of its RSS).
	PeakRSS int64
	User    time.Duration
	Sys     time.Duration
	Stdout  []byte
	// Start and End are when the process was started and when it exited.
	Start, End time.Time
}

// runProc runs a subprocess to completion and measures its wall time and
// peak RSS. A non-zero exit is an error quoting the end of its stderr.
func runProc(p procSpec) (procResult, error) {
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Dir = p.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	end := time.Now()
	r := procResult{Wall: end.Sub(start), Start: start, End: end}
	r.Stdout = stdout.Bytes()
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
		r.User, r.Sys = ps.UserTime(), ps.SystemTime()
	}
	if err != nil {
		tail := stderr.String()
		if len(tail) > 2000 {
			tail = "…" + tail[len(tail)-2000:]
		}
		return r, fmt.Errorf("%s %s: %w\n%s", p.Path, strings.Join(p.Args, " "), err, tail)
	}
	return r, nil
}
