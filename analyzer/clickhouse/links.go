package clickhouse

import (
	"context"
	"time"
)

// TableRequestLinks holds the error class and incident each 5xx request was
// linked to (schemas/0004_request_links.sql); the view requests_linked joins
// it to requests.
const TableRequestLinks = "request_links"

// RequestLink is the link of one request, by its line identity.
type RequestLink struct {
	Time       time.Time // the request's own time: the partition its link revisions share
	FileID     string
	Offset     int64
	Class      string // the linked error line's class, "" if none
	IncidentID string // "" if none
	Version    uint64 // the latest wins
}

var requestLinkColumns = []string{"time", "file_id", "line_offset", "class", "incident_id", "version", "updated_at"}

// WriteRequestLinks stores link revisions; writing one twice is harmless.
func (s *Store) WriteRequestLinks(ctx context.Context, links []RequestLink, now time.Time) error {
	if len(links) == 0 {
		return nil
	}
	n := len(links)
	ts, ids, offs := make([]time.Time, n), make([]string, n), make([]uint64, n)
	cls, incs, vers, upd := make([]string, n), make([]string, n), make([]uint64, n), make([]time.Time, n)
	now = now.UTC().Truncate(time.Second)
	for i, l := range links {
		ts[i], ids[i], offs[i] = l.Time.UTC().Truncate(time.Second), l.FileID, uint64(max(l.Offset, 0))
		cls[i], incs[i], vers[i], upd[i] = l.Class, l.IncidentID, l.Version, now
	}
	return s.insert(ctx, TableRequestLinks, requestLinkColumns, []any{ts, ids, offs, cls, incs, vers, upd}, n)
}
