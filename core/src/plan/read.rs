//! Building the ReadPlan tree (PostgREST's `readPlan` in `Plan.hs`), in its stages:
//! init from `select` → filters, orders, ranges, logic trees on their nodes → relationships
//! and aliases → star expansion → aliases → related orders → null-embed filters → the
//! parent's view of each child → aggregate checks and hoisting → to-many spread orders →
//! db-max-rows.

use super::read_plan::*;
use super::relationship::{find_rel, join_conditions};
use crate::config::Config;
use crate::error::Error;
use crate::request::range::NonnegRange;
use crate::request::types::{AggregateFunction, Field, Filter, IsVal, LogicTree, OpExpr, Operation, OrderTerm, SelectItem};
use crate::request::ApiRequest;
use crate::schema_cache::{QualifiedIdentifier, Relationship, SchemaCache, Table};

/// What the fields of one node are resolved against (PostgREST's `ResolverContext`).
pub struct Resolver<'a> {
    pub cache: &'a SchemaCache,
    pub qi: QualifiedIdentifier,
}

impl Resolver<'_> {
    fn table(&self) -> Option<&Table> {
        self.cache.table(&self.qi.schema, &self.qi.name)
    }

    /// PostgREST's `resolveTypeOrUnknown`.
    fn resolve(&self, field: &Field, to_tsvector: Option<Option<String>>) -> CoercibleField {
        let (name, path) = field;
        let mut cf = match self.table().and_then(|t| t.column(name)) {
            Some(col) => CoercibleField {
                name: name.clone(),
                ir_type: col.nominal_type.clone(),
                base_type: col.data_type.clone(),
                default: col.default.clone(),
                to_tsvector,
                ..Default::default()
            },
            // full-text search converts known columns only (an unknown name may be a computed
            // column already returning tsvector)
            None => CoercibleField { name: name.clone(), ..Default::default() },
        };
        cf.json_path = path.clone();
        if cf.ir_type == "json" || cf.ir_type == "jsonb" {
            cf.to_json = false;
        } else if cf.base_type == "tsvector" {
            cf.to_json = true;
            cf.to_tsvector = None;
        } else {
            cf.to_json = true;
        }
        cf
    }

    /// A data representation from `source` to `target`, if one is defined.
    fn with_transformer(&self, source: &str, target: &str, mut cf: CoercibleField) -> CoercibleField {
        if let Some(rep) = self.cache.representation(source, target) {
            cf.ir_type = source.to_string();
            cf.transform = Some(rep.function.clone());
        }
        cf
    }

    /// A field in the output (mapped to json by a representation, if any).
    pub fn output_field(&self, field: &Field) -> CoercibleField {
        let cf = self.resolve(field, None);
        let ir = cf.ir_type.clone();
        self.with_transformer(&ir, "json", cf)
    }

    /// A field compared with a query-string value (text parsed by a representation, if any).
    pub fn query_input_field(&self, field: &Field, op: &OpExpr) -> CoercibleField {
        let tsv = match op {
            OpExpr::Op(_, Operation::Fts(_, lang, _)) => Some(lang.clone()),
            _ => None,
        };
        let cf = self.resolve(field, tsv);
        let ir = cf.ir_type.clone();
        self.with_transformer("text", &ir, cf)
    }

    fn filter(&self, f: &Filter) -> CoercibleFilter {
        CoercibleFilter::Filter { field: self.query_input_field(&f.field, &f.op_expr), op_expr: f.op_expr.clone() }
    }

    fn logic(&self, t: &LogicTree) -> CoercibleLogicTree {
        match t {
            LogicTree::Stmnt(f) => CoercibleLogicTree::Stmnt(self.filter(f)),
            LogicTree::Expr(n, op, ts) => CoercibleLogicTree::Expr(*n, *op, ts.iter().map(|t| self.logic(t)).collect()),
        }
    }

    fn order(&self, t: &OrderTerm) -> CoercibleOrderTerm {
        match t {
            OrderTerm::Field { field, direction, nulls } => {
                CoercibleOrderTerm::Field { field: self.resolve(field, None), direction: *direction, nulls: *nulls }
            }
            OrderTerm::Relation { relation, field, direction, nulls } => {
                CoercibleOrderTerm::Relation { relation: relation.clone(), field: field.clone(), direction: *direction, nulls: *nulls }
            }
        }
    }
}

