package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/parser"
)

// explainOptions are the flags of `culprit explain`.
type explainOptions struct {
	topology  string
	tz        string
	json      bool
	html      string
	logFormat string
	gap       time.Duration
	minReq    int
	lateness  time.Duration
	skew      time.Duration
	bootTime  string
	progress  string
	inputs    []string
}

func runExplain(ctx context.Context, e *env, args []string) error {
	// explain is a batch over files whose live heap is bounded by the open
	// incidents (tens of MB), and at GOGC=100 the collector took a large
	// share of the CPU. On scripts/bench/explain.sh's busy corpus, 300
	// under a 128 MiB soft limit cut CPU by about a fifth for a peak RSS of
	// 120-140 MB instead of 70-85 MB; the limit, not the input, bounds it.
	tuneGC(300, 128<<20)
	fs := newFlagSet(e, "explain")
	var o explainOptions
	fs.StringVar(&o.topology, "topology", "", "YAML `file` naming services (upstreams, hosts, processes, pm2_apps, units, containers)")
	fs.StringVar(&o.tz, "tz", "", "`zone` of log times written without one (e.g. Europe/Paris); default: inferred from the access log")
	fs.BoolVar(&o.json, "json", false, "print {\"incidents\":[...]} (schema: docs/incidents.md)")
	fs.StringVar(&o.html, "html", "", "also write a self-contained HTML report to `file`")
	fs.StringVar(&o.logFormat, "log-format", "", "nginx log_format `string` of the access logs; default: found in nginx *.conf next to the logs, or tried against common formats")
	fs.DurationVar(&o.gap, "gap", 0, "quiet `time` that separates two incidents on one upstream (default 30s)")
	fs.IntVar(&o.minReq, "min-requests", 0, "smallest `number` of 5xx that makes an incident (default 3)")
	fs.DurationVar(&o.lateness, "lateness", 0, "allowed lateness of evidence across files and hosts (default 10s)")
	fs.DurationVar(&o.skew, "skew", 0, "clock difference between hosts tolerated when matching evidence (default 5s)")
	fs.StringVar(&o.bootTime, "boot-time", "", "boot time (RFC 3339) for kernel logs stamped in seconds since boot (/dev/kmsg, raw dmesg)")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (only on a terminal), always, never")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: culprit explain [flags] PATH... (files, directories, rotated .1/.gz; KIND=PATH forces a file's kind)")
		fs.PrintDefaults()
	}
	// Flags may follow the paths (culprit explain logs/ --json).
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		o.inputs = append(o.inputs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(o.inputs) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: explain needs at least one file or directory", errUsage)
	}
	rep, err := explain(ctx, e, o)
	if err != nil {
		return err
	}
	if o.html != "" {
		if err := writeHTMLReport(o.html, rep); err != nil {
			return err
		}
	}
	if o.json {
		return writeJSONReport(e.stdout, rep)
	}
	return writeTextReport(e.stdout, rep)
}

// report is everything explain found, for the three outputs.
type report struct {
	Incidents []analyzer.Incident
	Notes     []string // what was inferred or assumed
	Files     []fileSummary
	Stats     analyzer.Stats
	Lines     int64
	Elapsed   time.Duration
}

type fileSummary struct {
	Path  string
	Kind  string
	Lines int64
}

