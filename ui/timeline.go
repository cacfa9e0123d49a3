package ui

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"time"
)

// timelineSVG draws the incident's 5xx per bucket (a second, or more when
// the window is long) from From to To, the incident's window shaded, and
// the upstream-side events as dashed marks whose tooltip is the line. It is
// plain inline SVG: the page needs no script and no external asset.
func timelineSVG(d *Detail) template.HTML {
	const w, hgt, left, right, bottom, top = 1000.0, 190.0, 40.0, 10.0, 22.0, 34.0
	span := d.To.Sub(d.From).Seconds()
	if span <= 0 {
		span = 1
	}
	plotW, plotH := w-left-right, hgt-bottom-top
	x := func(t time.Time) float64 { return left + plotW*t.Sub(d.From).Seconds()/span }
	// At most ~300 bars.
	step := int64(1)
	for span/float64(step) > 300 {
		step *= 2
	}
	buckets := map[int64]uint64{}
	var peak uint64 = 1
	for _, p := range d.Timeline {
		k := p.T.Unix() / step * step
		buckets[k] += p.N
		peak = max(peak, buckets[k])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %.0f %.0f" role="img" aria-label="5xx per %ds">`, w, hgt, step)
	fmt.Fprintf(&b, `<rect class="window" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>incident %s – %s</title></rect>`,
		x(d.Start), top, max(x(d.End)-x(d.Start), 2), plotH, d.Start.Format("15:04:05"), d.End.Format("15:04:05"))
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, hgt-bottom, w-right, hgt-bottom)
	fmt.Fprintf(&b, `<text x="2" y="%.1f">%d</text><text x="2" y="%.1f">0</text>`, top+8, peak, hgt-bottom)
	barW := max(plotW/span*float64(step)-1, 1)
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := buckets[k]
		t := time.Unix(k, 0).UTC()
		bh := plotH * float64(n) / float64(peak)
		fmt.Fprintf(&b, `<rect class="bar" data-t="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d × 5xx</title></rect>`,
			t.Format(time.RFC3339), x(t), hgt-bottom-bh, barW, bh, t.Format("15:04:05"), n)
	}
	// Labels go on the first of three rows where they do not overlap the
	// previous one; a mark with no room keeps only its tooltip.
	var rowEnd [3]float64
	for _, m := range d.Marks {
		mx := x(m.Time)
		fmt.Fprintf(&b, `<line class="mark" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s %s</title></line>`,
			mx, top-4, mx, hgt-bottom, m.Time.Format("15:04:05.000"), html.EscapeString(abbreviate(m.Line, 300)))
		for r := range rowEnd {
			if rowEnd[r] == 0 || mx+3 > rowEnd[r] {
				fmt.Fprintf(&b, `<text class="mark-label" x="%.1f" y="%.1f">%s</text>`, mx+3, 10+float64(r)*10,
					html.EscapeString(m.Class))
				rowEnd[r] = mx + 3 + 6*float64(len(m.Class)) + 4
				break
			}
		}
	}
	const ticks = 6
	for i := 0; i <= ticks; i++ {
		t := d.From.Add(time.Duration(float64(i) / ticks * span * float64(time.Second)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), hgt-6, t.Format("15:04:05"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
