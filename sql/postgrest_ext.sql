-- Objects of the extension live in schema postgrest_ext (created by CREATE EXTENSION from
-- the control file), never in `postgrest`: PostgREST users own a schema of that name.
COMMENT ON SCHEMA postgrest_ext IS 'postgrest_ext: PostgREST served from background workers';
