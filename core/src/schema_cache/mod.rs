//! The schema cache (port of `PostgREST.SchemaCache` and its submodules): the tables,
//! columns, relationships, functions and media handlers of the exposed schemas, which the
//! planner resolves requests against. The extension's executors run [`CATALOG_QUERY`]
//! through SPI (one row, one text column: a JSON document; a full read in two halves, see
//! [`Parts`]) and read the views' rules' target lists from PostgreSQL's relation cache, and
//! the front hands both to [`SchemaCache::read`], which decodes them and derives the
//! relationships the way PostgREST does after its own catalog queries. Saved fixtures keep
//! the rules as text (`view_rules.sql`), which [`rule_targets`] reduces to the same lists.

mod derive;
mod document;
mod fx_hash;
pub mod identifiers;
pub mod relationship;
pub mod routine;
mod rows;
pub mod table;

#[cfg(test)]
mod tests;
mod view_deps;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use derive::{KeyDep, ViewKeyDependency};
pub use identifiers::{to_qi, QualifiedIdentifier, RelIdentifier};
pub use relationship::{Cardinality, ColumnPairs, Junction, Name, Relationship, SharedIdentifier};
pub use routine::{
    DataRepresentation, FuncVolatility, IsolationLevel, MediaHandler, PgType, ResolvedHandler, RetType, Routine, RoutineParam,
};
pub use rows::{CatalogRows, NeedsFullRead};
pub use table::{Column, Table};

pub use view_deps::TargetEntry;

/// The target list of each rule (view oid, entries): all the schema cache needs of the views'
/// rules (the first query of each rule's action, as PostgREST's `allViewsKeyDependencies`
/// reads it).
pub type RuleTargets = Vec<(u32, Vec<TargetEntry>)>;

/// Each rule's target list (`view_deps::target_list`) from (view oid, rule text) rows, as
/// `view_rules.sql` reads them for saved fixtures.
pub fn rule_targets<'a>(rules: impl IntoIterator<Item = (u32, &'a [u8])>) -> RuleTargets {
    rules.into_iter().map(|(view, tree)| (view, view_deps::target_list(tree))).collect()
}

/// The catalog query. `$1` (text) is the JSON built by [`catalog_param`]; the result is one
/// row with one text column holding the document [`SchemaCache::from_catalog`] reads.
pub const CATALOG_QUERY: &str = include_str!("catalog.sql");

/// Run before a full read with the same `$1`: one row of three text columns, the `$1` of a
/// full read by index ([`partial_catalog_query`] with `"whole": true`) when the exposed
/// relations are a small part of the database's, else NULL (read with [`CATALOG_QUERY`]);
/// every relation of the exposed schemas and db-extra-search-path, as an array
/// (`{16384,16390}`); and the views among them, whose rules are read.
pub const CATALOG_RELATIONS_QUERY: &str = include_str!("catalog_relations.sql");

/// [`CATALOG_QUERY`] for a partial read (`rows`): with its `--partial` lines in, which keep
/// what mentions the "relations" of `$1` (see [`catalog_param`]).
pub fn partial_catalog_query() -> &'static str {
    static QUERY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    QUERY.get_or_init(|| with_partial_lines(CATALOG_QUERY))
}

/// A query's partial form: its lines that start with `--partial` are in.
fn with_partial_lines(query: &str) -> String {
    query.lines().map(|l| l.strip_prefix("--partial").unwrap_or(l)).collect::<Vec<_>>().join("\n")
}

/// PostgREST's `maxDbTablesForFuzzySearch`: no "Perhaps you meant" hint for bigger schemas.
pub const MAX_DB_TABLES_FOR_FUZZY_SEARCH: usize = 500;

/// Relationships keyed by (source table, schema of the target) -- PostgREST's `RelationshipsMap`.
pub type RelationshipsMap = HashMap<(QualifiedIdentifier, String), Vec<Relationship>>;
/// Overloads of one function, fewest parameters first -- PostgREST's `RoutineMap`.
pub type RoutineMap = HashMap<QualifiedIdentifier, Vec<Routine>>;
/// (target relation, media type) -> handler -- PostgREST's `MediaHandlerMap`.
pub type MediaHandlerMap = HashMap<(RelIdentifier, String), ResolvedHandler>;
/// (source type, target type) -> representation -- PostgREST's `RepresentationsMap`.
pub type RepresentationsMap = HashMap<(String, String), DataRepresentation>;

