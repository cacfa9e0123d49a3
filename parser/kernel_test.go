package parser

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

type oomSeen struct {
	class   Class
	pid     int
	process string
	ts      time.Time
	memKB   int64
}

// parseFile parses every line of path (source auto) and returns the events
// that are not "other", failing on any line that is unparsed or not kernel.
func parseKernelFile(t *testing.T, p *Parser, path string) (events []oomSeen, lines int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var ev Event
	for sc.Scan() {
		lines++
		p.Parse(sc.Bytes(), &ev)
		if ev.Kind != KindUpstreamEvent || ev.Source != SourceKernel {
			t.Errorf("%s:%d: kind %s source %s (%s): %s", path, lines, ev.Kind, ev.Source, ev.Reason, sc.Text())
			continue
		}
		if ev.Time.IsZero() {
			t.Errorf("%s:%d: no time: %s", path, lines, sc.Text())
		}
		if ev.Class != ClassOther {
			events = append(events, oomSeen{ev.Class, ev.PID, strings.Clone(ev.Process), ev.Time, ev.MemoryKB})
		}
	}
	return events, lines
}

// TestKernel_RealOOMCaptures checks the three forms of the same real kills
// (scripts/reallogs/oom/run.sh) against the ground truth the script recorded,
// and against each other: the boot-relative forms, anchored on the recorded
// btime, must give the same instants as dmesg's ISO form.
func TestKernel_RealOOMCaptures(t *testing.T) {
	dir := "testdata/kernel/real/"
	btimeRaw, err := os.ReadFile(dir + "btime.txt")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := bootTimeFromStat(strings.NewReader(string(btimeRaw)))
	if err != nil {
		t.Fatal(err)
	}
	truthRaw, err := os.ReadFile(dir + "truth.txt")
	if err != nil {
		t.Fatal(err)
	}
	// truth.txt: "python pid=16233 comm='py worker (api)' ..." per victim.
	re := regexp.MustCompile(`pid=(\d+) (?:comm|title)='([^']*)'`)
	type victim struct {
		pid  int
		comm string
	}
	var truth []victim
	for _, m := range re.FindAllStringSubmatch(string(truthRaw), -1) {
		pid, _ := strconv.Atoi(m[1])
		comm := m[2]
		if len(comm) > 15 { // the kernel keeps 15 bytes of a task name
			comm = comm[:15]
		}
		truth = append(truth, victim{pid, comm})
	}
	if len(truth) != 3 {
		t.Fatalf("truth.txt names %d victims, want 3", len(truth))
	}

	p, err := New(Options{BootTime: boot, Now: func() time.Time { return casesNow }})
	if err != nil {
		t.Fatal(err)
	}
	var forms [][]oomSeen
	names := []string{"kmsg.log", "dmesg.log", "dmesg-iso.log", "dmesg-r.log", "dmesg-x.log", "dmesg-T.log"}
	for _, name := range names {
		evs, lines := parseKernelFile(t, p, dir+name)
		if lines < 3*70 {
			t.Errorf("%s: %d lines, a kill writes about 80", name, lines)
		}
		// Per kill: one oom_invoked and two oom_kill (summary + Killed process).
		if len(evs) != 3*len(truth) {
			t.Fatalf("%s: %d OOM events, want %d: %+v", name, len(evs), 3*len(truth), evs)
		}
		for i, v := range truth {
			inv, sum, kill := evs[3*i], evs[3*i+1], evs[3*i+2]
			if inv.class != ClassOOMInvoked || inv.process != v.comm {
				t.Errorf("%s kill %d: invoked = %+v, want process %q", name, i, inv, v.comm)
			}
			for _, e := range []oomSeen{sum, kill} {
				if e.class != ClassOOMKill || e.pid != v.pid || e.process != v.comm {
					t.Errorf("%s kill %d: %+v, want oom_kill pid %d process %q", name, i, e, v.pid, v.comm)
				}
			}
			if kill.memKB < 60000 || kill.memKB > 65536 {
				t.Errorf("%s kill %d: anon-rss %d kB, the cgroup limit was 65536 kB", name, i, kill.memKB)
			}
		}
		forms = append(forms, evs)
	}
	for i := range forms[0] {
		for f := 1; f < len(forms); f++ {
			want := forms[0][i].ts
			if names[f] == "dmesg-T.log" {
				want = want.Truncate(time.Second) // dmesg -T prints whole seconds
			}
			if !forms[f][i].ts.Equal(want) {
				t.Errorf("event %d: %s at %s, kmsg at %s", i, names[f], forms[f][i].ts, want)
			}
		}
	}
}

func TestKernel_NoBootTimeKeepsOrder(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var a, b Event
	p.Parse([]byte("[  785.907753] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"), &a)
	p.Parse([]byte("6,577,785908294,-;oom-kill:constraint=CONSTRAINT_MEMCG,task=x,pid=1,uid=0"), &b)
	if !a.Time.Equal(time.Unix(785, 907753000)) || !b.Time.After(a.Time) {
		t.Errorf("boot-relative times without a boot time: %s, %s", a.Time, b.Time)
	}
}

func FuzzKernel(f *testing.F) {
	for _, s := range []string{
		"4,499,785907753,-;py worker (api) invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
		"[  787.233768] Memory cgroup out of memory: Killed process 16293 (node /srv/app.j) total-vm:1kB, anon-rss:6kB",
		"oom-kill:constraint=CONSTRAINT_MEMCG,task_memcg=/docker/abc,task=a,pid=1,uid=0",
		"Killed process 11726, UID 498, (mysqld) total-vm:7823732kB",
		"[Mon Dec  8 17:51:31 2025] x",
		"Task in /kubepods/x killed as a result of limit of /y",
		"a[1]: segfault at 0",
		"[",
		"Killed process 1 (",
		"oom-kill:,pid=,task=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{Source: SourceKernel, BootTime: casesBoot})
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		p.Parse([]byte(s), &ev)
		if ev.Kind != KindUpstreamEvent && ev.Kind != KindUnparsed {
			t.Fatalf("kind %q", ev.Kind)
		}
		if ev.Kind == KindUnparsed && ev.Reason == "" {
			t.Fatal("unparsed without a reason")
		}
	})
}

var benchEvent Event

// BenchmarkKernel parses the real capture in each form (source auto, so
// unwrap and detect are included).
func BenchmarkKernel(b *testing.B) {
	for _, name := range []string{"kmsg.log", "dmesg.log", "dmesg-iso.log"} {
		raw, err := os.ReadFile("testdata/kernel/real/" + name)
		if err != nil {
			b.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		bl := make([][]byte, len(lines))
		for i, l := range lines {
			bl[i] = []byte(l)
		}
		b.Run(name, func(b *testing.B) {
			p, err := New(Options{BootTime: casesBoot})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)) / int64(len(lines)))
			for i := range b.N {
				p.Parse(bl[i%len(bl)], &benchEvent)
			}
		})
	}
}
