-- The rules of the views of the exposed schemas and db-extra-search-path, as text, for saved
-- fixtures (scripts/schema_fixture.sh, scripts/bench/schema/run_query.sh; read by
-- schema_cache::rule_targets): one row per rule, (the view's oid, the rule's action as text).
-- The server reads the same rules from PostgreSQL's relation cache instead (src/schema_cache/
-- rules.rs), the views listed by catalog_relations.sql. $1 is catalog.sql's parameter. The
-- partial form (its --partial lines in) reads the rules of the "relations" of $1 only.
WITH params AS (
  SELECT $1::json AS j
),
view_schemas AS (
  SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'array' THEN j ELSE j->'schemas' END) AS name
  FROM params
  UNION ALL
  SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'object' THEN j->'extra_search_path' END)
  FROM params
)
SELECT r.ev_class, r.ev_action::text
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname IN (SELECT name FROM view_schemas)
--partial AND r.ev_class = ANY (ARRAY(SELECT json_array_elements_text(j->'relations')::oid FROM params))
