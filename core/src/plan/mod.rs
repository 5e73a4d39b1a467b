//! ApiRequest + SchemaCache → plans (PostgREST's `Plan.hs`): which relation, which
//! columns, filters, order and range, checked against the schema cache.

pub mod call_plan;
pub mod fuzzy;
pub mod mutate_plan;
pub mod negotiate;
pub mod read;
pub mod read_plan;
pub mod relationship;

use crate::config::Config;
use crate::error::Error;
use crate::request::ApiRequest;
use crate::schema_cache::{QualifiedIdentifier, SchemaCache, Table};
use read_plan::ReadPlan;

/// Find the table or view `name` in the request's schema, or PGRST205 with a suggestion
/// (PostgREST's fuzzy match with a 0.75 minimum score; none in very large schemas).
pub fn find_table<'a>(cache: &'a SchemaCache, schema: &str, name: &str) -> Result<&'a Table, Error> {
    cache.table(schema, name).ok_or_else(|| Error::TableNotFound {
        schema: schema.to_string(),
        table: name.to_string(),
        suggestion: cache.fuzzy_table_candidates(schema).and_then(|names| fuzzy::best(name, &names, 0.75).map(String::from)),
    })
}

/// Build the read plan of `GET /<table>`.
pub fn read_plan(config: &Config, cache: &SchemaCache, api: &ApiRequest, table_name: &str) -> Result<ReadPlan, Error> {
    let table = find_table(cache, &api.schema, table_name)?;
    let qi = QualifiedIdentifier { schema: table.schema.clone(), name: table.name.clone() };
    read::read_plan(config, cache, api, &qi, read::ReadKind::Relation)
}
