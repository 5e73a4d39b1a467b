-- The demo shop served by `make run`: schema `api`, anonymous role `web_anon`,
-- authenticator `authenticator` (the role the workers log in as; not a superuser).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'web_anon') THEN CREATE ROLE web_anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF;
END $$;
GRANT web_anon TO authenticator;

DROP SCHEMA IF EXISTS api CASCADE;
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon;

CREATE TABLE api.categories (
  id   int PRIMARY KEY,
  name text NOT NULL UNIQUE
);

CREATE TABLE api.products (
  id          int PRIMARY KEY,
  name        text NOT NULL,
  price       numeric(10,2) NOT NULL CHECK (price >= 0),
  category_id int REFERENCES api.categories(id),
  tags        text[] NOT NULL DEFAULT '{}',
  details     jsonb
);

CREATE TABLE api.customers (
  id    int PRIMARY KEY,
  name  text NOT NULL,
  email text NOT NULL UNIQUE,
  city  text
);

CREATE TABLE api.orders (
  id          int PRIMARY KEY,
  customer_id int NOT NULL REFERENCES api.customers(id),
  placed_at   timestamptz NOT NULL DEFAULT now(),
  status      text NOT NULL DEFAULT 'new'
);

CREATE TABLE api.order_items (
  order_id   int REFERENCES api.orders(id),
  product_id int REFERENCES api.products(id),
  quantity   int NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);

INSERT INTO api.categories VALUES (1, 'books'), (2, 'games'), (3, 'tools');
INSERT INTO api.products VALUES
  (1, 'Atlas',        25.00, 1, '{paper,maps}',   '{"pages": 320}'),
  (2, 'Chess set',    40.00, 2, '{wood}',         '{"pieces": 32}'),
  (3, 'Dice',          4.50, 2, '{}',             null),
  (4, 'Hammer',       12.90, 3, '{steel}',        '{"weight_g": 600}'),
  (5, 'Novel',         9.99, 1, '{paper}',        '{"pages": 210}'),
  (6, 'Screwdriver',   7.25, 3, '{steel,set}',    null);
INSERT INTO api.customers VALUES
  (1, 'Ada',   'ada@example.com',   'London'),
  (2, 'Grace', 'grace@example.com', 'New York'),
  (3, 'Linus', 'linus@example.com', 'Helsinki');
INSERT INTO api.orders (id, customer_id, placed_at, status) VALUES
  (1, 1, '2026-01-10 10:00+00', 'shipped'),
  (2, 1, '2026-02-01 12:30+00', 'new'),
  (3, 2, '2026-02-03 08:15+00', 'shipped');
INSERT INTO api.order_items VALUES (1, 1, 1), (1, 3, 2), (2, 4, 1), (3, 2, 1), (3, 5, 3);

-- a view
CREATE VIEW api.product_catalog AS
  SELECT p.id, p.name, p.price, c.name AS category
  FROM api.products p LEFT JOIN api.categories c ON c.id = p.category_id;

-- a function
CREATE FUNCTION api.order_total(order_id int) RETURNS numeric
  LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(oi.quantity * p.price), 0)
    FROM api.order_items oi JOIN api.products p ON p.id = oi.product_id
    WHERE oi.order_id = $1
  $$;

-- row-level security: anonymous visitors see only shipped orders
ALTER TABLE api.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY shipped_orders_are_public ON api.orders FOR SELECT TO web_anon USING (status = 'shipped');

GRANT SELECT ON ALL TABLES IN SCHEMA api TO web_anon;
GRANT EXECUTE ON FUNCTION api.order_total(int) TO web_anon;
