package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"os"
	"strings"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
)

// The report is one self-contained page: inline CSS and SVG, no script, no
// external asset, so it can be mailed or attached to a ticket.
//
//go:embed report/report.html.tmpl
var reportTemplate string

type htmlIncident struct {
	analyzer.Incident
	Window, Duration  string
	Statuses, Classes []string
	Chart             template.HTML
	Evidence          []htmlLine
	Contributing      []htmlContrib
	Confidence        string
}

type htmlContrib struct {
	Cause      analyzer.Cause
	Confidence string
}

type htmlLine struct {
	TS, Source, Line string
}

type htmlReport struct {
	Overview  template.HTML
	Incidents []htmlIncident
	Notes     []string
	Files     []fileSummary
	Lines     int64
	Generated string
}

func writeHTMLReport(path string, rep *report) error {
	tmpl, err := template.New("report").Parse(reportTemplate)
	if err != nil {
		return fmt.Errorf("explain: html template: %w", err)
	}
	v := htmlReport{Notes: rep.Notes, Files: rep.Files, Lines: rep.Lines,
		Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	for _, in := range rep.Incidents {
		h := htmlIncident{Incident: in,
			Window:     in.Start.Format("2006-01-02 15:04:05") + " – " + in.End.Format("15:04:05 UTC"),
			Duration:   in.End.Sub(in.Start).Round(time.Second).String(),
			Confidence: fmt.Sprintf("%.0f%%", in.Confidence*100),
			Chart:      timelineSVG(in),
		}
		for _, k := range sortedKeys(in.StatusCounts) {
			h.Statuses = append(h.Statuses, fmt.Sprintf("%s × %d", k, in.StatusCounts[k]))
		}
		for _, k := range sortedKeys(in.ClassCounts) {
			h.Classes = append(h.Classes, fmt.Sprintf("%s × %d", k, in.ClassCounts[k]))
		}
		for _, l := range in.Evidence {
			h.Evidence = append(h.Evidence, htmlLine{TS: l.TS.Format("15:04:05.000"), Source: l.Source, Line: l.Line})
		}
		for _, c := range in.Contributing {
			h.Contributing = append(h.Contributing, htmlContrib{Cause: c.Cause, Confidence: fmt.Sprintf("%.0f%%", c.Confidence*100)})
		}
		v.Incidents = append(v.Incidents, h)
	}
	v.Overview = overviewSVG(rep.Incidents)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("explain: html: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// timelineSVG draws 5xx per second over the window, with margins, and the
// upstream-side events as marks with their line as a tooltip.
func timelineSVG(in analyzer.Incident) template.HTML {
	const w, hgt, left, bottom, top = 1000.0, 170.0, 36.0, 22.0, 18.0
	pad := max(in.End.Sub(in.Start)/5, 10*time.Second)
	from := in.Start.Add(-pad).Truncate(time.Second)
	to := in.End.Add(pad)
	for _, m := range in.Marks {
		if m.TS.Before(from) && in.Start.Sub(m.TS) < 3*time.Minute {
			from = m.TS.Add(-2 * time.Second).Truncate(time.Second)
		}
		if m.TS.After(to) && m.TS.Sub(in.End) < 3*time.Minute {
			to = m.TS.Add(2 * time.Second)
		}
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return left + (w-left-8)*t.Sub(from).Seconds()/span }
	peak := 1
	for _, n := range in.Timeline {
		peak = max(peak, n)
	}
	plotH := hgt - bottom - top
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="5xx per second">`, w, hgt)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d0d5dd"/>`, left, hgt-bottom, w-8, hgt-bottom)
	fmt.Fprintf(&b, `<text x="2" y="%.1f">%d/s</text><text x="2" y="%.1f">0</text>`, top+4, peak, hgt-bottom)
	barW := max((w-left-8)/span-1, 1)
	start := in.Start.Truncate(time.Second)
	for i, n := range in.Timeline {
		if n == 0 {
			continue
		}
		t := start.Add(time.Duration(i) * time.Second)
		bh := plotH * float64(n) / float64(peak)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f04438"><title>%s: %d × 5xx</title></rect>`,
			x(t), hgt-bottom-bh, barW, bh, t.Format("15:04:05"), n)
	}
	for i, m := range in.Marks {
		mx := x(m.TS)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#6941c6" stroke-width="2" stroke-dasharray="3 2"><title>%s %s</title></line>`,
			mx, top-6, mx, hgt-bottom, m.TS.Format("15:04:05.000"), html.EscapeString(abbreviate(m.Line, 300)))
		if i < 12 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#6941c6">%s</text>`, mx+3, top-8+float64(i%3)*10, html.EscapeString(string(m.Class)))
		}
	}
	ticks := 6
	for i := 0; i <= ticks; i++ {
		t := from.Add(time.Duration(float64(i) / float64(ticks) * span * float64(time.Second)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), hgt-6, t.Format("15:04:05"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// overviewSVG puts every incident on one time axis, a row per upstream, so
// two upstreams failing in the same minute are seen side by side. Only drawn
// when there are several incidents within a day.
func overviewSVG(incs []analyzer.Incident) template.HTML {
	if len(incs) < 2 {
		return ""
	}
	from, to := incs[0].Start, incs[0].End
	var rows []string
	row := map[string]int{}
	for _, in := range incs {
		if in.Start.Before(from) {
			from = in.Start
		}
		if in.End.After(to) {
			to = in.End
		}
		key := in.Upstream
		if key == "" {
			key = "server " + in.Server
		}
		if _, ok := row[key]; !ok {
			row[key] = len(rows)
			rows = append(rows, key)
		}
	}
	if to.Sub(from) > 24*time.Hour {
		return ""
	}
	pad := max(to.Sub(from)/20, 5*time.Second)
	from, to = from.Add(-pad), to.Add(pad)
	const w, left, rowH, axis = 1000.0, 230.0, 34.0, 20.0
	h := float64(len(rows))*rowH + axis + 6
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return left + (w-left-8)*t.Sub(from).Seconds()/span }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="5xx per second per upstream">`, w, h)
	for i, r := range rows {
		y := float64(i)*rowH + 4
		fmt.Fprintf(&b, `<text x="4" y="%.1f">%s</text><line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e4e7ec"/>`,
			y+rowH/2+3, html.EscapeString(abbreviate(r, 38)), left, y+rowH-2, w-8, y+rowH-2)
	}
	barW := max((w-left-8)/span-0.5, 1)
	for _, in := range incs {
		key := in.Upstream
		if key == "" {
			key = "server " + in.Server
		}
		y := float64(row[key])*rowH + 4
		peak := 1
		for _, n := range in.Timeline {
			peak = max(peak, n)
		}
		start := in.Start.Truncate(time.Second)
		for i, n := range in.Timeline {
			if n == 0 {
				continue
			}
			t := start.Add(time.Duration(i) * time.Second)
			bh := (rowH - 8) * float64(n) / float64(peak)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f04438"><title>%s %s: %d × 5xx</title></rect>`,
				x(t), y+rowH-2-bh, barW, bh, html.EscapeString(key), t.Format("15:04:05"), n)
		}
		for _, m := range in.Marks {
			if m.TS.Before(from) || m.TS.After(to) {
				continue
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#6941c6" stroke-width="2"><title>%s %s</title></line>`,
				x(m.TS), y, x(m.TS), y+rowH-2, m.TS.Format("15:04:05.000"), html.EscapeString(abbreviate(m.Line, 300)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#1d2330">%s</text>`, x(in.Start), y+9, html.EscapeString(string(in.Cause)))
	}
	for i := 0; i <= 6; i++ {
		t := from.Add(time.Duration(float64(i) / 6 * span * float64(time.Second)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), h-4, t.Format("15:04:05"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
