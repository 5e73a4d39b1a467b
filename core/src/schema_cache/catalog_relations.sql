-- Whether catalog.sql should read the exposed relations by index (its partial form with
-- "whole": true; see its header): one row, the parameter for that read, or NULL when the
-- relations of the exposed schemas (and the views of db-extra-search-path, whose rules are
-- followed) are more than an eighth of the database's relations, where reading the catalogs
-- whole is faster (apflora alone in its database: 23 ms whole, 35 ms by index; beside
-- 10,000 other tables: 78 ms whole, 39 ms by index). $1 is catalog.sql's parameter.
-- The second column lists the relations of those schemas (see `rels` below) as an int8[]:
-- the executor remembers them (src/schema_cache: a relation dropped later is known as exposed).
-- The third lists their views and materialized views, whose rules the executor reads
-- (src/schema_cache/rules.rs).
WITH params AS (
  SELECT $1::json AS j
),
named AS (
  SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'array' THEN j ELSE j->'schemas' END) AS name, true AS exposed
  FROM params
  UNION ALL
  SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'object' THEN j->'extra_search_path' END), false
  FROM params
),
schemas AS (
  SELECT array_agg(n.oid) FILTER (WHERE s.exposed) AS exposed, array_agg(n.oid) AS relevant,
    -- objects made at initdb (oids below 12000: pg_catalog, pg_toast; not public, 2200) are
    -- pinned: PostgreSQL records no dependency on them
    coalesce(array_agg(n.oid) FILTER (WHERE n.oid < 12000 AND n.oid <> 2200), '{}') AS pinned
  FROM pg_catalog.pg_namespace n
  JOIN named s ON s.name = n.nspname
),
-- The relations of those schemas, found by their dependency on their schema (pg_depend's
-- index on what is referenced): a few rows per relation of these schemas, not a pass over all
-- of pg_class (42,548 rows beside 10,000 tables: 5 ms in an executor, twice per full read).
-- Tables, views, materialized views, foreign and partitioned tables and sequences depend on
-- their schema; a composite type's type does (its relation depends on the type). Indexes
-- depend on their table and are not listed (nothing is read of them, and dropping an index
-- invalidates its table). A pinned schema's relations are read from pg_class (the filter
-- before the scan is evaluated once).
rels AS (
  SELECT c.oid, c.relkind, c.relnamespace
  FROM schemas s, pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class c ON c.oid = d.objid
  WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND d.refobjid = ANY (s.relevant) AND d.refobjsubid = 0
    AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'n'
  UNION ALL
  SELECT c.oid, c.relkind, c.relnamespace
  FROM schemas s, pg_catalog.pg_depend d
  JOIN pg_catalog.pg_type t ON t.oid = d.objid AND t.typtype = 'c'
  JOIN pg_catalog.pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
  WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND d.refobjid = ANY (s.relevant) AND d.refobjsubid = 0
    AND d.classid = 'pg_catalog.pg_type'::regclass AND d.deptype = 'n'
  UNION ALL
  SELECT c.oid, c.relkind, c.relnamespace
  FROM pg_catalog.pg_class c
  WHERE (SELECT cardinality(pinned) > 0 FROM schemas) AND c.relnamespace = ANY ((SELECT pinned FROM schemas)::oid[])
),
-- the whole count is pg_class's own statistics (VACUUM and ANALYZE keep it, as for the
-- planner), counted only when it has none: it only decides which of two reads of the same
-- rows is faster
listed AS (
  SELECT
    coalesce(array_agg(c.oid::int8) FILTER (WHERE c.relnamespace = ANY (s.exposed) AND c.relkind IN ('v', 'r', 'm', 'f', 'p')
      OR c.relkind IN ('v', 'm')), '{}') AS oids,
    coalesce(array_agg(c.oid::int8), '{}') AS relevant,
    coalesce(array_agg(c.oid::int8) FILTER (WHERE c.relkind IN ('v', 'm')), '{}') AS views,
    (SELECT CASE WHEN reltuples > 0 THEN reltuples ELSE (SELECT count(*) FROM pg_catalog.pg_class) END
      FROM pg_catalog.pg_class WHERE oid = 'pg_catalog.pg_class'::regclass) AS total
  FROM rels c, schemas s
)
SELECT CASE WHEN cardinality(oids) * 8 < total THEN
  (CASE json_typeof(j) WHEN 'array' THEN jsonb_build_object('schemas', j) ELSE j::jsonb END
    || jsonb_build_object('relations', to_jsonb(oids), 'whole', true))::text
  END,
  relevant::text,
  views::text
FROM listed, params