/// What a read of the catalogs reads (catalog.sql's "tables", "relationships" and
/// "functions"): a full read comes in two halves that two executors read at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// the relations and their columns
    pub tables: bool,
    /// the rows relationships are derived from: foreign keys, the views' columns, the keys of
    /// the tables views read, the junctions' primary keys
    pub relationships: bool,
    /// the functions, types, representations and media handlers
    pub functions: bool,
}

impl Parts {
    /// A full read's first half; its executor reads the views' rules too (having opened the
    /// views for their updatability, it has them parsed).
    pub const TABLES: Parts = Parts { tables: true, relationships: false, functions: false };
    /// A full read's other half.
    pub const RELATIONSHIPS_AND_FUNCTIONS: Parts = Parts { tables: false, relationships: true, functions: true };

    /// A partial read of relations: everything about them, the functions too if they changed.
    pub fn relations(functions: bool) -> Parts {
        Parts { tables: true, relationships: true, functions }
    }
}

/// The value of `$1` for [`CATALOG_QUERY`]: exposed schemas (db-schemas), db-extra-search-path
/// (views there are followed when looking for keys exposed by views) and
/// db-hoisted-tx-settings (regexes selecting which `proconfig` settings are kept), for a
/// partial read the relations to read (oids), and the [`Parts`] to read.
pub fn catalog_param(
    schemas: &[String],
    extra_search_path: &[String],
    hoisted_tx_settings: &[String],
    relations: Option<&[u32]>,
    parts: Parts,
) -> String {
    let mut param = serde_json::json!({
        "schemas": schemas,
        "extra_search_path": extra_search_path,
        "hoisted_tx_settings": hoisted_tx_settings,
        "tables": parts.tables,
        "relationships": parts.relationships,
        "functions": parts.functions,
    });
    if let Some(relations) = relations {
        param["relations"] = relations.into();
    }
    param.to_string()
}

#[derive(Debug, Clone, Default)]
pub struct SchemaCache {
    /// The exposed schemas, in configuration order.
    pub schemas: Vec<String>,
    /// Relations of the exposed schemas, sorted by (schema, name).
    /// Shared with the cache an update came from, where they did not change.
    pub tables: BTreeMap<QualifiedIdentifier, Arc<Table>>,
    pub relationships: RelationshipsMap,
    pub routines: RoutineMap,
    pub representations: RepresentationsMap,
    pub media_handlers: MediaHandlerMap,
}

impl SchemaCache {
    /// Decode the catalog query's document and the views' rules' target lists and derive
    /// relationships as PostgREST's `querySchemaCache` does.
    pub fn from_catalog(doc: &str, rules: RuleTargets) -> Result<SchemaCache, String> {
        SchemaCache::read(&[doc], rules).map(|(cache, _)| cache)
    }

    /// [`SchemaCache::from_catalog`] of a full read that came in parts (each document read
    /// some of the parts: see [`catalog_param`]), and the rows it was derived from, for
    /// [`SchemaCache::update`].
    pub fn read(docs: &[&str], rules: RuleTargets) -> Result<(SchemaCache, CatalogRows), String> {
        let decode = |doc| serde_json::from_str::<document::CatalogDoc>(doc).map_err(|e| format!("invalid schema cache document: {e}"));
        let (first, rest) = docs.split_first().ok_or("no schema cache document")?;
        let mut doc = decode(first)?;
        for other in rest {
            doc.merge(decode(other)?)?;
        }
        if !doc.is_whole() {
            return Err("the catalogs were not all read".into());
        }
        let rows = CatalogRows::take(&mut doc, rules);
        let tables = std::mem::take(&mut doc.tables)
            .into_iter()
            .map(|t| (QualifiedIdentifier::new(t.schema.clone(), t.name.clone()), Arc::new(t)))
            .collect();
        let Functions { routines, representations, media_handlers } = Functions::take(&mut doc);
        let schemas = std::mem::take(&mut doc.schemas);
        let cache = SchemaCache { schemas, tables, relationships: HashMap::new(), routines, representations, media_handlers };
        Ok((cache.derive(&rows), rows))
    }

