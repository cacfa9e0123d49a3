package consume

import (
	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
)

// requestLinks turns the engine's link revisions into request_links rows
// (docs/clickhouse.md). The table's class is the error class nginx logged
// for the request, empty for a 5xx without an error line (the engine's
// pseudo classes app_error, no_response and unlinked). A link with neither
// class nor incident is not written: a request absent from the table reads
// as that, and the engine never takes a class or an incident back.
func requestLinks(links []analyzer.Link, version uint64) []clickhouse.RequestLink {
	out := make([]clickhouse.RequestLink, 0, len(links))
	for _, l := range links {
		cls := string(l.Class)
		switch l.Class {
		case analyzer.ClassAppError, analyzer.ClassNoResponse, analyzer.ClassUnlinked:
			cls = ""
		}
		if cls == "" && l.Incident == "" {
			continue
		}
		out = append(out, clickhouse.RequestLink{Time: l.Time, FileID: l.FileID, Offset: l.Offset, Class: cls,
			IncidentID: l.Incident, Version: version})
	}
	return out
}
