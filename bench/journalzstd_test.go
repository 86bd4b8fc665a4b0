package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func zstdEntry(i int) *Entry {
	return &Entry{Kind: EntryTrial, Index: int64(i), Suite: "s", SampleID: fmt.Sprintf("x%05d", i), Model: "m", Attack: "none",
		Epoch: 1, Prompt: "Question: please explain <b>" + fmt.Sprint(i%7) + "</b>\n", Result: &Completion{Text: "an answer", Attempts: 1},
		Scores: []Score{{Judge: "refusal", Metric: "refusal", Value: float64(i % 2), Label: "compliance"}}}
}

func scanIndexes(t *testing.T, path string) []int64 {
	t.Helper()
	var got []int64
	if err := ScanJournal(path, func(_ int64, e *Entry) error {
		got = append(got, e.Index)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// writeFrames journals n entries, one frame per flush of k entries.
func writeFrames(t *testing.T, path string, from, n, k int) {
	t.Helper()
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if err := j.Append(zstdEntry(i)); err != nil {
			t.Fatal(err)
		}
		if (i-from+1)%k == 0 {
			j.Flush()
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestZstdJournalIsOneZstdStreamOfTheLines(t *testing.T) {
	dir := t.TempDir()
	zpath, ppath := filepath.Join(dir, JournalFile), filepath.Join(dir, PlainJournalFile)
	writeFrames(t, zpath, 0, 1000, 100)
	writeFrames(t, ppath, 0, 1000, 100)
	z, _ := os.ReadFile(zpath)
	plain, _ := os.ReadFile(ppath)
	if n := bytes.Count(z, []byte{0x28, 0xb5, 0x2f, 0xfd}); n < 10 {
		t.Errorf("%d zstd frames, want one per flush (10)", n)
	}
	d, _ := zstd.NewReader(nil)
	got, err := d.DecodeAll(z, nil)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("zstd -d of the journal: %d bytes, %v; want the %d bytes of the plain journal", len(got), err, len(plain))
	}
	if len(z)*5 > len(plain) {
		t.Errorf("the zstd journal holds %d bytes, the plain one %d: want a fifth or less", len(z), len(plain))
	}
	if got := scanIndexes(t, zpath); len(got) != 1000 || got[999] != 999 {
		t.Fatalf("scan: %d entries", len(got))
	}
}

func TestZstdJournalDropsATornOrGarbledLastFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(frame []byte) []byte
	}{
		{"cut short", func(f []byte) []byte { return f[:len(f)/2] }},
		{"cut in its header", func(f []byte) []byte { return f[:3] }},
		{"garbled", func(f []byte) []byte {
			g := bytes.Clone(f)
			for i := len(g) / 2; i < len(g)-4; i++ {
				g[i] ^= 0x5a
			}
			return g
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), JournalFile)
			writeFrames(t, path, 0, 30, 10)
			// A process killed while writing its next frame.
			var line []byte
			for i := 30; i < 40; i++ {
				line, _ = appendEntry(line, zstdEntry(i))
				line = append(line, '\n')
			}
			enc, _ := zstd.NewWriter(nil)
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(tc.spoil(enc.EncodeAll(line, nil)))
			f.Close()
			if got := scanIndexes(t, path); len(got) != 30 {
				t.Fatalf("scan of a torn journal: %d entries, want 30", len(got))
			}
			// Reopened (a resume), the torn frame is cut off and the journal
			// goes on.
			writeFrames(t, path, 30, 5, 5)
			if got := scanIndexes(t, path); len(got) != 35 || got[34] != 34 {
				t.Fatalf("after reopening: %v", got)
			}
			z, _ := os.ReadFile(path)
			d, _ := zstd.NewReader(nil)
			if _, err := d.DecodeAll(z, nil); err != nil {
				t.Fatalf("the journal is no zstd stream after the cut: %v", err)
			}
		})
	}
}

func TestZstdJournalNamesACorruptFrameBeforeTheLast(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	writeFrames(t, path, 0, 30, 10)
	z, _ := os.ReadFile(path)
	z[20] ^= 0xff // inside the first frame's compressed blocks
	os.WriteFile(path, z, 0o644)
	err := ScanJournal(path, func(int64, *Entry) error { return nil })
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != path || !strings.Contains(ie.Msg, "corrupt journal frame at byte 0") {
		t.Fatalf("error %v; want an InputError naming the file and the frame", err)
	}
}

func TestJournalPathReadsTheJournalOfEarlierVersions(t *testing.T) {
	dir := t.TempDir()
	if got := JournalPath(dir); got != filepath.Join(dir, JournalFile) {
		t.Errorf("a new run: %s", got)
	}
	writeFrames(t, filepath.Join(dir, PlainJournalFile), 0, 10, 10)
	if got := JournalPath(dir); got != filepath.Join(dir, PlainJournalFile) {
		t.Errorf("a run of an earlier version: %s", got)
	}
	rc, err := WriteResults(dir, "r")
	if err != nil || rc.Trials != 10 || rc.Scores != 10 {
		t.Fatalf("results of a plain journal: %+v, %v", rc, err)
	}
}

func TestCompactJournalRewritesSmallFramesWithTheSameLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	writeFrames(t, path, 0, 2000, 1) // a slow run: one trial a frame
	before, _ := os.ReadFile(path)
	want := scanIndexes(t, path)
	done, err := CompactJournal(dir)
	if err != nil || !done {
		t.Fatalf("compact: %v, %v", done, err)
	}
	after, _ := os.ReadFile(path)
	if len(after)*4 > len(before) {
		t.Errorf("compacted: %d bytes, before %d: want a quarter or less", len(after), len(before))
	}
	got := scanIndexes(t, path)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("the compacted journal holds other entries")
	}
	if done, err := CompactJournal(dir); err != nil || done {
		t.Errorf("a compact journal was rewritten again: %v, %v", done, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// A fast run's frames, of a thousand trials each, are left as they are.
	fast := t.TempDir()
	writeFrames(t, filepath.Join(fast, JournalFile), 0, 3000, 1000)
	if done, err := CompactJournal(fast); err != nil || done {
		t.Errorf("a journal of large frames was rewritten: %v, %v", done, err)
	}
}
