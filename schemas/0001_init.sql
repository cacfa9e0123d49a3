-- culprit schema v1: the event tables, incidents and the 5xx rollup.
-- Rendered as a Go text/template by `culprit migrate` (analyzer/clickhouse):
-- "table" names the table that stores rows (x, or x_local under --cluster),
-- "engine" picks the plain or the Replicated engine, and "distributed" adds
-- the Distributed table through which a cluster is written and read.
--
-- Dedup: every event row carries the identity of its source line
-- (file_id, line_offset) as the last columns of its ORDER BY, and every other
-- column of the key and the partition is a function of the line, so a
-- re-delivered line lands in the same part range and ReplacingMergeTree keeps
-- one copy; `FINAL` hides duplicates that are not merged yet.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "requests"}} {{.OnCluster}}
(
    time                   DateTime('UTC'),
    time_ms                UInt16,
    service                LowCardinality(String),
    hostname               LowCardinality(String),
    source                 LowCardinality(String),
    server_name            LowCardinality(String),
    upstream               LowCardinality(String),
    status                 UInt16,
    client                 String,
    method                 LowCardinality(String),
    uri                    String,
    protocol               LowCardinality(String),
    body_bytes             Int64,
    referer                String,
    user_agent             String,
    request_time           Float64,
    upstream_addr          Array(String),
    upstream_status        Array(UInt16),
    upstream_connect_time  Array(Float64),
    upstream_header_time   Array(Float64),
    upstream_response_time Array(Float64),
    request_id             String,
    cid                    Int64,
    class                  LowCardinality(String),
    incident_id            String,
    path                   String,
    file_id                String,
    line_offset            UInt64,
    read_time              DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "requests"}}
PARTITION BY toDate(time)
ORDER BY (service, upstream, time, status, file_id, line_offset)
SETTINGS index_granularity = 8192;

{{distributed "requests" "cityHash64(file_id, line_offset)"}}

CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "proxy_errors"}} {{.OnCluster}}
(
    time        DateTime('UTC'),
    time_ms     UInt16,
    service     LowCardinality(String),
    hostname    LowCardinality(String),
    source      LowCardinality(String),
    class       LowCardinality(String),
    level       LowCardinality(String),
    upstream    LowCardinality(String),
    upstream_url String,
    pid         Int32,
    tid         Int32,
    cid         Int64,
    errno       Int32,
    client      String,
    server      String,
    request     String,
    host        String,
    referrer    String,
    zone        String,
    message     String,
    incident_id String,
    path        String,
    file_id     String,
    line_offset UInt64,
    read_time   DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "proxy_errors"}}
PARTITION BY toDate(time)
ORDER BY (service, upstream, class, time, file_id, line_offset)
SETTINGS index_granularity = 8192;

{{distributed "proxy_errors" "cityHash64(file_id, line_offset)"}}

CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "upstream_events"}} {{.OnCluster}}
(
    time        DateTime('UTC'),
    time_ms     UInt16,
    service     LowCardinality(String),
    hostname    LowCardinality(String),
    source      LowCardinality(String),
    class       LowCardinality(String),
    level       LowCardinality(String),
    process     String,
    pid         Int32,
    signal      LowCardinality(String),
    exit_code   Int32,
    unit        String,
    container   String,
    app         String,
    dependency  String,
    memory_kb   Int64,
    message     String,
    incident_id String,
    path        String,
    file_id     String,
    line_offset UInt64,
    read_time   DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "upstream_events"}}
PARTITION BY toDate(time)
ORDER BY (service, class, time, file_id, line_offset)
SETTINGS index_granularity = 8192;

{{distributed "upstream_events" "cityHash64(file_id, line_offset)"}}

