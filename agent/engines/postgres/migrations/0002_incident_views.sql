-- The parts of an incident document as rows, for SQL readers (reports, stats).
CREATE VIEW incident_timeline AS
SELECT i.id AS incident_id, e.ordinality AS position, (e.entry ->> 'at')::timestamptz AS at,
       e.entry ->> 'kind' AS kind, e.entry ->> 'actor' AS actor, e.entry ->> 'text' AS text,
       e.entry -> 'data' AS data
FROM incidents i, jsonb_array_elements(i.document -> 'timeline') WITH ORDINALITY AS e (entry, ordinality);

CREATE VIEW incident_drafts AS
SELECT i.id AS incident_id, d ->> 'id' AS draft_id, d ->> 'kind' AS kind,
       d ->> 'channel' AS channel, d ->> 'audience' AS audience, d ->> 'state' AS state,
       (d ->> 'revision')::int AS revision, d ->> 'title' AS title
FROM incidents i, jsonb_array_elements(i.document -> 'drafts') AS d;

CREATE VIEW incident_approvals AS
SELECT i.id AS incident_id, a ->> 'draft_id' AS draft_id, a ->> 'decision' AS decision,
       a ->> 'by' AS by, (a ->> 'at')::timestamptz AS at, (a ->> 'revision')::int AS revision,
       a ->> 'role' AS role
FROM incidents i, jsonb_array_elements(i.document -> 'approvals') AS a;
