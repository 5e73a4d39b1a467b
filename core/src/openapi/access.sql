-- What the request's role may see of schema $1, for openapi-mode = follow-privileges: the
-- relations it has any privilege on (PostgREST's accessibleTables), the functions it may
-- execute (accessibleFuncs; run with the request's search_path, so parameter types of the
-- exposed schema print unqualified, as in PostgREST) and the schema's comment
-- (schemaDescription). One row, one text column: a JSON document.
WITH
nsp AS (
  SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1
),
arguments AS (
  SELECT
    oid,
    json_agg(json_build_object(
      'name', COALESCE(name, ''),
      'type', type::regtype::text,
      'type_max_length', CASE type
        WHEN 'bit'::regtype THEN 'bit varying'
        WHEN 'bit[]'::regtype THEN 'bit varying[]'
        WHEN 'character'::regtype THEN 'character varying'
        WHEN 'character[]'::regtype THEN 'character varying[]'
        ELSE type::regtype::text
      END,
      'required', idx <= (pronargs - pronargdefaults),
      'variadic', COALESCE(mode = 'v', FALSE)
    ) ORDER BY idx) AS args,
    CASE COUNT(*) - COUNT(name) -- number of unnamed arguments
      WHEN 0 THEN true
      WHEN 1 THEN (array_agg(type))[1] IN ('bytea'::regtype, 'json'::regtype, 'jsonb'::regtype, 'text'::regtype, 'xml'::regtype)
      ELSE false
    END AS callable
  FROM pg_catalog.pg_proc,
       unnest(proargnames, proargtypes, proargmodes)
         WITH ORDINALITY AS _ (name, type, mode, idx)
  WHERE type IS NOT NULL -- only input arguments
    AND pronamespace IN (SELECT oid FROM nsp)
  GROUP BY oid
)
SELECT json_build_object(
  'tables', COALESCE((
    SELECT json_agg(c.relname ORDER BY c.relname)
    FROM pg_catalog.pg_class c
    WHERE c.relkind IN ('v','r','m','f','p')
      AND c.relnamespace IN (SELECT oid FROM nsp)
      AND (
        pg_has_role(c.relowner, 'USAGE')
        OR has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
        OR has_any_column_privilege(c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
      )
      AND NOT c.relispartition
  ), '[]'::json),
  'functions', COALESCE((
    SELECT json_agg(json_build_object(
      'name', p.proname,
      'description', d.description,
      'params', COALESCE(a.args, '[]'::json),
      'volatility', p.provolatile::text
    ) ORDER BY p.proname, p.pronargs, p.oid)
    FROM pg_catalog.pg_proc p
    LEFT JOIN arguments a ON a.oid = p.oid
    LEFT JOIN pg_catalog.pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0
    WHERE p.pronamespace IN (SELECT oid FROM nsp)
      -- a domain cannot be over trigger, so the base type PostgREST resolves is the type itself
      AND p.prorettype <> 'trigger'::regtype
      AND COALESCE(a.callable, true)
      AND has_function_privilege(p.oid, 'execute')
      AND p.prokind = 'f'
  ), '[]'::json),
  'description', (SELECT pg_catalog.obj_description(oid, 'pg_namespace') FROM nsp)
)::text