-- A line we could not read, kept verbatim: never dropped. time is the
-- shipper's read time (the line had no readable time), so the key leaves it
-- out: a line re-read by a restarted shipper gets a new read time but the
-- same identity.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "unparsed"}} {{.OnCluster}}
(
    time        DateTime('UTC'),
    hostname    LowCardinality(String),
    source      LowCardinality(String),
    service     LowCardinality(String),
    path        String,
    file_id     String,
    line_offset UInt64,
    truncated   UInt8,
    reason      String,
    line        String
)
ENGINE = {{engine "ReplacingMergeTree" "unparsed"}}
PARTITION BY toDate(time)
ORDER BY (hostname, file_id, line_offset)
SETTINGS index_granularity = 8192;

{{distributed "unparsed" "cityHash64(file_id, line_offset)"}}

-- Incidents are revised as late evidence arrives: every revision is a new row
-- with a higher version, and ReplacingMergeTree(version) keeps the latest.
-- No time partition: a revision may move start_time to an earlier day, and
-- ReplacingMergeTree only replaces rows within one partition.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "incidents"}} {{.OnCluster}}
(
    incident_id             String,
    version                 UInt64,
    service                 LowCardinality(String),
    upstream                String,
    server                  String,
    state                   LowCardinality(String),
    cause                   LowCardinality(String),
    confidence              Float32,
    dependency              String,
    start_time              DateTime('UTC'),
    start_ms                UInt16,
    end_time                DateTime('UTC'),
    end_ms                  UInt16,
    requests_affected       UInt64,
    statuses                Array(UInt16),
    status_counts           Array(UInt64),
    classes                 Array(String),
    class_counts            Array(UInt64),
    contributing            Array(String),
    contributing_confidence Array(Float32),
    summary                 String,
    fix                     String,
    updated_at              DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "incidents" "version"}}
ORDER BY (incident_id)
SETTINGS index_granularity = 1024;

{{distributed "incidents" "cityHash64(incident_id)"}}

-- The lines an incident rests on, rewritten with every version of the
-- incident (seq orders them within a version). Older versions' rows stay as
-- the incident's history; readers join on the incident's latest version.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "incident_evidence"}} {{.OnCluster}}
(
    incident_id String,
    version     UInt64,
    seq         UInt16,
    role        LowCardinality(String),
    class       LowCardinality(String),
    time        DateTime('UTC'),
    time_ms     UInt16,
    hostname    LowCardinality(String),
    source      LowCardinality(String),
    line        String
)
ENGINE = {{engine "ReplacingMergeTree" "incident_evidence"}}
ORDER BY (incident_id, version, seq)
SETTINGS index_granularity = 1024;

{{distributed "incident_evidence" "cityHash64(incident_id)"}}

-- 5xx per minute by service, upstream, status and class. A materialized view
-- fires on every insert, even when requests later drops the row as a
-- duplicate, so the rollup does not count: it keeps the exact set of line
-- identities (uniqExact over cityHash64(file_id, line_offset)) and readers
-- take uniqExactMerge(lines). A re-delivered line adds an identity already
-- in the set, so totals never count it twice, merged or not.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{table "requests_5xx_per_minute"}} {{.OnCluster}}
(
    minute   DateTime('UTC'),
    service  LowCardinality(String),
    upstream LowCardinality(String),
    status   UInt16,
    class    LowCardinality(String),
    lines    AggregateFunction(uniqExact, UInt64)
)
ENGINE = {{engine "AggregatingMergeTree" "requests_5xx_per_minute"}}
PARTITION BY toDate(minute)
ORDER BY (service, upstream, minute, status, class);

{{distributed "requests_5xx_per_minute" "rand()"}}

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.{{table "requests_5xx_per_minute_mv"}} {{.OnCluster}}
TO {{.DB}}.{{table "requests_5xx_per_minute"}}
AS SELECT
    toStartOfMinute(time) AS minute,
    service,
    upstream,
    status,
    class,
    uniqExactState(cityHash64(file_id, line_offset)) AS lines
FROM {{.DB}}.{{table "requests"}}
WHERE status >= 500 AND status < 600
GROUP BY minute, service, upstream, status, class;
