package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrNotFound is returned for an incident id that is not stored.
var ErrNotFound = errors.New("incident not found")

// Incident is the latest revision of one incident row.
type Incident struct {
	ID, Service, Upstream, Server string
	State, Cause, Dependency      string
	Confidence                    float64
	Start, End                    time.Time
	Requests                      uint64
	Statuses, Classes             []Count
	Contributing                  []Contributing
	Summary, Fix                  string
	Version                       uint64
}

// Count is a value and how often it occurred.
type Count struct {
	Key string
	N   uint64
}

// Contributing is a secondary cause.
type Contributing struct {
	Cause      string
	Confidence float64
}

// Line is an evidence line, or an upstream-side event drawn on the timeline.
type Line struct {
	Time                time.Time
	Class, Host, Source string
	Line                string
}

// Point is the number of 5xx of one status in one second.
type Point struct {
	T      time.Time
	Status uint16
	N      uint64
}

// Detail is an incident with what its page shows.
type Detail struct {
	Incident
	Evidence []Line
	Marks    []Line
	Timeline []Point
	// From and To bound the timeline: the incident with margins wide
	// enough to show what happened before and after.
	From, To time.Time
}

// Filter narrows the incident list; empty fields match everything.
type Filter struct {
	Service, Cause string
	Limit          int
}

// Reader is what the UI needs from storage.
type Reader interface {
	Incidents(ctx context.Context, f Filter) ([]Incident, error)
	Incident(ctx context.Context, id string) (*Detail, error)
	// Facets lists the services and causes the filters offer.
	Facets(ctx context.Context) (services, causes []string, err error)
}

// ClickHouse reads the tables `culprit migrate` creates. It only runs
// SELECTs: give it a read-only user.
type ClickHouse struct {
	Conn     driver.Conn
	Database string
}

var _ Reader = (*ClickHouse)(nil)

// Margins around an incident on its timeline, and how far upstream-side
// events are looked for (the correlator considers events from 2 minutes
// before a start to 60 s after an end).
const (
	marginBefore = 2 * time.Minute
	marginAfter  = time.Minute
	maxMarks     = 60
)

const incidentCols = `incident_id, service, upstream, server, state, cause, dependency, confidence, start_time, start_ms,
	end_time, end_ms, requests_affected, statuses, status_counts, classes, class_counts, contributing,
	contributing_confidence, summary, fix, version`

func scanIncident(rows driver.Rows) (Incident, error) {
	var in Incident
	var conf float32
	var startMS, endMS uint16
	var statuses []uint16
	var statusCounts, classCounts []uint64
	var classes, contrib []string
	var contribConf []float32
	if err := rows.Scan(&in.ID, &in.Service, &in.Upstream, &in.Server, &in.State, &in.Cause, &in.Dependency, &conf,
		&in.Start, &startMS, &in.End, &endMS, &in.Requests, &statuses, &statusCounts, &classes, &classCounts,
		&contrib, &contribConf, &in.Summary, &in.Fix, &in.Version); err != nil {
		return in, err
	}
	in.Confidence = float64(conf)
	in.Start = in.Start.UTC().Add(time.Duration(startMS) * time.Millisecond)
	in.End = in.End.UTC().Add(time.Duration(endMS) * time.Millisecond)
	for i, s := range statuses {
		if i < len(statusCounts) {
			in.Statuses = append(in.Statuses, Count{fmt.Sprint(s), statusCounts[i]})
		}
	}
	for i, c := range classes {
		if i < len(classCounts) {
			in.Classes = append(in.Classes, Count{c, classCounts[i]})
		}
	}
	sort.SliceStable(in.Classes, func(i, j int) bool { return in.Classes[i].N > in.Classes[j].N })
	for i, c := range contrib {
		if i < len(contribConf) {
			in.Contributing = append(in.Contributing, Contributing{c, float64(contribConf[i])})
		}
	}
	return in, nil
}