/// What the read plan reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadKind {
    /// `GET /table`: the table itself
    Relation,
    /// the rows a write returned (the `pgrst_source` CTE, aliased as the table); root filters,
    /// ranges and db-max-rows belong to the write, not to this read
    Mutation,
    /// the rows a function returned (the `pgrst_source` CTE, aliased as the function's table)
    Routine,
}

/// The read plan of the rows of `qi` (PostgREST's `readPlan`).
pub fn read_plan(
    config: &Config,
    cache: &SchemaCache,
    api: &ApiRequest,
    qi: &QualifiedIdentifier,
    kind: ReadKind,
) -> Result<ReadPlan, Error> {
    let legacy = config.url_use_legacy_target_names;
    let mut root = init(cache, qi, &api.query.select);
    let q = &api.query;
    let mutation = kind == ReadKind::Mutation;
    let filters = if mutation { &q.filters_not_root } else { &q.filters };
    for (path, f) in filters {
        update_node(&mut root, path, legacy, &mut |node| {
            let r = Resolver { cache, qi: node.from.clone() };
            node.where_.push(CoercibleLogicTree::Stmnt(r.filter(f)));
        })?;
    }
    for (path, terms) in &q.order {
        update_node(&mut root, path, legacy, &mut |node| {
            let r = Resolver { cache, qi: node.from.clone() };
            node.order = terms.iter().map(|t| r.order(t)).collect();
        })?;
    }
    for (key, range) in api.ranges.iter().filter(|_| !mutation) {
        let path = embed_path_of_range(key);
        let range = *range;
        update_node(&mut root, &path, legacy, &mut |node| node.range = range)?;
    }
    for (path, tree) in q.logic.iter().filter(|(p, _)| !mutation || !p.is_empty()) {
        update_node(&mut root, path, legacy, &mut |node| {
            let r = Resolver { cache, qi: node.from.clone() };
            node.where_.insert(0, r.logic(tree));
        })?;
    }
    if kind != ReadKind::Relation {
        // WITH pgrst_source AS (<write or call>) SELECT ... FROM pgrst_source AS "<table>"
        root.from = QualifiedIdentifier { schema: String::new(), name: "pgrst_source".into() };
        root.from_alias = Some(qi.name.clone());
    }
    add_rels(cache, &qi.schema, &mut root, None)?;
    expand_stars(cache, &qi.schema, &mut root, false);
    add_aliases(&mut root);
    add_related_orders(&mut root)?;
    add_null_embed_filters(&mut root);
    add_rel_selects(&mut root);
    if !config.db_aggregates_enabled && any_aggregate(&root) {
        return Err(Error::AggregatesNotAllowed);
    }
    hoist_spread_aggregates(&mut root);
    add_to_many_order_selects(&mut root)?;
    if !mutation {
        restrict_ranges(&mut root, config.db_max_rows);
    }
    Ok(root)
}

/// "limit" → root, "clients.limit" → ["clients"] (PostgREST's `pRequestRange`).
fn embed_path_of_range(key: &str) -> Vec<String> {
    let mut parts: Vec<String> = key.split('.').map(String::from).collect();
    parts.pop();
    parts
}

