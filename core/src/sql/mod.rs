//! Plans → SQL text + `$n` parameters (PostgREST's `Query/QueryBuilder.hs` and
//! `Query/Statements.hs`). The result JSON is built in SQL, as PostgREST does.

pub mod call;
pub mod fragment;
pub mod handler;
pub mod mutate;
pub mod read;

use crate::text::Text;

/// One statement to run: SQL text and its text parameters (None = NULL). A parameter made
/// from the request body shares its buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Option<Text>>,
}
