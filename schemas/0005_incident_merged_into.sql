-- An incident id that a merge ended: a late 5xx bridged two incidents of one
-- upstream and the engine folded one into the other. The analyzer writes the
-- id's final revision with state 'merged', no requests, and merged_into
-- naming the surviving incident, which holds the totals and the requests'
-- links. Readers skip state 'merged' (docs/clickhouse.md).
--
-- ADD COLUMN without IF NOT EXISTS, which 18.16 lacks: `culprit migrate`
-- takes "column already exists" for done, so a run cut short resumes.
ALTER TABLE {{.DB}}.{{table "incidents"}} {{.OnCluster}} ADD COLUMN merged_into String DEFAULT '';
{{if .OnCluster}}
-- The Distributed table over incidents_local reads the column too.
ALTER TABLE {{.DB}}.incidents {{.OnCluster}} ADD COLUMN merged_into String DEFAULT '';
{{end}}