/// The initial tree from `select=` (PostgREST's `initReadRequest`).
fn init(cache: &SchemaCache, qi: &QualifiedIdentifier, select: &[SelectItem]) -> ReadPlan {
    fn build(cache: &SchemaCache, node: &mut ReadPlan, items: &[SelectItem], schema: &str) {
        for item in items {
            match item {
                SelectItem::Field { field, aggregate, aggregate_cast, cast, alias } => {
                    let r = Resolver { cache, qi: node.from.clone() };
                    node.select.push(CoercibleSelectField {
                        field: r.output_field(field),
                        aggregate: *aggregate,
                        aggregate_cast: aggregate_cast.clone(),
                        cast: cast.clone(),
                        alias: alias.clone(),
                    });
                }
                SelectItem::Relation { relation, alias, hint, join_type, children } => {
                    let from = QualifiedIdentifier { schema: schema.to_string(), name: relation.clone() };
                    let mut child = ReadPlan::new(from, relation, node.depth + 1);
                    child.rel_alias = alias.clone();
                    child.rel_hint = hint.clone();
                    child.rel_join_type = *join_type;
                    build(cache, &mut child, children, schema);
                    node.children.push(child);
                }
                SelectItem::Spread { relation, hint, join_type, children } => {
                    let from = QualifiedIdentifier { schema: schema.to_string(), name: relation.clone() };
                    let mut child = ReadPlan::new(from, relation, node.depth + 1);
                    child.rel_hint = hint.clone();
                    child.rel_join_type = *join_type;
                    child.rel_spread = Some(SpreadType::ToOne);
                    build(cache, &mut child, children, schema);
                    node.children.push(child);
                }
            }
        }
    }
    let mut root = ReadPlan::new(qi.clone(), &qi.name, 0);
    build(cache, &mut root, select, &qi.schema);
    root
}

/// Apply `f` to the node at `path` (PostgREST's `updateNode`); PGRST108 if it is not embedded.
fn update_node(node: &mut ReadPlan, path: &[String], legacy: bool, f: &mut dyn FnMut(&mut ReadPlan)) -> Result<(), Error> {
    let Some((first, rest)) = path.split_first() else {
        f(node);
        return Ok(());
    };
    let matches = |c: &ReadPlan, legacy: bool| {
        if legacy {
            &c.rel_name == first || c.rel_alias.as_ref() == Some(first)
        } else {
            c.sel_name() == first
        }
    };
    let idx = node.children.iter().position(|c| matches(c, legacy));
    match idx {
        Some(i) => update_node(&mut node.children[i], rest, legacy, f),
        None => {
            let legacy_use = if legacy {
                None
            } else {
                node.children
                    .iter()
                    .find(|c| matches(c, true))
                    .and_then(|c| c.rel_alias.as_ref().filter(|a| *a != &c.rel_name).map(|a| (c.rel_name.clone(), a.clone())))
            };
            Err(Error::NotEmbedded(first.clone(), legacy_use))
        }
    }
}

/// Relationships, aliases and join conditions of every child (PostgREST's `addRels`).
fn add_rels(
    cache: &SchemaCache,
    schema: &str,
    node: &mut ReadPlan,
    parent: Option<(&QualifiedIdentifier, Option<&str>)>,
) -> Result<(), Error> {
    if let Some((parent_from, parent_alias)) = parent {
        let origin = if node.depth == 1 { parent_alias.unwrap_or(&parent_from.name) } else { &parent_from.name };
        let rel = find_rel(cache, schema, origin, &node.rel_name, node.rel_hint.as_deref())?;
        let new_alias = format!("{}_{}", rel.foreign_table().name, node.depth);
        node.rel_agg_alias = format!("{}_{}_{}", rel.table().name, node.sel_name(), node.depth);
        if node.rel_spread.is_some() && !rel.is_to_one() {
            node.rel_spread = Some(SpreadType::ToMany { extra_select: vec![], order: vec![] });
        }
        node.from = rel.foreign_table().clone();
        match &rel {
            Relationship::Relationship { cardinality: crate::schema_cache::Cardinality::M2M(_), .. } => {
                // m2m joins the junction implicitly; no alias
                node.rel_join_conds = join_conditions(None, parent_alias, &rel);
                node.rel_to_parent = Some(rel);
            }
            Relationship::ComputedRelationship { function, table, foreign_table, to_one, is_self, .. } => {
                let table_alias = match parent_alias {
                    Some(a) => std::sync::Arc::new(QualifiedIdentifier { schema: String::new(), name: a.to_string() }),
                    None => table.clone(),
                };
                node.rel_to_parent = Some(Relationship::ComputedRelationship {
                    function: function.clone(),
                    table: table.clone(),
                    foreign_table: foreign_table.clone(),
                    table_alias,
                    to_one: *to_one,
                    is_self: *is_self,
                });
                node.from_alias = Some(new_alias);
            }
            _ => {
                node.rel_join_conds = join_conditions(Some(&new_alias), parent_alias, &rel);
                node.from_alias = Some(new_alias);
                node.rel_to_parent = Some(rel);
            }
        }
    }
    let from = node.from.clone();
    let alias = node.from_alias.clone();
    for child in &mut node.children {
        add_rels(cache, schema, child, Some((&from, alias.as_deref())))?;
    }
    Ok(())
}