// Incidents lists the latest revision of incidents, newest first. An id a
// merge ended (state 'merged') is not an incident any more: the one it was
// merged into holds its requests.
func (c *ClickHouse) Incidents(ctx context.Context, f Filter) ([]Incident, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	q := fmt.Sprintf(`SELECT %s FROM %s.incidents FINAL
		WHERE state != 'merged' AND (? = '' OR service = ?) AND (? = '' OR cause = ?)
		ORDER BY start_time DESC, start_ms DESC, incident_id
		LIMIT %d`, incidentCols, c.Database, f.Limit)
	rows, err := c.Conn.Query(ctx, q, f.Service, f.Service, f.Cause, f.Cause)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// Incident reads one incident, its evidence, its 5xx per second and the
// upstream-side events of its service around it. The id of an incident a
// merge ended (an old link, a notification) reads as the incident it was
// merged into.
func (c *ClickHouse) Incident(ctx context.Context, id string) (*Detail, error) {
	rows, err := c.Conn.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s.incidents FINAL WHERE incident_id IN
		(SELECT if(merged_into != '', merged_into, incident_id) FROM %s.incidents FINAL WHERE incident_id = ?)`,
		incidentCols, c.Database, c.Database), id)
	if err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	var d Detail
	found := false
	for rows.Next() {
		if d.Incident, err = scanIncident(rows); err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident %s: %w", id, err)
		}
		found = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	if !found {
		return nil, ErrNotFound
	}
	// Events are looked for as far as the correlator looks; the chart is
	// narrowed to what was found afterwards.
	d.From = d.Start.Add(-marginBefore).Truncate(time.Second)
	d.To = d.End.Add(marginAfter).Truncate(time.Second).Add(time.Second)

	// The evidence of this revision: older revisions' rows are history.
	ev, err := c.lines(ctx, fmt.Sprintf(`SELECT time, time_ms, class, hostname, source, line, role
		FROM %s.incident_evidence FINAL
		WHERE incident_id = ? AND version = ? ORDER BY seq`, c.Database), d.ID, d.Version)
	if err != nil {
		return nil, fmt.Errorf("incident %s evidence: %w", id, err)
	}
	for _, l := range ev {
		if l.role == "mark" {
			d.Marks = append(d.Marks, l.Line)
		} else {
			d.Evidence = append(d.Evidence, l.Line)
		}
	}

	// The 5xx nginx logged for it: on its upstream, or with no upstream
	// address when nginx answered by itself (a rate limit, a name it could
	// not resolve: such an upstream has no port).
	var noAddr uint8
	if d.Upstream == "" || !hasPort(d.Upstream) {
		noAddr = 1
	}
	trows, err := c.Conn.Query(ctx, fmt.Sprintf(`SELECT time, status, count()
		FROM %s.requests FINAL
		WHERE time >= ? AND time <= ? AND status >= 500 AND status < 600
		  AND (upstream = ? OR (? = 1 AND upstream = '' AND (? = '' OR server_name = '' OR server_name = ?)))
		GROUP BY time, status ORDER BY time, status`, c.Database),
		d.From, d.To, d.Upstream, noAddr, d.Server, d.Server)
	if err != nil {
		return nil, fmt.Errorf("incident %s timeline: %w", id, err)
	}
	for trows.Next() {
		var p Point
		if err := trows.Scan(&p.T, &p.Status, &p.N); err != nil {
			trows.Close()
			return nil, fmt.Errorf("incident %s timeline: %w", id, err)
		}
		p.T = p.T.UTC()
		d.Timeline = append(d.Timeline, p)
	}
	trows.Close()
	if err := trows.Err(); err != nil {
		return nil, fmt.Errorf("incident %s timeline: %w", id, err)
	}

	// Upstream-side events of its service, when the correlator's own
	// marks were not stored with it.
	if len(d.Marks) == 0 && d.Service != "" {
		ms, err := c.lines(ctx, fmt.Sprintf(`SELECT time, time_ms, class, hostname, source, message, ''
			FROM %s.upstream_events FINAL
			WHERE service = ? AND time >= ? AND time <= ? AND class != 'other'
			ORDER BY time, time_ms LIMIT %d`, c.Database, maxMarks), d.Service, d.From, d.To)
		if err != nil {
			return nil, fmt.Errorf("incident %s events: %w", id, err)
		}
		for _, l := range ms {
			d.Marks = append(d.Marks, l.Line)
		}
	}
	d.narrow()
	return &d, nil
}

// narrow sets the chart's range: the incident with a margin of a third of
// its length (15 s at least), widened to show the upstream-side events.
func (d *Detail) narrow() {
	pad := max(d.End.Sub(d.Start)/3, 15*time.Second)
	from, to := d.Start.Add(-pad), d.End.Add(pad)
	for _, m := range d.Marks {
		if m.Time.Before(from) {
			from = m.Time.Add(-3 * time.Second)
		}
		if m.Time.After(to) {
			to = m.Time.Add(3 * time.Second)
		}
	}
	d.From, d.To = from.Truncate(time.Second), to.Truncate(time.Second).Add(time.Second)
	kept := d.Timeline[:0]
	for _, p := range d.Timeline {
		if !p.T.Before(d.From) && p.T.Before(d.To) {
			kept = append(kept, p)
		}
	}
	d.Timeline = kept
}

type roleLine struct {
	Line
	role string
}

func (c *ClickHouse) lines(ctx context.Context, q string, args ...any) ([]roleLine, error) {
	rows, err := c.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roleLine
	for rows.Next() {
		var l roleLine
		var ms uint16
		if err := rows.Scan(&l.Time, &ms, &l.Class, &l.Host, &l.Source, &l.Line.Line, &l.role); err != nil {
			return nil, err
		}
		l.Time = l.Time.UTC().Add(time.Duration(ms) * time.Millisecond)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Facets lists the services and causes of stored incidents.
func (c *ClickHouse) Facets(ctx context.Context) (services, causes []string, err error) {
	for _, f := range []struct {
		col string
		dst *[]string
	}{{"service", &services}, {"cause", &causes}} {
		rows, err := c.Conn.Query(ctx, fmt.Sprintf(`SELECT DISTINCT %s FROM %s.incidents WHERE %s != '' ORDER BY %s`,
			f.col, c.Database, f.col, f.col))
		if err != nil {
			return nil, nil, fmt.Errorf("list %ss: %w", f.col, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("list %ss: %w", f.col, err)
			}
			*f.dst = append(*f.dst, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("list %ss: %w", f.col, err)
		}
	}
	return services, causes, nil
}

// hasPort tells an address (host:port, unix:/path) from a name nginx could
// not resolve or an upstream{} group.
func hasPort(up string) bool {
	if len(up) > 5 && up[:5] == "unix:" {
		return true
	}
	for i := len(up) - 1; i >= 0; i-- {
		if up[i] == ':' {
			return i < len(up)-1
		}
		if up[i] < '0' || up[i] > '9' {
			return false
		}
	}
	return false
}
