// Package dashboards holds culprit's Grafana provisioning: the ClickHouse
// datasource, the dashboards provider and the dashboards themselves as JSON
// (grafana/*.json). They are files for Grafana to read, embedded here so that
// tests, and anything else in culprit that wants them, read exactly what
// Grafana is given.
package dashboards

import "embed"

// DatasourceUID is the uid of the provisioned ClickHouse datasource; every
// panel, variable and annotation refers to it.
const DatasourceUID = "culprit-clickhouse"

// DatasourceType is the official ClickHouse plugin's id.
const DatasourceType = "grafana-clickhouse-datasource"

// FS holds grafana/*.json and provisioning/**.
//
//go:embed grafana/*.json provisioning
var FS embed.FS