/// Expand `*` into the columns when an aggregate is in the subtree or a column has a data
/// representation (PostgREST's `expandStars`).
fn expand_stars(cache: &SchemaCache, schema: &str, node: &mut ReadPlan, has_agg: bool) {
    let has_agg = has_agg || node.has_aggregates() || matches!(node.rel_spread, Some(SpreadType::ToMany { .. }));
    let is_spread = node.rel_spread.is_some();
    // the source CTE of a write or call stands for the table named by its alias
    let qi = match (&node.from, &node.from_alias) {
        (QualifiedIdentifier { schema: s, name }, Some(alias)) if s.is_empty() && name == "pgrst_source" => {
            QualifiedIdentifier { schema: schema.to_string(), name: alias.clone() }
        }
        (from, _) => from.clone(),
    };
    let r = Resolver { cache, qi };
    let columns = r.table().map(|t| t.columns.as_slice()).unwrap_or_default();
    let has_rep = columns.iter().any(|c| cache.representation(&c.nominal_type, "json").is_some());
    let should = |s: &CoercibleSelectField| s.aggregate.is_none() || (is_spread && s.aggregate == Some(AggregateFunction::Count));
    let has_star = node.select.iter().filter(|s| should(s)).any(|s| s.field.name == "*");
    if has_star && (has_agg || has_rep) {
        let mut out = vec![];
        for s in node.select.drain(..) {
            if s.field.name == "*" && s.field.json_path.is_empty() && s.aggregate.is_none() {
                for c in columns {
                    out.push(CoercibleSelectField { field: r.output_field(&(c.name.clone(), vec![])), ..s.clone() });
                }
            } else if s.field.name == "*" && s.field.json_path.is_empty() && is_spread && s.aggregate == Some(AggregateFunction::Count) {
                let mut s = s;
                s.field.full_row = true;
                out.push(s);
            } else {
                out.push(s);
            }
        }
        node.select = out;
    }
    for c in &mut node.children {
        expand_stars(cache, schema, c, has_agg);
    }
}

/// Default aliases: JSON paths show as their last key, representations as the column,
/// aggregates in spreads as the function name (PostgREST's `addAliases`).
fn add_aliases(node: &mut ReadPlan) {
    let is_spread = node.rel_spread.is_some();
    for s in &mut node.select {
        if s.alias.is_some() {
            continue;
        }
        if let Some(agg) = s.aggregate {
            if is_spread {
                s.alias = Some(format!("{agg:?}").to_lowercase());
            }
        } else if !s.field.json_path.is_empty() {
            s.alias = s.field.last_json_key();
        } else if s.field.transform.is_some() {
            s.alias = Some(s.field.name.clone());
        }
    }
    for c in &mut node.children {
        add_aliases(c);
    }
}

