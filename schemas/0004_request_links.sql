-- Which error class and incident each 5xx request was linked to.
-- requests rows are inserted by the parse stage before the correlator has
-- seen them, and 18.16 cannot update them in place (ALTER UPDATE came in
-- 18.12 as a heavy, asynchronous mutation: not something to run per
-- incident revision). So the correlator writes the link here, keyed by the
-- request's line identity, and readers join it (the view requests_linked).
-- A link is revised with the incident: ReplacingMergeTree(version) keeps the
-- latest; time is the request's own time, so every revision of one line's
-- link lands in the same partition and replaces the others.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "request_links"}} {{.OnCluster}}
(
    time        DateTime('UTC'),
    file_id     String,
    line_offset UInt64,
    class       LowCardinality(String),
    incident_id String,
    version     UInt64,
    updated_at  DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "request_links" "version"}}
PARTITION BY toDate(time)
ORDER BY (file_id, line_offset)
SETTINGS index_granularity = 8192;

{{distributed "request_links" "cityHash64(file_id, line_offset)"}}

-- requests with their link: class and incident_id come from request_links
-- (latest version per line), '' when the request was not linked. Works on
-- 18.16 (ANY LEFT JOIN on a subquery, argMax) and current servers. Filter
-- on time and upstream outside the view; ClickHouse pushes them down into
-- the requests side. Under --cluster it reads the Distributed tables (the
-- public names), so it sees every shard.
CREATE VIEW IF NOT EXISTS {{.DB}}.requests_linked {{.OnCluster}}
AS SELECT
    time, time_ms, service, hostname, source, server_name, upstream, status, client, method, uri, protocol,
    body_bytes, referer, user_agent, request_time, upstream_addr, upstream_status, upstream_connect_time,
    upstream_header_time, upstream_response_time, request_id, cid,
    link_class AS class, link_incident_id AS incident_id,
    path, file_id, line_offset, read_time
FROM {{.DB}}.requests FINAL
ANY LEFT JOIN
(
    SELECT file_id, line_offset, argMax(class, version) AS link_class, argMax(incident_id, version) AS link_incident_id
    FROM {{.DB}}.request_links
    GROUP BY file_id, line_offset
) AS links USING (file_id, line_offset);
