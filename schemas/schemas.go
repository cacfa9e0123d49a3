// Package schemas holds culprit's ClickHouse migrations: numbered .sql files
// (Go text/template, rendered by analyzer/clickhouse for one node or a cluster)
// embedded in the binary so that `culprit migrate` needs nothing on disk.
package schemas

import "embed"

// FS holds the migrations, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
