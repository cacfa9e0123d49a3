package analyzer

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/culprit-dev/culprit/parser"
)

// inventory maps events to services: first from the topology, then from what
// the events themselves reveal on a single host (an app that says it listens
// on :4000 serves 127.0.0.1:4000; its PM2 app name, pid and log file belong
// to the same service). Everything inferred is noted for the report.
type inventory struct {
	topo *Topology

	byUpstream  map[string]string
	byApp       map[string]string
	byUnit      map[string]string
	byContainer map[string]string
	byPath      map[string]string
	byPID       map[string]string // host + "/" + pid
	byProcess   map[string]string // learned process name -> service; "" when ambiguous
	pidPath     map[string]string // host + "/" + pid -> the log file that named it

	notes    []string
	noteSeen map[string]bool

	version  int             // bumped when what maps to services changes
	pidOwner map[string]bool // services whose logs named pids, as of pidVer
	pidVer   int
}

func newInventory(t *Topology) *inventory {
	inv := &inventory{
		topo:        t,
		byUpstream:  map[string]string{},
		byApp:       map[string]string{},
		byUnit:      map[string]string{},
		byContainer: map[string]string{},
		byPath:      map[string]string{},
		byPID:       map[string]string{},
		byProcess:   map[string]string{},
		pidPath:     map[string]string{},
		noteSeen:    map[string]bool{},
	}
	if t != nil {
		for _, s := range t.Services {
			for _, u := range s.Upstreams {
				inv.byUpstream[NormalizeUpstream(u)] = s.Name
			}
		}
	}
	return inv
}

func (inv *inventory) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !inv.noteSeen[n] {
		inv.noteSeen[n] = true
		inv.notes = append(inv.notes, n)
	}
}

// pathStem names the service a log file belongs to from its name, the way
// PM2 (api-out.log, api-error.log) and most supervisors name them.
func pathStem(p string) string {
	b := filepath.Base(p)
	for _, suf := range []string{".gz", ".1", ".log", ".txt", ".out", ".err"} {
		b = strings.TrimSuffix(b, suf)
	}
	for _, suf := range []string{"-out", "-error", "-err", "_out", "_error", ".stdout", ".stderr", "-stdout", "-stderr"} {
		b = strings.TrimSuffix(b, suf)
	}
	// PM2 cluster logs: api-out-0.log.
	if i := strings.LastIndexByte(b, '-'); i > 0 {
		if _, err := strconv.Atoi(b[i+1:]); err == nil {
			b = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(b[:i], "-out"), "-error"), "-err")
		}
	}
	return b
}