/// `order=rel(col)`: only to-one embedded resources, addressed by their aggregate alias.
fn add_related_orders(node: &mut ReadPlan) -> Result<(), Error> {
    for term in &mut node.order {
        if let CoercibleOrderTerm::Relation { relation, .. } = term {
            let found = node.children.iter().find(|c| c.sel_name() == relation);
            match found {
                Some(child) => {
                    if child.rel_to_parent.as_ref().map(|r| r.is_to_one()) == Some(true) {
                        *relation = child.rel_agg_alias.clone();
                    } else {
                        return Err(Error::RelatedOrderNotToOne(node.from.name.clone(), child.sel_name().to_string()));
                    }
                }
                None => return Err(Error::NotEmbedded(relation.clone(), None)),
            }
        }
    }
    for c in &mut node.children {
        add_related_orders(c)?;
    }
    Ok(())
}

/// `rel=is.null` / `rel=not.is.null` on an embedded `rel` filters on the embedding itself.
fn add_null_embed_filters(node: &mut ReadPlan) {
    fn rewrite(t: &mut CoercibleLogicTree, children: &[ReadPlan]) {
        match t {
            CoercibleLogicTree::Expr(_, _, ts) => ts.iter_mut().for_each(|t| rewrite(t, children)),
            CoercibleLogicTree::Stmnt(CoercibleFilter::Filter { field, op_expr: OpExpr::Op(negated, Operation::Is(IsVal::Null)) })
                if field.json_path.is_empty() =>
            {
                if let Some(c) = children.iter().find(|c| c.sel_name() == field.name) {
                    *t = CoercibleLogicTree::Stmnt(CoercibleFilter::NullEmbed { negated: *negated, name: c.rel_agg_alias.clone() });
                }
            }
            CoercibleLogicTree::Stmnt(_) => {}
        }
    }
    let children = node.children.clone();
    for t in &mut node.where_ {
        rewrite(t, &children);
    }
    for c in &mut node.children {
        add_null_embed_filters(c);
    }
}

/// How each child shows in its parent (PostgREST's `addRelSelects`).
fn add_rel_selects(node: &mut ReadPlan) {
    for c in &mut node.children {
        add_rel_selects(c);
    }
    node.rel_select = node.children.iter().filter_map(rel_select_field).collect();
}

fn rel_select_field(child: &ReadPlan) -> Option<RelSelectField> {
    let rel = child.rel_to_parent.as_ref()?;
    if child.rel_spread.is_some() {
        return Some(RelSelectField::Spread { spread_sel: spread_select_fields(child), agg_alias: child.rel_agg_alias.clone() });
    }
    fn only_null_embeds(empty: bool, children: &[ReadPlan]) -> bool {
        children.iter().fold(empty, |acc, c| acc && only_null_embeds(c.select.is_empty(), &c.children))
    }
    Some(RelSelectField::JsonEmbed {
        sel_name: child.sel_name().to_string(),
        agg_alias: child.rel_agg_alias.clone(),
        mode: if rel.is_to_one() { RelJsonEmbedMode::JsonObject } else { RelJsonEmbedMode::JsonArray },
        empty_embed: only_null_embeds(child.select.is_empty(), &child.children),
    })
}

fn spread_select_fields(rp: &ReadPlan) -> Vec<SpreadSelectField> {
    let plain = |name: String| SpreadSelectField { sel_name: name, aggregate: None, aggregate_cast: None, alias: None };
    let mut out: Vec<SpreadSelectField> =
        rp.select.iter().map(|s| plain(s.alias.clone().unwrap_or_else(|| s.field.name.clone()))).collect();
    for r in &rp.rel_select {
        match r {
            RelSelectField::JsonEmbed { sel_name, .. } => out.push(plain(sel_name.clone())),
            RelSelectField::Spread { spread_sel, .. } => out.extend(spread_sel.iter().cloned()),
        }
    }
    out
}

fn any_aggregate(node: &ReadPlan) -> bool {
    node.has_aggregates() || node.children.iter().any(any_aggregate)
}

/// ((agg alias of the spread, field name), (function, cast, alias))
type HoistedAgg = ((String, String), (AggregateFunction, Option<String>, Option<String>));

