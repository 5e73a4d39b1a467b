-- Objects the end-to-end tests need beyond the demo shop.
\set ON_ERROR_STOP on
-- slower than the e2e cluster's statement_timeout (2s)
CREATE VIEW api.slow AS SELECT pg_sleep(5)::text AS slept;
-- sleeps 1 s: long enough to be seen in pg_stat_activity and to be interrupted
CREATE VIEW api.sleepy AS SELECT pg_sleep(1)::text AS slept;
CREATE TABLE api.texts (id int PRIMARY KEY, body text, note text);
INSERT INTO api.texts VALUES (1, 'Hello World', null), (2, 'hello there', 'x'), (3, 'Bye', null),
  (4, 'quote "this", please', 'y');
GRANT SELECT ON api.slow, api.sleepy, api.texts TO web_anon;

-- writes (pgrx-tests/tests/write.rs): amounts must be positive, so a bad row fails a batch
CREATE TABLE api.ledger (id int PRIMARY KEY, amount int NOT NULL CHECK (amount > 0), note text DEFAULT 'none');
GRANT SELECT, INSERT, UPDATE, DELETE ON api.ledger TO web_anon;

-- rpc (pgrx-tests/tests/rpc.rs)
CREATE TABLE api.visits (id serial PRIMARY KEY, note text);
GRANT SELECT, INSERT ON api.visits TO web_anon;
GRANT USAGE ON SEQUENCE api.visits_id_seq TO web_anon;
CREATE FUNCTION api.record_visit(note text) RETURNS int LANGUAGE sql VOLATILE
  AS $$ INSERT INTO api.visits (note) VALUES (note) RETURNING id $$;
CREATE FUNCTION api.products_under(max_price numeric) RETURNS SETOF api.products LANGUAGE sql STABLE
  AS $$ SELECT * FROM api.products WHERE price < max_price $$;
CREATE FUNCTION api.sum_all(VARIADIC nums int[]) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$ SELECT sum(n)::int FROM unnest(nums) n $$;
-- the timeout only bites if it is set before the call (db-hoisted-tx-settings)
CREATE FUNCTION api.hurried() RETURNS text LANGUAGE sql SET statement_timeout = '100ms'
  AS $$ SELECT pg_sleep(0.5)::text $$;
CREATE FUNCTION api.noop() RETURNS void LANGUAGE sql AS $$ $$;
-- graceful shutdown (reliability.rs): writes, then outlasts the front's drain (5 s)
CREATE FUNCTION api.write_and_linger(note text) RETURNS int LANGUAGE sql VOLATILE SET statement_timeout = '0'
  AS $$ INSERT INTO api.visits (note) VALUES (note); SELECT pg_sleep(8); SELECT 1 $$;
