//! postgrest-core: everything in postgrest_ext that does not touch PostgreSQL.
//!
//! One folder per phase of a request, as PostgREST's `App.hs` runs them:
//! `request` (HTTP → ApiRequest) → `plan` (ApiRequest + SchemaCache → plan) →
//! `sql` (plan → SQL text + `$n` parameters) → `response` (query result → HTTP).
//! The extension (`src/`) executes the SQL and moves bytes; it holds no API logic.

pub mod app;
pub mod auth;
pub mod budget;
pub mod config;
pub mod error;
pub mod http;
pub mod idle_gaps;
pub mod openapi;
pub mod plan;
pub mod request;
pub mod response;
pub mod schema_cache;
pub mod sql;
pub mod text;
pub mod wire;
