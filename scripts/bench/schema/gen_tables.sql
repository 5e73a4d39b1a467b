-- A wide generated schema for timing the schema cache at scale (issue #19):
-- schema `wide` with :n tables (default 10000) t00001..tN, each
--   (id int primary key, parent_id int references the previous table, name, note, created_at)
-- (t00001's parent_id references t00001 itself), and one view per 10 tables,
-- v00010, v00020, ..., selecting the key columns (id, parent_id) and name from t<i>.
--
--   cluster.sh psql DIR -d postgres -c 'CREATE DATABASE wide'
--   cluster.sh psql DIR -d wide -q -v n=10000 -f scripts/bench/schema/gen_tables.sql
--
-- \gexec runs each statement in its own transaction: 10,000 CREATE TABLEs in one transaction
-- would need more locks than max_locks_per_transaction allows by default.
\if :{?n}
\else
  \set n 10000
\endif
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS wide CASCADE;
CREATE SCHEMA wide;
SELECT format(
  'CREATE TABLE wide.%I (id int PRIMARY KEY, parent_id int REFERENCES wide.%I (id), '
  'name text NOT NULL, note varchar(200), created_at timestamptz NOT NULL DEFAULT now())',
  't' || lpad(i::text, 5, '0'), 't' || lpad(greatest(i - 1, 1)::text, 5, '0'))
FROM generate_series(1, :n) AS i
\gexec
SELECT format('CREATE VIEW wide.%I AS SELECT id, parent_id, name FROM wide.%I',
  'v' || lpad(i::text, 5, '0'), 't' || lpad(i::text, 5, '0'))
FROM generate_series(10, :n, 10) AS i
\gexec
GRANT USAGE ON SCHEMA wide TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA wide TO PUBLIC;
VACUUM ANALYZE;
