-- Whether catalog.sql should read the exposed relations by index (its partial form with
-- "whole": true; see its header): one row, the parameter for that read, or NULL when the
-- relations of the exposed schemas (and the views of db-extra-search-path, whose rules are
-- followed) are more than an eighth of the database's relations, where reading the catalogs
-- whole is faster (apflora alone in its database: 23 ms whole, 35 ms by index; beside
-- 10,000 other tables: 78 ms whole, 39 ms by index). $1 is catalog.sql's parameter.
-- The second column lists every relation of those schemas, of any kind, as an int8[]: the
-- executor remembers them (src/schema_cache: a relation dropped later is known as exposed).
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
  SELECT array_agg(n.oid) FILTER (WHERE s.exposed) AS exposed, array_agg(n.oid) AS relevant
  FROM pg_catalog.pg_namespace n
  JOIN named s ON s.name = n.nspname
),
-- one pass over pg_class (42,548 rows beside 10,000 tables: 2.5 ms); the whole count is
-- pg_class's own statistics (VACUUM and ANALYZE keep it, as for the planner), counted only
-- when it has none: it only decides which of two reads of the same rows is faster
listed AS (
  SELECT
    coalesce(array_agg(c.oid::int8) FILTER (WHERE c.relnamespace = ANY (s.exposed) AND c.relkind IN ('v', 'r', 'm', 'f', 'p')
      OR c.relkind IN ('v', 'm')), '{}') AS oids,
    coalesce(array_agg(c.oid::int8), '{}') AS relevant,
    coalesce(array_agg(c.oid::int8) FILTER (WHERE c.relkind IN ('v', 'm')), '{}') AS views,
    (SELECT CASE WHEN reltuples > 0 THEN reltuples ELSE (SELECT count(*) FROM pg_catalog.pg_class) END
      FROM pg_catalog.pg_class WHERE oid = 'pg_catalog.pg_class'::regclass) AS total
  FROM pg_catalog.pg_class c, schemas s
  WHERE c.relnamespace = ANY (s.relevant)
)
SELECT CASE WHEN cardinality(oids) * 8 < total THEN
  (CASE json_typeof(j) WHEN 'array' THEN jsonb_build_object('schemas', j) ELSE j::jsonb END
    || jsonb_build_object('relations', to_jsonb(oids), 'whole', true))::text
  END,
  relevant::text,
  views::text
FROM listed, params