func explain(ctx context.Context, e *env, o explainOptions) (*report, error) {
	start := time.Now()
	cfg := analyzer.Config{Gap: o.gap, MinRequests: o.minReq, Lateness: o.lateness, Skew: o.skew}
	if o.topology != "" {
		f, err := os.Open(o.topology)
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		topo, err := analyzer.ParseTopology(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("explain: %s: %w", o.topology, err)
		}
		cfg.Topology = topo
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	var boot time.Time
	if o.bootTime != "" {
		t, err := time.Parse(time.RFC3339, o.bootTime)
		if err != nil {
			return nil, fmt.Errorf("%w: --boot-time: %v", errUsage, err)
		}
		boot = t
	}

	var notes []string
	files, formats, groups, err := collectInputs(o.inputs)
	if err != nil {
		return nil, err
	}
	if len(groups) > 0 {
		cfg.Groups = groups
		byName := map[string][]string{}
		for addr, name := range groups {
			byName[name] = append(byName[name], addr)
		}
		for _, name := range slices.Sorted(maps.Keys(byName)) {
			if len(byName[name]) < 2 {
				continue
			}
			slices.Sort(byName[name])
			notes = append(notes, fmt.Sprintf("upstream group %s = %s (from the nginx configuration)", name, strings.Join(byName[name], ", ")))
		}
	}
	if o.logFormat != "" {
		formats = append([]string{o.logFormat}, formats...)
	}
	loc := time.UTC
	zoneKnown := false
	if o.tz != "" {
		l, err := time.LoadLocation(o.tz)
		if err != nil {
			return nil, fmt.Errorf("%w: --tz: %v", errUsage, err)
		}
		loc, zoneKnown = l, true
	}
	if err := sniffAll(files, formats, o.logFormat != ""); err != nil {
		return nil, err
	}
	if !zoneKnown {
		if off, from, ok := accessOffset(files); ok {
			loc = fixedZone(off)
			notes = append(notes, fmt.Sprintf("assumed zone-less times (error log, app logs) are %s: the offset nginx wrote in %s", loc, from))
		} else {
			notes = append(notes, "assumed zone-less times are UTC (no --tz and no access log offset to infer it from)")
		}
	}
	hasAccess := false
	for _, f := range files {
		hasAccess = hasAccess || f.kind == parser.SourceNginxAccess
	}
	if !hasAccess {
		notes = append(notes, "no nginx access log recognised among the inputs, so no 5xx to explain: give the access log, "+
			"with --log-format 'your log_format' (or an nginx *.conf next to it) if it is not in a common format, or force it with nginx_access=PATH")
	}
	for _, f := range files {
		if f.kind == "" {
			notes = append(notes, fmt.Sprintf("skipped %s: %s", f.path, f.why))
		} else if f.upstreamView {
			notes = append(notes, fmt.Sprintf("%s read as an upstream's own log: its request lines (no upstream fields, next to the proxy's access log) are not counted, its other lines are evidence (force nginx_access=PATH to count them)", f.path))
		} else if f.kind == parser.SourceNginxAccess && f.format != "" && !f.forced {
			how := ""
			if f.inferred {
				how = " (inferred from its lines: pass --log-format to override)"
			}
			notes = append(notes, fmt.Sprintf("%s read as nginx access log with log_format %q%s", f.path, abbreviate(f.format, 90), how))
		}
	}

	res, err := correlate(ctx, e, files, cfg, loc, boot, o.progress, o.html != "")
	if err != nil {
		return nil, err
	}
	if !zoneKnown {
		if shift, pairs, ok := res.sampler.Shift(); ok && shift != 0 {
			// The error log was written in another zone than assumed: the
			// same requests are shift apart. Run again in the right one.
			_, cur := time.Now().In(loc).Zone()
			loc = fixedZone(cur - int(shift/time.Second))
			notes = append(notes, fmt.Sprintf("corrected: zone-less times are %s (%d requests in both logs were %v apart)", loc, pairs, -shift))
			res, err = correlate(ctx, e, files, cfg, loc, boot, o.progress, o.html != "")
			if err != nil {
				return nil, err
			}
		}
	}
	notes = append(notes, res.inferred...)
	rep := &report{Incidents: res.incidents, Notes: notes, Stats: res.stats, Lines: res.lines, Elapsed: time.Since(start)}
	for _, f := range files {
		if f.kind != "" {
			rep.Files = append(rep.Files, fileSummary{Path: f.path, Kind: string(f.kind), Lines: f.lines})
		}
	}
	return rep, nil
}

func fixedZone(offsetSec int) *time.Location {
	if offsetSec == 0 {
		return time.UTC
	}
	sign := '+'
	o := offsetSec
	if o < 0 {
		sign, o = '-', -o
	}
	return time.FixedZone(fmt.Sprintf("UTC%c%02d:%02d", sign, o/3600, o%3600/60), offsetSec)
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// jsonReport is the --json contract (docs/incidents.md).
type jsonReport struct {
	Incidents []analyzer.Incident `json:"incidents"`
	Notes     []string            `json:"notes"`
}

func writeJSONReport(w io.Writer, rep *report) error {
	out := jsonReport{Incidents: rep.Incidents, Notes: rep.Notes}
	if out.Incidents == nil {
		out.Incidents = []analyzer.Incident{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("explain: write json: %w", err)
	}
	return nil
}

func writeTextReport(w io.Writer, rep *report) error {
	var b strings.Builder
	if len(rep.Incidents) == 0 {
		fmt.Fprintf(&b, "No 5xx incident in %d lines.\n", rep.Lines)
	}
	for i, in := range rep.Incidents {
		if i > 0 {
			b.WriteString("\n")
		}
		where := in.Upstream
		if where == "" {
			where = "server " + in.Server
		}
		svc := in.Service
		if svc == "" {
			svc = "(service unknown)"
		}
		fmt.Fprintf(&b, "INCIDENT %s  %s  %s\n", in.ID, svc, where)
		fmt.Fprintf(&b, "  window    %s .. %s (%s)\n", in.Start.Format("2006-01-02 15:04:05"), in.End.Format("15:04:05 MST"),
			in.End.Sub(in.Start).Round(time.Second))
		fmt.Fprintf(&b, "  requests  %d  %s", in.Requests, countsText(in.StatusCounts))
		if len(in.ClassCounts) > 0 {
			fmt.Fprintf(&b, "  (%s)", countsText(in.ClassCounts))
		}
		b.WriteString("\n")
		cause := string(in.Cause)
		if in.Dependency != "" {
			cause += " → " + in.Dependency
		}
		fmt.Fprintf(&b, "  cause     %s (confidence %.0f%%)\n", cause, in.Confidence*100)
		fmt.Fprintf(&b, "  why       %s\n", in.Summary)
		for _, c := range in.Contributing {
			fmt.Fprintf(&b, "  also      %s (confidence %.0f%%)\n", c.Cause, c.Confidence*100)
		}
		b.WriteString("  evidence\n")
		for _, l := range in.Evidence {
			fmt.Fprintf(&b, "    %s %s: %s\n", l.TS.Format("15:04:05.000"), l.Source, abbreviate(strings.ReplaceAll(l.Line, "\n", " ⏎ "), 220))
		}
		fmt.Fprintf(&b, "  fix       %s\n", in.Fix)
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\nInferred and assumed:\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countsText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
