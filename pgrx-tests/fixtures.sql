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