// topologyService matches an upstream-side event against the topology.
func (inv *inventory) topologyService(ev *parser.Event, host string) string {
	if inv.topo == nil {
		return ""
	}
	hostOnly := ""
	hostCount := 0
	for _, s := range inv.topo.Services {
		if ev.App != "" && contains(s.PM2Apps, ev.App) {
			return s.Name
		}
		if ev.Unit != "" && (contains(s.Units, ev.Unit) || contains(s.Units, strings.TrimSuffix(ev.Unit, ".service"))) {
			return s.Name
		}
		if ev.Unit != "" && contains(s.Units, ev.Unit+".service") {
			return s.Name
		}
		if ev.Container != "" && contains(s.Containers, ev.Container) {
			return s.Name
		}
		for _, p := range s.Processes {
			if processMatches(ev.Process, p) {
				return s.Name
			}
		}
		if up := NormalizeUpstream(ev.Upstream); up != "" && containsUpstream(s.Upstreams, up) {
			return s.Name
		}
		if host != "" && contains(s.Hosts, host) {
			hostOnly = s.Name
			hostCount++
		}
	}
	// A host alone identifies a service only when it runs just one.
	if hostCount == 1 {
		return hostOnly
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsUpstream(list []string, up string) bool {
	for _, x := range list {
		if NormalizeUpstream(x) == up {
			return true
		}
	}
	return false
}

// learn records what an upstream-side event reveals about services.
func (inv *inventory) learn(ev *parser.Event, o Origin) {
	if ev.Kind != parser.KindUpstreamEvent {
		return
	}
	if ev.PID > 0 && ev.Source != parser.SourceKernel && o.Path != "" && len(inv.pidPath) < 100000 {
		k := o.Host + "/" + strconv.Itoa(ev.PID)
		if _, ok := inv.pidPath[k]; !ok {
			inv.pidPath[k] = o.Path
			inv.version++
		}
	}
	svc := inv.service(ev, o)
	listen := NormalizeUpstream(ev.Upstream)
	if svc == "" && listen != "" {
		svc = firstNonEmpty(ev.App, strings.TrimSuffix(ev.Unit, ".service"), ev.Container, pathStem(o.Path), ev.Process)
	}
	if svc == "" {
		return
	}
	if listen != "" {
		if _, ok := inv.byUpstream[listen]; !ok {
			inv.version++
			inv.byUpstream[listen] = svc
			inv.note("service %q serves upstream %s (inferred from %q in %s)", svc, listen, oneLine(ev.Message), o.Path)
		}
	}
	if o.Path != "" {
		if _, ok := inv.byPath[o.Path]; !ok {
			inv.byPath[o.Path] = svc
			inv.version++
		}
	}
	if ev.App != "" {
		setOnce(inv.byApp, ev.App, svc)
	}
	if ev.Unit != "" {
		setOnce(inv.byUnit, ev.Unit, svc)
	}
	if ev.Container != "" {
		setOnce(inv.byContainer, ev.Container, svc)
	}
	if ev.PID > 0 && ev.Source != parser.SourceKernel && len(inv.byPID) < 100000 {
		k := o.Host + "/" + strconv.Itoa(ev.PID)
		if inv.byPID[k] != svc {
			inv.byPID[k] = svc
			inv.version++
		}
	}
	if ev.Process != "" && ev.Source != parser.SourceKernel {
		if prev, ok := inv.byProcess[ev.Process]; !ok {
			inv.byProcess[ev.Process] = svc
		} else if prev != svc {
			inv.byProcess[ev.Process] = "" // two services run the same program: a name alone says nothing
		}
	}
}

func setOnce(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// service names the service of an upstream-side event, "" when unknown.
func (inv *inventory) service(ev *parser.Event, o Origin) string {
	host := firstNonEmpty(ev.Hostname, o.Host)
	if s := inv.topologyService(ev, host); s != "" {
		return s
	}
	if ev.App != "" {
		if s := inv.byApp[ev.App]; s != "" {
			return s
		}
		if inv.isService(ev.App) { // PM2 app "api" and a service inferred from api-out.log
			return ev.App
		}
	}
	if ev.Unit != "" {
		if s := inv.byUnit[ev.Unit]; s != "" {
			return s
		}
	}
	if ev.Container != "" {
		if s := inv.byContainer[ev.Container]; s != "" {
			return s
		}
	}
	if ev.PID > 0 {
		k := o.Host + "/" + strconv.Itoa(ev.PID)
		if s := inv.byPID[k]; s != "" {
			return s
		}
		if p := inv.pidPath[k]; p != "" && p != o.Path {
			if s := inv.pathService(p); s != "" {
				return s
			}
		}
	}
	if s := inv.byPath[o.Path]; s != "" && ev.Source != parser.SourceKernel {
		return s
	}
	if up := NormalizeUpstream(ev.Upstream); up != "" {
		if s := inv.byUpstream[up]; s != "" {
			return s
		}
	}
	if ev.Process != "" {
		if s, ok := inv.byProcess[ev.Process]; ok {
			return s
		}
		for p, s := range inv.byProcess {
			if s != "" && processMatches(ev.Process, p) {
				return s
			}
		}
	}
	if ev.Source != parser.SourceKernel && o.Path != "" {
		return inv.pathService(o.Path)
	}
	return ""
}

// pathService names the service a log file belongs to: the one learned from
// it, or the PM2 app or service it is named after (api-out.log for "api").
func (inv *inventory) pathService(p string) string {
	if s := inv.byPath[p]; s != "" {
		return s
	}
	stem := pathStem(p)
	if s := inv.byApp[stem]; s != "" {
		return s
	}
	if inv.isService(stem) {
		return stem
	}
	return ""
}

func (inv *inventory) isService(name string) bool {
	if inv.topo != nil {
		for _, s := range inv.topo.Services {
			if s.Name == name {
				return true
			}
		}
	}
	for _, s := range inv.byUpstream {
		if s == name {
			return true
		}
	}
	return false
}

// upstreamService names the service behind an upstream key.
func (inv *inventory) upstreamService(up string) string {
	return inv.byUpstream[up]
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// ownsPIDs says whether svc's own logs named any of its pids, so that a
// kernel kill of another pid can be told apart from one of its own.
func (inv *inventory) ownsPIDs(svc string) bool {
	if inv.pidOwner == nil || inv.pidVer != inv.version {
		inv.pidOwner = map[string]bool{}
		for _, s := range inv.byPID {
			inv.pidOwner[s] = true
		}
		for _, p := range inv.pidPath {
			if s := inv.pathService(p); s != "" {
				inv.pidOwner[s] = true
			}
		}
		inv.pidVer = inv.version
	}
	return inv.pidOwner[svc]
}
