-- postgrest_ext schema cache catalog query.
--
-- One statement that reads everything PostgREST's schema cache needs from the system
-- catalogs and returns ONE row with ONE text column: a JSON document
--   {"schemas": [...], "tables": [...], "internal_pks": [...], "m2o_rels": [...],
--    "views": [...], "view_keys": [...], "routines": [...], "computed_rels": [...],
--    "representations": [...], "media_handlers": [...]}
-- Each part is a port of one of PostgREST's queries in src/library/PostgREST/SchemaCache.hs
-- (tablesSqlQuery, allM2OandO2ORels, allViewsKeyDependencies, funcsSqlQuery,
-- allComputedRels, dataRepresentations, mediaHandlers) with the same rows, reshaped to stay
-- fast on big schemas (issue #19; scripts/bench/schema: 10,000 tables, or 281 nested views):
-- columns are read for the exposed schemas only, base types are resolved for domains only,
-- views' rules are not read here (the executor takes their target lists from the relation
-- cache: src/schema_cache/rules.rs),
-- names are looked up once per key rather than once per use, and rows become JSON through
-- row_to_json of a record (json_build_object costs about twice as much per row).
-- The rows are raw; the Rust side (postgrest_core::schema_cache) derives the inverse/M2M/view
-- relationships like PostgREST.
--
-- $1 (text) is JSON, either
--   ["test", "v1"]                                   -- the exposed schemas (db-schemas)
-- or
--   {"schemas": [...], "extra_search_path": [...], "hoisted_tx_settings": [...]}
-- extra_search_path defaults to [] and hoisted_tx_settings to PostgREST's default
-- (statement_timeout, plan_filter.statement_cost_limit, default_transaction_isolation).
--
-- The partial form of this query (schema_cache::partial_catalog_query: the lines that start
-- with `--partial` are in) reads a few relations again, the oids in $1's "relations": every
-- row that mentions one of them, and nothing for functions and types. Its document has
-- "partial": true; schema_cache::CatalogRows compares and applies it. With "functions": true
-- in $1 it reads the functions, types, representations and media handlers too (after a change
-- of functions; "relations" may then be empty), and its document has "functions": true.
-- A full read comes in two halves, read by two executors at once (schema_cache::Parts):
-- "tables": true with "relationships": false and "functions": false, and the other way round.
-- A part a read leaves out is an empty array, and the document's "tables_read",
-- "relationships_read" and "functions" say which parts it has. "tables" and "relationships"
-- default to true.
-- With "whole": true in $1 as well, the partial form is a full read (document and all, the
-- functions too unless "functions": false) whose
-- "relations" are all those of the exposed schemas and the views of db-extra-search-path
-- (catalog_relations.sql lists them): it finds their rows by index instead of reading the
-- catalogs whole, which is faster when the exposed schemas are a small part of a big database
-- (the generic plan cannot know how few rows the schema filters keep, and hashes all of
-- pg_attribute), and slower when they are most of it.
--
-- PostgREST runs its queries after `set local schema ''` so that regtype/regclass/format_type/
-- pg_get_expr print schema-qualified names. A single statement cannot SET, so the document is
-- computed inside `CASE WHEN set_config('search_path', '', true) ...`: the uncorrelated
-- subquery becomes an InitPlan that the executor evaluates lazily, i.e. after set_config ran.
-- The caller's search_path is restored afterwards (array elements are evaluated in order).
-- Works for a non-superuser in a read-only transaction (set_config is not a write).
--
-- Above jit_above_cost (100000 by default) PostgreSQL JIT-compiles the statement, which alone
-- took 0.3-8 s (apflora, 10,000 tables): the executors read with jit off. Correlated
-- subqueries and unnest() are costed per row (10 rows per unnest) though few run; the two on
-- the per-column path (a default, an identity's sequence) run only where a column has one.
SELECT (ARRAY[
  CASE WHEN set_config('search_path', '', true) IS NOT NULL THEN (
  WITH RECURSIVE
  params AS (
    SELECT $1::json AS j
  ),
  -- a partial read ("relations": oids): only what mentions these relations (see the header);
  -- with "whole": true, they are all the relations (a full read by index, see the header)
  only_rels AS (
    SELECT CASE WHEN json_typeof(j) = 'object' AND json_typeof(j->'relations') = 'array'
      THEN ARRAY(SELECT json_array_elements_text(j->'relations')::oid) END AS oids,
      coalesce(json_typeof(j) = 'object' AND json_typeof(j->'relations') = 'array' AND j->'whole' IS NULL, false) AS partial,
      -- the functions and types: as "functions" says, else read by a full read and not by a
      -- partial one
      coalesce(CASE WHEN json_typeof(j) = 'object' THEN (j->>'functions')::boolean END,
        NOT coalesce(json_typeof(j) = 'object' AND json_typeof(j->'relations') = 'array' AND j->'whole' IS NULL, false)) AS functions,
      -- the two halves of a full read (see the header): read unless they say false
      coalesce(CASE WHEN json_typeof(j) = 'object' THEN (j->>'tables')::boolean END, true) AS tables,
      coalesce(CASE WHEN json_typeof(j) = 'object' THEN (j->>'relationships')::boolean END, true) AS relationships
    FROM params
  ),
  exposed AS (
    SELECT n.oid AS nsp_oid, pg_is_other_temp_schema(n.oid) AS other_temp
    FROM pg_namespace n
    WHERE n.nspname IN (
      SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'array' THEN j ELSE j->'schemas' END)
      FROM params)
  ),
  -- as arrays, for `x = ANY ((SELECT ...)::oid[])`: a filter at the scan, where `IN (SELECT ...)`
  -- may become a semi-join after all other joins
  exposed_arr AS (
    SELECT array_agg(nsp_oid) AS oids,
      -- PostgREST reads no columns in other sessions' temporary schemas
      array_agg(nsp_oid) FILTER (WHERE NOT other_temp) AS column_oids
    FROM exposed
  ),
  other_temp_schemas AS (
    SELECT oid FROM pg_namespace WHERE pg_is_other_temp_schema(oid)
  ),
  extra_search AS (
    SELECT n.oid AS nsp_oid
    FROM pg_namespace n
    WHERE n.nspname IN (
      SELECT json_array_elements_text(CASE json_typeof(j) WHEN 'object' THEN j->'extra_search_path' END)
      FROM params)
  ),
  view_schemas_arr AS (
    SELECT array_agg(nsp_oid) AS oids FROM (SELECT nsp_oid FROM exposed UNION SELECT nsp_oid FROM extra_search) _
  ),
  hoisted AS (
    SELECT json_array_elements_text(
      CASE WHEN json_typeof(j) = 'object' AND j->'hoisted_tx_settings' IS NOT NULL
        THEN j->'hoisted_tx_settings'
        ELSE '["statement_timeout","plan_filter.statement_cost_limit","default_transaction_isolation"]'::json
      END) AS pat
    FROM params
  ),
  -- baseTypesCte (PostgreSQL < 17 variant), recursing from the domains only: any other type is
  -- its own base type, so `LEFT JOIN domain_base db ON db.oid = t.oid` and
  -- COALESCE(db.x, <t's own value>) give PostgREST's base_types row for any type t.
  domain_rec AS (
    SELECT oid, typbasetype, typnamespace AS base_namespace, typbasetype AS base_type
    FROM pg_type
    WHERE typtype = 'd'
    UNION
    SELECT t.oid, b.typbasetype, b.typnamespace, COALESCE(NULLIF(b.typbasetype, 0), b.oid)
    FROM domain_rec t
    JOIN pg_type b ON t.typbasetype = b.oid
  ),
  domain_base AS (
    SELECT oid, base_namespace, base_type FROM domain_rec WHERE typbasetype = 0
  ),
  ---------------------------------------------------------------- tablesSqlQuery
  -- PostgREST reads the tables of every schema and drops the non-exposed ones later
  -- (removeInternal); only exposed ones can end up in the cache, so filter first.
  -- NOT MATERIALIZED: joined as pg_class, with its statistics, instead of as
  -- an opaque CTE whose joins the planner overestimates by orders of magnitude (JIT).
  rels AS NOT MATERIALIZED (
    SELECT c.oid, c.relname, c.relnamespace, c.relkind
    FROM pg_class c
    WHERE c.relkind IN ('v','r','m','f','p')
      AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND c.relnamespace = ANY ((SELECT oids FROM exposed_arr)::oid[])
      AND NOT c.relispartition
--partial AND c.oid = ANY ((SELECT oids FROM only_rels)::oid[])
  ),
  enums AS (
    SELECT enumtypid, json_agg(enumlabel ORDER BY enumsortorder) AS labels
    FROM pg_enum
    GROUP BY enumtypid
  ),
  -- the sequences of identity columns (PostgREST left-joins every internal dependency on a
  -- column; only an identity's sequence is one, and only identity columns use it)
  identity_seqs AS (
    SELECT d.refobjid, d.refobjsubid, d.objid
    FROM pg_sequence s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.objsubid = 0
    WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'
  ),
  -- A column's default and identity sequence are each an index lookup, and most columns have
  -- neither (apflora: 170 defaults in 3,075 columns): they are looked up where atthasdef and
  -- attidentity say they exist (its read by index: 40 -> 31 ms).
  columns_agg AS (
    SELECT
      a.attrelid AS relid,
      json_agg(row_to_json(x) ORDER BY a.attnum) AS columns,
      -- tbl_pk_cols for the exposed tables, in the same pass over their columns
      json_agg(a.attname ORDER BY a.attname) FILTER (WHERE a.attnum = ANY (pk.conkey)) AS pk_cols
    FROM rels c
    JOIN pg_attribute a ON a.attrelid = c.oid
    LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' AND c.relkind IN ('r', 'p')
    -- the column's type, resolved once per distinct (type, typmod): OFFSET 0 keeps the lookups
    -- and format_type() below the Memoize node that caches this subquery's row
    CROSS JOIN LATERAL (
      SELECT t.oid, t.typtype, t.typnamespace, t.typnotnull, t.typbasetype, t.typtypmod,
        -- the default of a domain
        pg_get_expr(t.typdefaultbin, 0) AS domain_default,
        format_type(t.oid, NULL::integer) AS plain_name,
        format_type(t.oid, a.atttypmod)::text AS nominal_name,
        CASE WHEN t.typtype = 'd' AND (SELECT b.typnamespace FROM pg_type b WHERE b.oid = t.base_type) = 'pg_catalog'::regnamespace
          THEN format_type(t.base_type, NULL::integer) END AS domain_base_name,
        coalesce(e.labels, '[]'::json) AS enum_values
      FROM (
        SELECT t.oid, t.typtype, t.typnamespace, t.typnotnull, t.typbasetype, t.typtypmod, t.typdefaultbin,
          -- domain_base's base_type for a domain (see there), followed by index from it and
          -- only for domains (CASE evaluates its subquery only then): domain_base's scan of
          -- pg_type (2-3 ms beside 10,000 tables) is left to the functions' half of a full read
          CASE WHEN t.typtype = 'd' THEN (
            WITH RECURSIVE chain AS (
              SELECT b.oid, b.typbasetype FROM pg_type b WHERE b.oid = t.typbasetype
              UNION ALL
              SELECT b.oid, b.typbasetype FROM chain JOIN pg_type b ON b.oid = chain.typbasetype
            )
            SELECT chain.oid FROM chain WHERE chain.typbasetype = 0) END AS base_type
        FROM pg_type t
        WHERE t.oid = a.atttypid
        OFFSET 0) t
      LEFT JOIN enums e ON e.enumtypid = COALESCE(t.base_type, t.oid)
      OFFSET 0) t
    LEFT JOIN pg_description AS d
      ON d.objoid = a.attrelid AND d.objsubid = a.attnum AND d.classoid = 'pg_class'::regclass
    CROSS JOIN LATERAL (SELECT
      CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END AS typid,
      CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod) tt
    CROSS JOIN LATERAL (SELECT
      a.attname AS name,
      d.description AS description,
      not (a.attnotnull OR t.typtype = 'd' AND t.typnotnull) AS nullable,
      CASE
        WHEN t.typtype = 'd' THEN
        CASE
          WHEN t.domain_base_name IS NOT NULL THEN t.domain_base_name -- base type in pg_catalog
          ELSE t.nominal_name -- format_type(a.atttypid, a.atttypmod)
        END
        ELSE
        CASE
          WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN t.plain_name -- format_type(a.atttypid, NULL)
          ELSE t.nominal_name
        END
      END::text AS data_type,
      t.nominal_name AS nominal_type,
      -- information_schema._pg_char_max_length(_pg_truetypid(a, t), _pg_truetypmod(a, t)),
      -- inlined: the SQL functions take whole rows and are not inlined by the planner
      CASE
        WHEN tt.typmod = -1 THEN NULL
        WHEN tt.typid IN ('bpchar'::regtype, 'varchar'::regtype) THEN tt.typmod - 4
        WHEN tt.typid IN ('bit'::regtype, 'varbit'::regtype) THEN tt.typmod
      END::integer AS max_len,
      -- typbasetype and typdefaultbin handles `CREATE DOMAIN .. DEFAULT val`,  attidentity/attgenerated handles generated columns, pg_get_expr gets the default of a column
      CASE
        -- a column has a pg_attrdef row exactly when atthasdef
        WHEN (t.typbasetype != 0) AND NOT a.atthasdef THEN t.domain_default
        WHEN a.attidentity  = 'd' THEN format('nextval(%L)', (SELECT seq.objid FROM identity_seqs seq
          WHERE seq.refobjid = a.attrelid AND seq.refobjsubid = a.attnum)::regclass)
        WHEN a.attgenerated = 's' THEN null
        -- a plain default cannot refer to columns: deparsed without the relation, which
        -- pg_get_expr would open (a lock and a relcache lookup per default)
        WHEN a.atthasdef THEN (SELECT pg_get_expr(ad.adbin, 0) FROM pg_attrdef ad
          WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum)::text
      END AS "default",
      t.enum_values) x
    WHERE
      c.relnamespace = ANY ((SELECT column_oids FROM exposed_arr)::oid[])
      AND a.attnum > 0
      AND NOT a.attisdropped
    GROUP BY a.attrelid
  ),
  -- tbl_pk_cols for the tables of the other schemas (the exposed ones are in columns_agg)
  internal_pk_cols AS (
    SELECT
      r.oid AS relid,
      json_agg(a.attname ORDER BY a.attname) AS pk_cols
    FROM pg_class r
    JOIN pg_constraint c
      ON r.oid = c.conrelid
    JOIN pg_attribute a
      ON a.attrelid = r.oid AND a.attnum = ANY (c.conkey)
    WHERE
      c.contype in ('p')
      AND r.relkind IN ('r', 'p')
      AND r.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND r.relnamespace <> ALL ((SELECT oids FROM exposed_arr)::oid[])
      AND r.relnamespace NOT IN (SELECT oid FROM other_temp_schemas)
      AND r.oid IN (SELECT conrelid FROM relevant_fks)
      AND NOT a.attisdropped
    GROUP BY r.oid
  ),
  tables AS (
    SELECT
      c.oid::int8 AS oid,
      n.nspname AS schema,
      c.relname AS name,
      d.description AS description,
      c.relkind IN ('v','m') AS is_view,
      -- The function `pg_relation_is_updateable` returns a bitmask where 8
      -- corresponds to `1 << CMD_INSERT` in the PostgreSQL source code, i.e.
      -- it's possible to insert into the relation; 4 is CMD_UPDATE, 16 CMD_DELETE.
      (upd.mask & 8) = 8 AS insertable,
      (upd.mask & 4) = 4 AS updatable,
      (upd.mask & 16) = 16 AS deletable,
      coalesce(cols_agg.pk_cols, '[]'::json) AS pk_cols,
      coalesce(cols_agg.columns, '[]'::json) AS columns
    FROM rels c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    -- OFFSET 0: evaluated once per relation, not once per flag
    CROSS JOIN LATERAL (SELECT CASE
        WHEN c.relkind IN ('r','p') THEN 8 | 4 | 16
        WHEN c.relkind IN ('v','f') THEN pg_relation_is_updatable(c.oid::regclass, TRUE)
        ELSE 0
      END AS mask OFFSET 0) upd
    LEFT JOIN pg_description d on d.objoid = c.oid and d.objsubid = 0 and d.classoid = 'pg_class'::regclass
    LEFT JOIN columns_agg cols_agg ON c.oid = cols_agg.relid
  ),
  ---------------------------------------------------------------- allM2OandO2ORels
  -- [[column, referenced column], ...] of each FK. Single-column FKs (nearly all) take two
  -- index lookups; unnest() would make the planner expect 10 columns per FK, and with that
  -- hash all of pg_attribute or cost the lookups above jit_above_cost.
  fk_cols AS (
    SELECT f.oid, to_json(ARRAY[ARRAY[cols.attname, refs.attname]]) AS cols_and_fcols
    FROM pg_constraint f
    JOIN pg_attribute cols ON cols.attrelid = f.conrelid AND cols.attnum = f.conkey[1]
    JOIN pg_attribute refs ON refs.attrelid = f.confrelid AND refs.attnum = f.confkey[1]
    WHERE f.contype = 'f' AND f.conparentid = 0 AND cardinality(f.conkey) = 1 AND f.oid IN (SELECT oid FROM relevant_fks)
--partial AND f.oid = ANY (ARRAY(SELECT oid FROM relevant_fks))
    UNION ALL
    SELECT f.oid, to_json(array_agg(ARRAY[cols.attname, refs.attname] ORDER BY k.ord))
    FROM pg_constraint f
    CROSS JOIN LATERAL unnest(f.conkey, f.confkey) WITH ORDINALITY AS k(col, ref, ord)
    JOIN pg_attribute cols ON cols.attrelid = f.conrelid AND cols.attnum = k.col
    JOIN pg_attribute refs ON refs.attrelid = f.confrelid AND refs.attnum = k.ref
    WHERE f.contype = 'f' AND f.conparentid = 0 AND cardinality(f.conkey) > 1 AND f.oid IN (SELECT oid FROM relevant_fks)
--partial AND f.oid = ANY (ARRAY(SELECT oid FROM relevant_fks))
    GROUP BY f.oid
  ),
  -- FKs whose columns are also a PK or unique key of their table (keys never repeat a column,
  -- so set equality is PostgREST's comparison of the sorted arrays)
  o2o_fks AS (
    SELECT f.oid
    FROM pg_constraint f
    JOIN pg_constraint u ON u.conrelid = f.conrelid
    WHERE f.contype = 'f' AND u.contype IN ('p', 'u') AND u.connamespace <> 'pg_catalog'::regnamespace
      AND u.conkey @> f.conkey AND u.conkey <@ f.conkey
      AND f.oid IN (SELECT oid FROM relevant_fks)
--partial AND f.oid = ANY (ARRAY(SELECT oid FROM relevant_fks))
  ),
  -- PostgREST reads every FK of the database and keeps, after deriving, the relationships
  -- whose both ends are exposed tables or views (removeInternal). An FK can end up in one
  -- only if one of its tables is exposed or read by a view of the exposed (or extra search
  -- path) schemas: the others are left out here, so that a big schema elsewhere in the
  -- database costs nothing. The same holds for the keys of junction candidates.
  relevant_rels AS (
    SELECT oid FROM rels UNION SELECT relid FROM key_tables
  ),
  relevant_fks AS (
    SELECT f.oid, f.conrelid
    FROM pg_constraint f
    WHERE f.contype = 'f'
      AND (f.conrelid IN (SELECT oid FROM relevant_rels) OR f.confrelid IN (SELECT oid FROM relevant_rels))
    -- a partial read finds them by index: a foreign key is its table's constraint, and has
    -- triggers on the table it references
--partial AND f.oid = ANY (ARRAY(SELECT k.oid FROM pg_constraint k WHERE k.conrelid IN (SELECT oid FROM relevant_rels)
--partial   UNION SELECT t.tgconstraint FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM relevant_rels)))
  ),
  m2o_rels AS (
    SELECT
      traint.oid::int8 AS oid,
      traint.conrelid::int8 AS conrelid,
      traint.confrelid::int8 AS confrelid,
      ns1.nspname AS table_schema,
      tab.relname AS table_name,
      ns2.nspname AS foreign_table_schema,
      other.relname AS foreign_table_name,
      traint.conrelid = traint.confrelid AS is_self,
      traint.conname  AS constraint_name,
      fk.cols_and_fcols,
      traint.oid IN (SELECT oid FROM o2o_fks) AS one_to_one,
      traint.conrelid AS ord1
    FROM pg_constraint traint
    JOIN relevant_fks USING (oid)
    JOIN fk_cols fk ON fk.oid = traint.oid
    JOIN pg_namespace ns1 ON ns1.oid = traint.connamespace
    JOIN pg_class tab ON tab.oid = traint.conrelid
    JOIN pg_class other ON other.oid = traint.confrelid
    JOIN pg_namespace ns2 ON ns2.oid = other.relnamespace
  ),
  ---------------------------------------------------------------- allViewsKeyDependencies
  -- PostgREST follows each view column through the views it selects from to a table column
  -- and matches those against the tables' keys, all in SQL, with each rule's pg_node_tree
  -- converted to JSON by a regexp (most of the time on a big schema). Here the executor takes
  -- the rules' target lists from the relation cache (src/schema_cache/rules.rs) and the front
  -- follows them (schema_cache::view_deps); this query gives
  -- the exposed views' column names and the keys of the tables the views can reach.
  views AS (
    SELECT c.oid AS view_id, c.relnamespace AS view_schema_id, c.relname AS view_name
    FROM pg_class c
    WHERE c.relkind IN ('v', 'm')
      AND c.relnamespace = ANY ((SELECT oids FROM view_schemas_arr)::oid[])
--partial AND c.oid = ANY ((SELECT oids FROM only_rels)::oid[])
  ),
  exposed_views AS (
    -- (oids as numbers: to_json writes an oid as a string)
    SELECT v.view_id::int8 AS oid, n.nspname AS schema, v.view_name AS name,
      coalesce((SELECT json_agg(json_build_array(a.attnum, a.attname) ORDER BY a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = v.view_id AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json) AS columns
    FROM views v
    JOIN pg_namespace n ON n.oid = v.view_schema_id
    WHERE v.view_schema_id IN (SELECT nsp_oid FROM exposed)
  ),
  -- every relation a view's rules depend on: the tables whose columns a view column can come
  -- from (directly or through other views) are among them
  key_tables AS (
    SELECT DISTINCT d.refobjid AS relid
    FROM pg_rewrite r
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    WHERE r.ev_class IN (SELECT view_id FROM views) AND d.refclassid = 'pg_class'::regclass
    -- a partial read: also the keys of the relations and of the tables their foreign keys
    -- reference, where some view of the view schemas depends on them (as a full read has them)
--partial UNION SELECT d.refobjid
--partial FROM pg_depend d
--partial JOIN pg_rewrite w ON w.oid = d.objid
--partial JOIN pg_class v ON v.oid = w.ev_class AND v.relnamespace = ANY ((SELECT oids FROM view_schemas_arr)::oid[])
--partial WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
--partial   AND d.refobjid = ANY (ARRAY(SELECT unnest((SELECT oids FROM only_rels))
--partial     UNION SELECT k.confrelid FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid = ANY ((SELECT oids FROM only_rels)::oid[])))
--partial   -- (a full read by index has them all in the first part)
--partial   AND (SELECT partial FROM only_rels)
  ),
  -- their primary keys and foreign keys (`f`: the referencing columns, `f_ref`: the
  -- referenced ones), with the columns' numbers and names in key order
  -- (the constraint and its table, by which a partial read replaces them)
  key_cons AS (
    SELECT conrelid AS relid, conname, contype::text AS contype, conkey AS cols, oid AS con, conrelid
    FROM pg_constraint
    WHERE contype IN ('p', 'f') AND conrelid IN (SELECT relid FROM key_tables)
    UNION ALL
    SELECT confrelid, conname, 'f_ref', confkey, oid, conrelid
    FROM pg_constraint
    WHERE contype = 'f' AND confrelid IN (SELECT relid FROM key_tables)
    -- found by index (pg_constraint has none on confrelid): a foreign key has triggers on the
    -- table it references, and its copies on the partitions of a partitioned referencing
    -- table (which have none there) are its children
--partial AND oid = ANY (ARRAY(WITH RECURSIVE fks AS (
--partial   SELECT t.tgconstraint AS oid FROM pg_trigger t WHERE t.tgrelid IN (SELECT relid FROM key_tables) AND t.tgconstraint <> 0
--partial   UNION SELECT k.oid FROM fks JOIN pg_constraint k ON k.conparentid = fks.oid)
--partial   SELECT oid FROM fks))
  ),
  view_keys AS (
    SELECT k.relid::int8 AS relid, k.con::int8 AS con, k.conrelid::int8 AS conrelid, n.nspname AS schema,
      c.relname AS name, k.conname AS constraint_name, k.contype AS constraint_type,
      coalesce((SELECT json_agg(json_build_array(a.attnum, a.attname) ORDER BY u.ord)
        FROM unnest(k.cols) WITH ORDINALITY AS u(col, ord)
        JOIN pg_attribute a ON a.attrelid = k.relid AND a.attnum = u.col), '[]'::json) AS columns
    FROM key_cons k
    JOIN pg_class c ON c.oid = k.relid
    JOIN pg_namespace n ON n.oid = c.relnamespace
  ),
  ---------------------------------------------------------------- funcsSqlQuery
  arguments AS (
    SELECT
      oid,
      json_agg(json_build_object(
        'name', COALESCE(name, ''),
        'type', type::regtype::text,
        -- convert types that ignore the length and accept any value till maximum size
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
    FROM pg_proc,
         unnest(proargnames, proargtypes, proargmodes)
           WITH ORDINALITY AS _ (name, type, mode, idx)
    WHERE type IS NOT NULL -- only input arguments
      AND pronamespace = ANY ((SELECT oids FROM exposed_arr)::oid[])
    GROUP BY oid
  ),
  -- the proconfig settings matching db-hoisted-tx-settings (a join: as a correlated
  -- subquery its estimated cost alone crossed jit_above_cost on big schemas)
  func_settings AS (
    SELECT
      p.oid,
      json_agg(json_build_array(
        substr(setting, 1, strpos(setting, '=') - 1),
        substr(setting, strpos(setting, '=') + 1)
      ) ORDER BY ord) as kvs
    FROM pg_proc p, unnest(p.proconfig) WITH ORDINALITY AS _(setting, ord)
    WHERE p.proconfig IS NOT NULL AND p.pronamespace = ANY ((SELECT oids FROM exposed_arr)::oid[])
      AND EXISTS (SELECT 1 FROM hoisted h WHERE setting ~ h.pat)
    GROUP BY p.oid
  ),
  routines AS (
    SELECT
      p.oid,
      pn.nspname AS proc_schema,
      p.proname AS proc_name,
      d.description AS proc_description,
      COALESCE(a.args, '[]'::json) AS args,
      tn.nspname AS rettype_schema,
      COALESCE(comp.relname, t.typname) AS rettype_name,
      p.proretset AS rettype_is_setof,
      (t.typtype = 'c'
       -- if any TABLE, INOUT or OUT arguments present, treat as composite
       or COALESCE(proargmodes::text[] && '{t,b,o}', false)
      ) AS rettype_is_composite,
      t.oid <> rt.oid as rettype_is_composite_alias,
      p.provolatile::text AS volatility,
      p.provariadic > 0 as has_variadic,
      (regexp_split_to_array((regexp_split_to_array(iso_config, '='))[2], ','))[1] AS transaction_isolation_level,
      coalesce(func_settings.kvs, '[]'::json) as settings
    FROM pg_proc p
    LEFT JOIN arguments a ON a.oid = p.oid
    JOIN pg_namespace pn ON pn.oid = p.pronamespace
    -- the return type and its base type, by index from each function: as joins, the generic
    -- plan read all of pg_type (24,278 rows beside 10,000 tables: 4 of the functions' 12 ms)
    CROSS JOIN LATERAL (SELECT rt.oid, bt.base_type
      FROM pg_type rt LEFT JOIN domain_base bt ON bt.oid = rt.oid WHERE rt.oid = p.prorettype OFFSET 0) rt
    CROSS JOIN LATERAL (SELECT t.oid, t.typtype, t.typname, t.typnamespace, t.typrelid
      FROM pg_type t WHERE t.oid = COALESCE(rt.base_type, rt.oid) OFFSET 0) t
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    LEFT JOIN pg_class comp ON comp.oid = t.typrelid
    LEFT JOIN pg_description as d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass
    LEFT JOIN LATERAL unnest(proconfig) iso_config ON iso_config LIKE 'default_transaction_isolation%'
    LEFT JOIN func_settings ON func_settings.oid = p.oid
    WHERE t.oid <> 'trigger'::regtype AND COALESCE(a.callable, true)
    AND prokind = 'f'
    AND p.pronamespace = ANY ((SELECT oids FROM exposed_arr)::oid[])
  ),
  ---------------------------------------------------------------- allComputedRels
  -- PostgREST tests `type IN (SELECT reltype FROM pg_class WHERE relkind IN (...))`, which
  -- hashes every relation; the row type's own pg_class row (typrelid) answers the same.
  computed_rels as (
    select
      (parse_ident(p.pronamespace::regnamespace::text))[1] as function_schema,
      p.proname::text                  as function_name,
      arg_schema.nspname::text         as table_schema,
      arg_name.typname::text           as table_name,
      ret_schema.nspname::text         as foreign_table_schema,
      ret_name.typname::text           as foreign_table_name,
      not p.proretset or p.prorows = 1 as single_row
    from pg_proc p
      join pg_type      arg_name   on arg_name.oid = p.proargtypes[0]
      join pg_class     arg_rel    on arg_rel.oid = arg_name.typrelid and arg_rel.reltype = arg_name.oid
      join pg_namespace arg_schema on arg_schema.oid = arg_name.typnamespace
      join pg_type      ret_name   on ret_name.oid = p.prorettype
      join pg_class     ret_rel    on ret_rel.oid = ret_name.typrelid and ret_rel.reltype = ret_name.oid
      join pg_namespace ret_schema on ret_schema.oid = ret_name.typnamespace
    where
      p.pronargs = 1
      and arg_rel.relkind in ('v','r','m','f','p')
      and ret_rel.relkind in ('v','r','m','f','p')
  ),
  ---------------------------------------------------------------- dataRepresentations
  -- Selects all potential data representation transformations. To qualify the cast must be
  -- 1. to or from a domain
  -- 2. implicit
  -- For the time being it must also be to/from JSON or text.
  representations AS (
    SELECT
      c.castsource::regtype::text AS source_type,
      c.casttarget::regtype::text AS target_type,
      c.castfunc::regproc::text AS function
    FROM
      pg_catalog.pg_cast c
    JOIN pg_catalog.pg_type src_t
      ON c.castsource::oid = src_t.oid
    JOIN pg_catalog.pg_type dst_t
      ON c.casttarget::oid = dst_t.oid
    WHERE
      c.castcontext = 'i'
      AND c.castmethod = 'f'
      AND has_function_privilege(c.castfunc, 'execute')
      AND ((src_t.typtype = 'd' AND c.casttarget IN ('json'::regtype::oid , 'text'::regtype::oid))
       OR (dst_t.typtype = 'd' AND c.castsource IN ('json'::regtype::oid , 'text'::regtype::oid)))
  ),
  ---------------------------------------------------------------- mediaHandlers
  media_types as (
      SELECT
        t.oid,
        lower(t.typname) as typname,
        t.typnamespace,
        case t.typname
          when '*/*' then 'application/octet-stream'
          else t.typname
        end as resolved_media_type
      -- the domains domain_rec found in its scan of pg_type (a second scan took 2 ms)
      FROM (SELECT DISTINCT oid FROM domain_rec) dom
      CROSS JOIN LATERAL (SELECT t.oid, t.typname, t.typnamespace, t.typbasetype
        FROM pg_type t WHERE t.oid = dom.oid OFFSET 0) t
      JOIN pg_type b ON t.typbasetype = b.oid
      WHERE
        t.typbasetype <> 0 and
        (t.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' or t.typname = '*/*')
  ),
  media_handlers AS (
    select
      proc_schema.nspname           as handler_schema,
      proc.proname                  as handler_name,
      arg_schema.nspname::text      as target_schema,
      arg_name.typname::text        as target_name,
      media_types.typname           as media_type,
      media_types.resolved_media_type
    from media_types
      join pg_proc      proc         on proc.prorettype = media_types.oid
      join pg_namespace proc_schema  on proc_schema.oid = proc.pronamespace
      join pg_aggregate agg          on agg.aggfnoid = proc.oid
      join pg_type      arg_name     on arg_name.oid = proc.proargtypes[0]
      join pg_namespace arg_schema   on arg_schema.oid = arg_name.typnamespace
    where
      proc.pronamespace = ANY ((SELECT oids FROM exposed_arr)::oid[]) and
      proc.pronargs = 1 and
      -- a relation's row type (see computed_rels) or anyelement
      (arg_name.typname = 'anyelement' or exists (
        select from pg_class arg_rel
        where arg_rel.oid = arg_name.typrelid and arg_rel.reltype = arg_name.oid
          and arg_rel.relkind in ('v','r','m','f','p')))
    union
    select
        typ_sch.nspname as handler_schema,
        mtype.typname   as handler_name,
        pro_sch.nspname as target_schema,
        proname         as target_name,
        mtype.typname   as media_type,
        mtype.resolved_media_type
    from pg_proc proc
      join pg_namespace pro_sch on pro_sch.oid = proc.pronamespace
      join media_types mtype on proc.prorettype = mtype.oid
      join pg_namespace typ_sch     on typ_sch.oid = mtype.typnamespace
    where
      proc.pronamespace = ANY ((SELECT oids FROM exposed_arr)::oid[]) and NOT proretset
      and prokind = 'f'
  )
  -- Each list aggregates row_to_json(x) of a record x whose columns are the document's keys
  -- (sorting json text is cheaper than sorting records).
  SELECT json_build_object(
    -- the exposed schemas as given (in order), for the Rust side's removeInternal
    'schemas', (SELECT coalesce(json_agg(s ORDER BY ord), '[]'::json)
      FROM params, json_array_elements_text(CASE json_typeof(j) WHEN 'array' THEN j ELSE j->'schemas' END)
        WITH ORDINALITY AS _(s, ord)),
    'tables', CASE WHEN (SELECT tables FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.schema, x.name), '[]'::json)
      FROM tables x) ELSE '[]'::json END,
    -- primary keys of tables outside the exposed schemas: a junction there still makes a
    -- many-to-many (PostgREST reads all tables and drops the internal ones afterwards)
    'internal_pks', CASE WHEN (SELECT relationships FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.schema, x.name), '[]'::json)
      FROM internal_pk_cols tpks JOIN pg_class c ON c.oid = tpks.relid JOIN pg_namespace n ON n.oid = c.relnamespace,
        LATERAL (SELECT tpks.relid::int8 AS relid, n.nspname AS schema, c.relname AS name, tpks.pk_cols) x) ELSE '[]'::json END,
    'm2o_rels', CASE WHEN (SELECT relationships FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY r.ord1, r.constraint_name), '[]'::json)
      FROM m2o_rels r, LATERAL (SELECT r.oid, r.conrelid, r.confrelid, r.table_schema, r.table_name, r.foreign_table_schema,
        r.foreign_table_name, r.is_self, r.constraint_name, r.cols_and_fcols, r.one_to_one) x) ELSE '[]'::json END,
    'views', CASE WHEN (SELECT relationships FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.oid), '[]'::json)
      FROM exposed_views x) ELSE '[]'::json END,
    -- a partial read leaves out what is not read per relation: the functions and the types
    'partial', (SELECT partial FROM only_rels),
    'functions', (SELECT functions FROM only_rels),
    'tables_read', (SELECT tables FROM only_rels),
    'relationships_read', (SELECT relationships FROM only_rels),
    'view_keys', CASE WHEN (SELECT relationships FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.relid, x.con, x.constraint_type), '[]'::json)
      FROM view_keys x) ELSE '[]'::json END,
    -- overloads: by oid, only for a deterministic document (the Rust side sorts them)
    'routines', CASE WHEN (SELECT functions FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY r.proc_schema, r.proc_name, r.oid), '[]'::json)
      FROM routines r, LATERAL (SELECT r.proc_schema AS schema, r.proc_name AS name,
        r.proc_description AS description, r.args AS params, r.rettype_schema, r.rettype_name,
        r.rettype_is_setof, r.rettype_is_composite, r.rettype_is_composite_alias, r.volatility,
        r.has_variadic, r.transaction_isolation_level AS isolation_level, r.settings) x) ELSE '[]'::json END,
    'computed_rels', CASE WHEN (SELECT functions FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY function_schema, function_name, table_schema, table_name), '[]'::json)
      FROM (SELECT *, row(table_schema, table_name) = row(foreign_table_schema, foreign_table_name) AS is_self
        FROM computed_rels) x) ELSE '[]'::json END,
    'representations', CASE WHEN (SELECT functions FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY source_type, target_type), '[]'::json)
      FROM representations x) ELSE '[]'::json END,
    'media_handlers', CASE WHEN (SELECT functions FROM only_rels) THEN (SELECT coalesce(json_agg(row_to_json(x) ORDER BY handler_schema, handler_name, target_schema, target_name, media_type), '[]'::json)
      FROM media_handlers x) ELSE '[]'::json END
  )::text
  ) END,
  set_config('search_path', saved.search_path, true)
])[1] AS schema_cache
FROM (SELECT current_setting('search_path') AS search_path OFFSET 0) AS saved
