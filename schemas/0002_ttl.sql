-- culprit:requires 19.6
-- Retention (TTL arrived in ClickHouse 19.6). Skipped, and retried by every
-- later `culprit migrate`, while the server is older. Nothing may depend on
-- a gated migration: it only adds what the server can do.
{{if .TTLDays}}
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} MODIFY TTL time + INTERVAL {{.TTLDays}} DAY;
ALTER TABLE {{.DB}}.{{table "proxy_errors"}} {{.OnCluster}} MODIFY TTL time + INTERVAL {{.TTLDays}} DAY;
ALTER TABLE {{.DB}}.{{table "upstream_events"}} {{.OnCluster}} MODIFY TTL time + INTERVAL {{.TTLDays}} DAY;
ALTER TABLE {{.DB}}.{{table "unparsed"}} {{.OnCluster}} MODIFY TTL time + INTERVAL {{.TTLDays}} DAY;
ALTER TABLE {{.DB}}.{{table "requests_5xx_per_minute"}} {{.OnCluster}} MODIFY TTL minute + INTERVAL {{.TTLDays}} DAY;
{{end}}
