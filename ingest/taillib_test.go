package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hpcloud "github.com/hpcloud/tail"
	nxadm "github.com/nxadm/tail"
)

// The issue asked for github.com/hpcloud/tail (and its fork nxadm/tail as
// the fallback). Both follow a *path*: on rename they reopen the new file
// at once and never read what the server still writes into the renamed file
// until it reopens its log (nginx: until logrotate's USR1), nor do they
// expose byte offsets to checkpoint. hpcloud/tail#127 and nxadm/tail#74
// report the loss; this test reproduces it and shows that our follower,
// which reads the descriptor it opened until the file stopped growing,
// does not lose a line. See docs/shipper.md.

// renameScenario writes rounds of numbered lines: some into the live file,
// then logrotate renames it and creates a new one, then the server writes
// more into the renamed file (old descriptor) before it reopens.
func renameScenario(t *testing.T, dir string, rounds int) (path string, total int) {
	path = filepath.Join(dir, "access.log")
	w := numbered{stream: "R", pad: "x"}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		for i := 0; i < n; i++ {
			f.Write(w.line())
		}
	}
	for r := 0; r < rounds; r++ {
		write(100)
		time.Sleep(300 * time.Millisecond)
		if err := os.Rename(path, path+"."+itoa(r)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, nil, 0o644)
		time.Sleep(400 * time.Millisecond) // the tailer notices the rotation meanwhile
		write(100)                         // still into the renamed file
		f.Close()
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(100)
	f.Close()
	return path, w.n
}

func TestPathTailers_LoseLinesOnRename(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	type lib struct {
		name  string
		start func(path string) (lines <-chan string, stop func())
	}
	libs := []lib{
		{"hpcloud/tail v1.0.0", func(path string) (<-chan string, func()) {
			tl, err := hpcloud.TailFile(path, hpcloud.Config{Follow: true, ReOpen: true, MustExist: true, Logger: hpcloud.DiscardingLogger})
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan string, 100000)
			go func() {
				for l := range tl.Lines {
					out <- l.Text
				}
			}()
			return out, func() { tl.Stop() }
		}},
		{"nxadm/tail v1.4.11", func(path string) (<-chan string, func()) {
			tl, err := nxadm.TailFile(path, nxadm.Config{Follow: true, ReOpen: true, MustExist: true, Logger: nxadm.DiscardingLogger})
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan string, 100000)
			go func() {
				for l := range tl.Lines {
					out <- l.Text
				}
			}()
			return out, func() { tl.Stop() }
		}},
	}
	const rounds = 2
	for _, l := range libs {
		t.Run(l.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "access.log")
			os.WriteFile(path, nil, 0o644)
			lines, stop := l.start(path)
			defer stop()
			_, total := renameScenario(t, dir, rounds)
			got := map[string]bool{}
			for idle := time.After(time.Second); ; {
				select {
				case s := <-lines:
					got[strings.Fields(s + " ")[1]] = true
					idle = time.After(time.Second)
					continue
				case <-idle:
				}
				break
			}
			lost := total - len(got)
			t.Logf("%s: %d of %d lines lost over %d rotations", l.name, lost, total, rounds)
			if lost == 0 {
				t.Errorf("%s lost no line: if it was fixed, reconsider it (docs/shipper.md)", l.name)
			}
		})
	}
	t.Run("culprit follower", func(t *testing.T) {
		dir := t.TempDir()
		sink := &memSink{}
		cfg := testConfig(dir, filepath.Join(dir, "access.log"))
		// Longer than the server takes to reopen (here 400 ms): that is
		// what rotate_wait (default 5 s) is for.
		cfg.Tail.RotateWait = 2 * time.Second
		os.WriteFile(filepath.Join(dir, "access.log"), nil, 0o644)
		startShipper(t, cfg, sink)
		_, total := renameScenario(t, dir, rounds)
		waitSoft(t, 5*time.Second, "every line", func() bool { return len(sink.snapshot()) >= total })
		checkNumbered(t, sink.snapshot(), map[string]int{"R": total})
	})
}