CREATE FUNCTION api.echo_json(json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;

-- auth (pgrx-tests/tests/auth.rs): a JWT with role shop_user switches to it, and row level
-- security shows each user (the `sub` claim) only their own notes; web_anon may not read them
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shop_user') THEN CREATE ROLE shop_user NOLOGIN; END IF;
END $$;
GRANT shop_user TO authenticator;
GRANT USAGE ON SCHEMA api TO shop_user;
CREATE TABLE api.notes (id int PRIMARY KEY, owner text NOT NULL, body text);
INSERT INTO api.notes VALUES (1, 'alice', 'first of alice'), (2, 'bob', 'only of bob'), (3, 'alice', 'second of alice');
ALTER TABLE api.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON api.notes TO shop_user
  USING (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
GRANT SELECT ON api.notes TO shop_user;
CREATE FUNCTION api.whoami() RETURNS json LANGUAGE sql STABLE
  AS $$ SELECT json_build_object('user', current_user, 'claims', current_setting('request.jwt.claims', true)::json) $$;
GRANT EXECUTE ON FUNCTION api.whoami() TO web_anon, shop_user;

-- media handlers (pgrx-tests/tests/media.rs): a `*/*` aggregate serves a table's bytea
-- column raw, a media-type aggregate gives a table its own text format, and a function
-- returning a media-type domain over bytea answers with its bytes
CREATE TABLE api.files (id int PRIMARY KEY, name text, content bytea);
INSERT INTO api.files VALUES (1, 'bin', '\x00ff8041'::bytea), (2, 'text', convert_to('hé', 'UTF8'));
GRANT SELECT ON api.files TO web_anon;
CREATE DOMAIN api."*/*" AS bytea;
CREATE FUNCTION api.files_trans(state api."*/*", next api.files) RETURNS api."*/*" LANGUAGE sql
  AS $$ SELECT (state || next.content)::api."*/*" $$;
CREATE AGGREGATE api.files_agg(api.files) (initcond = '', stype = api."*/*", sfunc = api.files_trans);
CREATE DOMAIN api."text/tab-separated-values" AS text;
CREATE FUNCTION api.tsv_trans(state api."text/tab-separated-values", next api.texts)
  RETURNS api."text/tab-separated-values" LANGUAGE sql
  AS $$ SELECT (state || next.id::text || E'\t' || next.body || E'\n')::api."text/tab-separated-values" $$;
CREATE AGGREGATE api.tsv_agg(api.texts) (initcond = '', stype = api."text/tab-separated-values", sfunc = api.tsv_trans);
CREATE DOMAIN api."image/x-pixel" AS bytea;
CREATE FUNCTION api.pixel() RETURNS api."image/x-pixel" LANGUAGE sql IMMUTABLE
  AS $$ SELECT '\x89504e470d0a1a0a00'::bytea::api."image/x-pixel" $$;

-- official clients (pgrx-tests/clients/, scripts/clients.sh): postgrest-js and postgrest-py
-- write to a table of their own (ids 1000-1999 from JS, 2000-2999 from Python); `sku` is a
-- unique non-key column for upserts with on_conflict
CREATE TABLE api.client_items (
  id   int PRIMARY KEY,
  sku  text NOT NULL UNIQUE,
  name text NOT NULL,
  qty  int NOT NULL DEFAULT 0 CHECK (qty >= 0)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.client_items TO web_anon;
-- an array (not variadic) argument: postgrest-js sends it by GET as ?nums={4,5}
CREATE FUNCTION api.array_sum(nums int[]) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(sum(n), 0)::int FROM unnest(nums) n $$;

-- adversarial HTTP (pgrx-tests/tests/adversarial.rs): a response of several megabytes, for
-- a client that goes away while it is being sent
CREATE VIEW api.big AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 20000) g;
GRANT SELECT ON api.big TO web_anon;

-- SQL injection (pgrx-tests/tests/injection.rs): canaries that must survive every payload
-- unchanged (one exposed read-only, one in a schema the API does not expose), a table the
-- anonymous role may write, and a function taking text and int arguments
CREATE TABLE api.canary (id int PRIMARY KEY, secret text NOT NULL);
INSERT INTO api.canary VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma');
GRANT SELECT ON api.canary TO web_anon;
CREATE SCHEMA canary_private;
CREATE TABLE canary_private.canary (id int PRIMARY KEY, secret text NOT NULL);
INSERT INTO canary_private.canary VALUES (1, 'hidden');
CREATE TABLE api.inj_target (id int PRIMARY KEY, name text, note text);
INSERT INTO api.inj_target VALUES (1, 'one', null), (2, 'two', 'x');
GRANT SELECT, INSERT, UPDATE, DELETE ON api.inj_target TO web_anon;
CREATE FUNCTION api.inj_echo(a text, b int DEFAULT 0) RETURNS json LANGUAGE sql STABLE
  AS $$ SELECT json_build_object('a', a, 'b', b) $$;
GRANT EXECUTE ON FUNCTION api.inj_echo(text, int) TO web_anon;
CREATE FUNCTION api.inj_settings() RETURNS json LANGUAGE sql STABLE
  AS $$ SELECT json_build_object('headers', current_setting('request.headers', true)::json,
                                 'cookies', current_setting('request.cookies', true)::json,
                                 'tz', current_setting('timezone')) $$;
GRANT EXECUTE ON FUNCTION api.inj_settings() TO web_anon;

-- a second schema (pgrx-tests/tests/profiles.rs exposes it for a while): writes and calls
-- negotiated by Content-Profile
CREATE SCHEMA e2e_v2;
GRANT USAGE ON SCHEMA e2e_v2 TO web_anon;
CREATE TABLE e2e_v2.notes (id int PRIMARY KEY, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON e2e_v2.notes TO web_anon;
CREATE FUNCTION e2e_v2.shout(msg text) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT upper(msg) $$;
GRANT EXECUTE ON FUNCTION e2e_v2.shout(text) TO web_anon;

-- hoisted function settings together with Prefer: timezone (pgrx-tests/tests/rpc.rs)
CREATE FUNCTION api.zone_in_a_hurry() RETURNS text LANGUAGE sql STABLE SET statement_timeout = '1500ms'
  AS $$ SELECT current_setting('timezone') $$;
GRANT EXECUTE ON FUNCTION api.zone_in_a_hurry() TO web_anon;

-- kept plans (pgrx-tests/tests/compat.rs): PostgREST's PreparedStatementsSpec looks in
-- pg_prepared_statements, where SPI's kept plans never show; the serving backend's memory
-- contexts do (one CachedPlanSource per kept statement, named by its SQL text). Reading them
-- takes pg_read_all_stats, hence SECURITY DEFINER.
CREATE FUNCTION api.uses_prepared_statements() RETURNS bool LANGUAGE sql
  AS $$ SELECT count(*) > 0 FROM pg_catalog.pg_prepared_statements $$;
CREATE FUNCTION api.kept_plans_naming(fragment text) RETURNS int LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$ SELECT count(*)::int FROM pg_backend_memory_contexts
        WHERE name = 'CachedPlanSource' AND strpos(ident, fragment) > 0 $$;
GRANT EXECUTE ON FUNCTION api.uses_prepared_statements(), api.kept_plans_naming(text) TO web_anon;

-- concurrency (pgrx-tests/tests/concurrency.rs): a call that takes as long as asked
CREATE FUNCTION api.nap(seconds float8) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_sleep(seconds)::text $$;
GRANT EXECUTE ON FUNCTION api.nap(float8) TO web_anon;
-- the same, called by one test only: no job of its endpoints has ended before it
CREATE FUNCTION api.first_nap(seconds float8) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_sleep(seconds)::text $$;
GRANT EXECUTE ON FUNCTION api.first_nap(float8) TO web_anon;

-- memory bounds (pgrx-tests/tests/memory.rs): large bodies stored and read back, and a call
-- that holds its body for a while
CREATE TABLE api.blobs (id int PRIMARY KEY, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.blobs TO web_anon;
CREATE FUNCTION api.hold(payload text, seconds float8) RETURNS int LANGUAGE sql VOLATILE
  AS $$ SELECT pg_sleep(seconds); SELECT length(payload) $$;
GRANT EXECUTE ON FUNCTION api.hold(text, float8) TO web_anon;
