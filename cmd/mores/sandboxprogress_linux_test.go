package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal: the master end, and the slave end as
// the terminal a program writes to.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestSandboxProgressBar checks that `mores sandbox` draws a progress bar
// of the back-scatters on stderr when stderr is a terminal, and none when
// it is not.
func TestSandboxProgressBar(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	var term bytes.Buffer
	drained := make(chan struct{})
	go func() { io.Copy(&term, master); close(drained) }()
	vars := map[string]string{"MORES_CACHE_DIR": t.TempDir(), "HOME": t.TempDir()}
	env := func(k string) string { return vars[k] }
	var out bytes.Buffer
	args := []string{"sandbox", "--size", "4", "--rounds", "2", "--out", t.TempDir(), "--no-cache"}
	if err := run(context.Background(), args, strings.NewReader(""), &out, slave, env); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	<-drained
	if got := term.String(); !strings.Contains(got, "back-scatters") || !strings.Contains(got, "/64") {
		t.Errorf("no progress bar of 64 back-scatters on the terminal:\n%q", got)
	}

	var errb bytes.Buffer
	out.Reset()
	if err := run(context.Background(), args, strings.NewReader(""), &out, &errb, env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "back-scatters") {
		t.Errorf("a progress bar on a stderr that is no terminal:\n%q", errb.String())
	}
}