    /// The schema cache after a partial read (`doc`, `rules`) of the `changed` relations (and
    /// of the functions, if it read them): `Ok(None)` when none of them changed (a statistics
    /// update, an invalidation another read already took in, a function of another schema).
    /// `rows` are the rows this cache was derived from; they are updated in place.
    pub fn update(
        &self,
        rows: &mut CatalogRows,
        changed: &[u32],
        doc: &str,
        rules: RuleTargets,
    ) -> Result<Option<SchemaCache>, NeedsFullRead> {
        let mut doc: document::CatalogDoc = serde_json::from_str(doc).map_err(|e| NeedsFullRead::Invalid(e.to_string()))?;
        if !doc.partial {
            return Err(NeedsFullRead::NotPartial);
        }
        // the functions' part, when it was read and differs from this cache's
        let functions = if doc.read_functions() {
            let computed = std::mem::take(&mut doc.computed_rels);
            let read = Functions::take(&mut doc);
            let same = read.routines == self.routines
                && read.representations == self.representations
                && read.media_handlers == self.media_handlers
                && computed == rows.computed_rels;
            (!same).then_some((read, computed))
        } else {
            None
        };
        if functions.is_none() && !rows.differs(changed, &doc, &rules, &self.tables) {
            return Ok(None);
        }
        let mut tables = self.tables.clone();
        rows.apply(changed, doc, rules, &mut tables)?;
        let Functions { routines, representations, media_handlers } = match functions {
            Some((read, computed)) => {
                rows.computed_rels = computed;
                read
            }
            None => Functions {
                routines: self.routines.clone(),
                representations: self.representations.clone(),
                media_handlers: self.media_handlers.clone(),
            },
        };
        let cache =
            SchemaCache { schemas: self.schemas.clone(), tables, relationships: HashMap::new(), routines, representations, media_handlers };
        Ok(Some(cache.derive(rows)))
    }

    /// The relationships (and views' primary keys) from the tables and `rows`, as PostgREST's
    /// `querySchemaCache` derives them.
    fn derive(mut self, rows: &CatalogRows) -> SchemaCache {
        let rules = rows.rule_list();
        let key_deps: Vec<ViewKeyDependency> = view_deps::key_dependencies(rows.views.values(), &rules, rows.view_keys.values());
        derive::add_view_primary_keys(&mut self.tables, &key_deps);

        let m2o: Vec<Relationship> = rows.m2o.values().map(|r| r.to_relationship()).collect();
        // m2m derivation needs the primary keys of junctions in non-exposed schemas too
        let internal_pks: Vec<(QualifiedIdentifier, Vec<String>)> = rows
            .internal_pks
            .values()
            .map(|pk| (QualifiedIdentifier::new(pk.schema.clone(), pk.name.clone()), pk.pk_cols.clone()))
            .collect();
        let pks = derive::PrimaryKeys::new(&self.tables, &internal_pks);
        let rels = derive::add_inverse_rels(derive::add_m2m_rels(&pks, derive::add_view_m2o_and_o2o_rels(&key_deps, m2o)));
        let computed: Vec<Relationship> = rows.computed_rels.iter().map(|r| r.to_relationship()).collect();
        self.relationships = derive::remove_internal_relationships(derive::override_relationships_map(rels, computed), &self.schemas);
        self
    }

    /// A document and its view rules saved as JSON (`[[view oid, rule text], ...]`), as
    /// `scripts/schema_fixture.sh` and `scripts/bench/schema/run_query.sh` write them.
    #[doc(hidden)]
    pub fn from_saved(doc: &str, rules: &str) -> Result<SchemaCache, String> {
        let rules: Vec<(u32, String)> = serde_json::from_str(rules).map_err(|e| format!("invalid view rules: {e}"))?;
        SchemaCache::from_catalog(doc, rule_targets(rules.iter().map(|(view, tree)| (*view, tree.as_bytes()))))
    }

    /// PostgREST's fixture schema (db-schemas = "test", `testdata/`), for tests and fuzzing.
    #[doc(hidden)]
    pub fn fixture() -> SchemaCache {
        SchemaCache::from_saved(include_str!("testdata/fixtures_test.json"), include_str!("testdata/fixtures_test_rules.json"))
            .unwrap_or_else(|e| panic!("the fixture does not load: {e}"))
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.get(&QualifiedIdentifier::new(schema, name)).map(|t| &**t)
    }