/// Aggregates inside to-one spreads are applied at the closest non-spread ancestor
/// (PostgREST's `hoistSpreadAggFunctions`).
fn hoist_spread_aggregates(node: &mut ReadPlan) {
    hoist(node);
}

fn hoist(node: &mut ReadPlan) -> Vec<HoistedAgg> {
    let mut child_aggs = vec![];
    for c in &mut node.children {
        child_aggs.extend(hoist(c));
    }
    let is_to_one_spread = node.rel_spread == Some(SpreadType::ToOne);
    let mut aggs = vec![];
    if !(node.depth == 0 || (node.rel_to_parent.is_some() && !is_to_one_spread)) {
        for s in &mut node.select {
            if let Some(f) = s.aggregate.take() {
                let name = s.alias.clone().unwrap_or_else(|| s.field.name.clone());
                aggs.push(((node.rel_agg_alias.clone(), name), (f, s.aggregate_cast.take(), s.alias.clone())));
            }
        }
    }
    if is_to_one_spread {
        let alias = node.rel_agg_alias.clone();
        aggs.extend(child_aggs.into_iter().map(|((_, f), h)| ((alias.clone(), f), h)));
        aggs
    } else {
        if !node.children.is_empty() {
            for r in &mut node.rel_select {
                if let RelSelectField::Spread { spread_sel, agg_alias } = r {
                    for s in spread_sel {
                        if let Some((_, (f, cast, alias))) = child_aggs.iter().find(|((a, n), _)| a == agg_alias && n == &s.sel_name) {
                            s.aggregate = Some(*f);
                            s.aggregate_cast = cast.clone();
                            s.alias = alias.clone();
                        }
                    }
                }
            }
        }
        aggs
    }
}

/// To-many spreads aggregate their columns into arrays, so their order moves into the
/// aggregate (PostgREST's `addToManyOrderSelects`).
fn add_to_many_order_selects(node: &mut ReadPlan) -> Result<(), Error> {
    if let Some(SpreadType::ToMany { .. }) = node.rel_spread {
        let agg_in_rel_sel = node
            .rel_select
            .iter()
            .any(|r| matches!(r, RelSelectField::Spread { spread_sel, .. } if spread_sel.iter().any(|s| s.aggregate.is_some())));
        if node.has_aggregates() || agg_in_rel_sel {
            return Err(Error::NotImplemented("Aggregates are not implemented for one-to-many or many-to-many spreads.".into()));
        }
        let mut extra = vec![];
        let mut order = vec![];
        for (i, term) in node.order.drain(..).enumerate() {
            let i = i + 1;
            let (rel, name, path, direction, nulls) = match term {
                CoercibleOrderTerm::Field { field, direction, nulls } => {
                    (None, field.name.clone(), field.json_path.clone(), direction, nulls)
                }
                CoercibleOrderTerm::Relation { relation, field, direction, nulls } => (Some(relation), field.0, field.1, direction, nulls),
            };
            let alias = format!("{}_{}_{}", node.rel_agg_alias, name, i);
            let field = if rel.is_some() {
                CoercibleField::unknown(&name, &path)
            } else {
                CoercibleField { to_json: !path.is_empty(), ..CoercibleField::unknown(&name, &path) }
            };
            extra
                .push((rel, CoercibleSelectField { field, aggregate: None, aggregate_cast: None, cast: None, alias: Some(alias.clone()) }));
            order.push(CoercibleOrderTerm::Field { field: CoercibleField::unknown(&alias, &vec![]), direction, nulls });
        }
        node.rel_spread = Some(SpreadType::ToMany { extra_select: extra, order });
    }
    for c in &mut node.children {
        add_to_many_order_selects(c)?;
    }
    Ok(())
}

/// db-max-rows caps every level (PostgREST's `treeRestrictRange`).
fn restrict_ranges(node: &mut ReadPlan, max_rows: Option<i64>) {
    let r: NonnegRange = node.range;
    node.range = if r.limit() == Some(0) { r } else { r.restrict(max_rows) };
    for c in &mut node.children {
        restrict_ranges(c, max_rows);
    }
}
