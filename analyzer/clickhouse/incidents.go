package clickhouse

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
)

var incidentColumns = []string{"incident_id", "version", "service", "upstream", "server", "state", "cause", "confidence",
	"dependency", "start_time", "start_ms", "end_time", "end_ms", "requests_affected", "statuses", "status_counts",
	"classes", "class_counts", "contributing", "contributing_confidence", "summary", "fix", "updated_at", "merged_into"}

// Values of incidents.state. A merged row is the last revision of an id
// that a merge ended (merged_into names the incident that holds its
// requests now): readers skip it, `WHERE state != 'merged'`.
const (
	StateOpen   = "open"
	StateClosed = "closed"
	StateMerged = "merged"
)

var evidenceColumns = []string{"incident_id", "version", "seq", "role", "class", "time", "time_ms", "hostname", "source", "line"}

// WriteIncidents upserts incident revisions and their evidence: each row
// carries the revision's version, so a later revision replaces it in
// FINAL queries and writing the same revision twice is harmless. The end of
// a merged id (analyzer.Incident.MergedInto) is written as its last
// revision, state 'merged', so it stops showing as a live incident.
func (s *Store) WriteIncidents(ctx context.Context, incs []analyzer.Incident, now time.Time) error {
	if len(incs) == 0 {
		return nil
	}
	ic := make([][]any, len(incidentColumns))
	var ec [10][]any
	now = now.UTC().Truncate(time.Second)
	for i := range incs {
		in := &incs[i]
		state := StateClosed
		switch {
		case in.MergedInto != "":
			state = StateMerged
		case in.Open:
			state = StateOpen
		}
		statuses, statusCounts := sortedCounts(in.StatusCounts, true)
		classes, classCounts := sortedCounts(in.ClassCounts, false)
		var contrib []string
		var contribConf []float32
		for _, c := range in.Contributing {
			contrib = append(contrib, string(c.Cause))
			contribConf = append(contribConf, float32(c.Confidence))
		}
		st := make([]uint16, len(statuses))
		for j, code := range statuses {
			n, _ := strconv.Atoi(code)
			st[j] = clampU16(n)
		}
		start, end := in.Start.UTC(), in.End.UTC()
		row := []any{in.ID, uint64(in.Version), in.Service, in.Upstream, in.Server, state, string(in.Cause),
			float32(in.Confidence), in.Dependency, start.Truncate(time.Second), msOf(start), end.Truncate(time.Second),
			msOf(end), uint64(max(in.Requests, 0)), st, statusCounts, classes, classCounts, nonNil(contrib),
			nonNil(contribConf), in.Summary, in.Fix, now, in.MergedInto}
		for j, v := range row {
			ic[j] = append(ic[j], v)
		}
		seq := 0
		// A fixed order: seq must be the same when a revision is written again.
		for _, part := range []struct {
			role  string
			lines []analyzer.EvidenceLine
		}{{"evidence", in.Evidence}, {"mark", in.Marks}} {
			role := part.role
			for _, l := range part.lines {
				t := l.TS.UTC()
				erow := []any{in.ID, uint64(in.Version), uint16(min(seq, 65535)), role, string(l.Class),
					t.Truncate(time.Second), msOf(t), l.Host, l.Source, l.Line}
				for j, v := range erow {
					ec[j] = append(ec[j], v)
				}
				seq++
			}
		}
	}
	// Evidence first: an incident row never points at evidence that is not
	// stored yet.
	if len(ec[0]) > 0 {
		if err := s.insertRows(ctx, TableIncidentEvidence, evidenceColumns, ec[:]); err != nil {
			return err
		}
	}
	return s.insertRows(ctx, TableIncidents, incidentColumns, ic)
}

// insertRows appends row-wise values, column by column; incidents are few.
func (s *Store) insertRows(ctx context.Context, table string, names []string, cols [][]any) error {
	typed := make([]any, len(cols))
	for i, c := range cols {
		typed[i] = typedColumn(c)
	}
	return s.insert(ctx, table, names, typed, len(cols[0]))
}

// typedColumn turns []any holding one type into that type's slice, which is
// what the driver's columnar Append takes.
func typedColumn(c []any) any {
	if len(c) == 0 {
		return c
	}
	switch c[0].(type) {
	case string:
		return conv[string](c)
	case uint64:
		return conv[uint64](c)
	case uint16:
		return conv[uint16](c)
	case float32:
		return conv[float32](c)
	case time.Time:
		return conv[time.Time](c)
	case []uint16:
		return conv[[]uint16](c)
	case []uint64:
		return conv[[]uint64](c)
	case []string:
		return conv[[]string](c)
	case []float32:
		return conv[[]float32](c)
	}
	return c
}

func conv[T any](c []any) []T {
	out := make([]T, len(c))
	for i, v := range c {
		out[i] = v.(T)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func msOf(t time.Time) uint16 { return uint16(t.Nanosecond() / int(time.Millisecond)) }

// sortedCounts flattens a count map into parallel arrays, keys sorted
// (numerically for status codes) so equal revisions give equal rows.
func sortedCounts(m map[string]int, numeric bool) ([]string, []uint64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if numeric {
			a, _ := strconv.Atoi(keys[i])
			b, _ := strconv.Atoi(keys[j])
			if a != b {
				return a < b
			}
		}
		return keys[i] < keys[j]
	})
	counts := make([]uint64, len(keys))
	for i, k := range keys {
		counts[i] = uint64(max(m[k], 0))
	}
	return keys, counts
}
