-- culprit:requires 20.3
-- Column codecs and data-skipping indexes (generally available from 20.3).
-- Skipped, and retried by every later `culprit migrate`, on older servers.
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} MODIFY COLUMN time DateTime('UTC') CODEC(DoubleDelta, LZ4);
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} MODIFY COLUMN line_offset UInt64 CODEC(Delta, LZ4);
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} MODIFY COLUMN read_time DateTime('UTC') CODEC(DoubleDelta, LZ4);
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} ADD INDEX IF NOT EXISTS idx_request_id request_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE {{.DB}}.{{table "requests"}} {{.OnCluster}} ADD INDEX IF NOT EXISTS idx_incident_id incident_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE {{.DB}}.{{table "proxy_errors"}} {{.OnCluster}} ADD INDEX IF NOT EXISTS idx_incident_id incident_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE {{.DB}}.{{table "upstream_events"}} {{.OnCluster}} ADD INDEX IF NOT EXISTS idx_incident_id incident_id TYPE bloom_filter(0.01) GRANULARITY 4;