    /// Relationships from `table` to relations (or computed relationships) of `schema`, in
    /// PostgREST's order.
    pub fn relationships(&self, table: &QualifiedIdentifier, schema: &str) -> &[Relationship] {
        self.relationships.get(&(table.clone(), schema.to_string())).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The overloads of a function, fewest parameters first.
    pub fn routines(&self, qi: &QualifiedIdentifier) -> &[Routine] {
        self.routines.get(qi).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Names of the relations of `schema`, sorted.
    pub fn table_names<'a>(&'a self, schema: &str) -> impl Iterator<Item = &'a str> + 'a {
        let schema = schema.to_string(); // owned, so the names only borrow from self
        self.tables.iter().filter(move |(qi, _)| qi.schema == schema).map(|(qi, _)| qi.name.as_str())
    }

    /// The candidates for the "Perhaps you meant the table" hint: like PostgREST's fuzzy index,
    /// none for schemas with [`MAX_DB_TABLES_FOR_FUZZY_SEARCH`] relations or more.
    pub fn fuzzy_table_candidates(&self, schema: &str) -> Option<Vec<&str>> {
        let names: Vec<&str> = self.table_names(schema).collect();
        (!names.is_empty() && names.len() < MAX_DB_TABLES_FOR_FUZZY_SEARCH).then_some(names)
    }

    /// The handler for `media_type` (lowercase, e.g. `text/csv`) on `rel`.
    pub fn media_handler(&self, rel: &RelIdentifier, media_type: &str) -> Option<&ResolvedHandler> {
        self.media_handlers.get(&(rel.clone(), media_type.to_string()))
    }

    /// The representation (cast function) from `source` type to `target` type, if any.
    pub fn representation(&self, source: &str, target: &str) -> Option<&DataRepresentation> {
        // asked for every column of a `select=*`: most schemas have none, so no key is built
        if self.representations.is_empty() {
            return None;
        }
        self.representations.get(&(source.to_string(), target.to_string()))
    }

    /// PostgREST's `showSummary`, for the "Schema cache loaded" log line.
    pub fn summary(&self) -> String {
        format!(
            "{} Relations, {} Relationships, {} RPCs, {} Domain Representations, {} Media Type Handlers",
            self.tables.len(),
            self.relationships.len(),
            self.routines.len(),
            self.representations.len(),
            self.media_handlers.len()
        )
    }
}

/// What a read gives of the functions and types (the computed relationships are `CatalogRows`').
struct Functions {
    routines: RoutineMap,
    representations: RepresentationsMap,
    media_handlers: MediaHandlerMap,
}

impl Functions {
    /// The document's functions, representations and media handlers, taken out of it.
    fn take(doc: &mut document::CatalogDoc) -> Functions {
        let mut routines: RoutineMap = HashMap::new();
        for r in std::mem::take(&mut doc.routines) {
            let r = r.into_routine();
            routines.entry(r.qi()).or_default().push(r);
        }
        for overloads in routines.values_mut() {
            overloads.sort();
        }
        let representations =
            std::mem::take(&mut doc.representations).into_iter().map(|r| ((r.source_type.clone(), r.target_type.clone()), r)).collect();
        // Custom handlers override the builtin ones (HM.union mHdlers initialMediaHandlers).
        let mut media_handlers = initial_media_handlers();
        media_handlers.extend(std::mem::take(&mut doc.media_handlers).into_iter().map(|h| h.into_entry()));
        Functions { routines, representations, media_handlers }
    }
}

/// PostgREST's `initialMediaHandlers`: the overridable builtin aggregates for any relation.
fn initial_media_handlers() -> MediaHandlerMap {
    let json = "application/json".to_string();
    HashMap::from([
        ((RelIdentifier::RelAnyElement, "*/*".to_string()), (MediaHandler::BuiltinOvAggJson, json.clone())),
        ((RelIdentifier::RelAnyElement, json.clone()), (MediaHandler::BuiltinOvAggJson, json)),
        ((RelIdentifier::RelAnyElement, "text/csv".to_string()), (MediaHandler::BuiltinOvAggCsv, "text/csv".to_string())),
        (
            (RelIdentifier::RelAnyElement, "application/geo+json".to_string()),
            (MediaHandler::BuiltinOvAggGeoJson, "application/geo+json".to_string()),
        ),
    ])
}
