//! Choosing the relationship behind an embedded resource (PostgREST's `findRel`), the join
//! conditions it implies, and the PGRST200/PGRST201 errors when there is none or several.

use super::fuzzy;
use super::read_plan::JoinCondition;
use crate::error::Error;
use crate::schema_cache::{Cardinality, Name, QualifiedIdentifier, Relationship, SchemaCache};
use serde_json::{json, Value};

fn single_col(card: &Cardinality) -> Option<&(Name, Name)> {
    match card.columns() {
        Some(cols) if cols.len() == 1 => cols.first(),
        _ => None,
    }
}

/// `/origin?select=target!hint(*)`: the one relationship it names.
pub fn find_rel(cache: &SchemaCache, schema: &str, origin: &str, target: &str, hint: Option<&str>) -> Result<Relationship, Error> {
    let origin_qi = QualifiedIdentifier { schema: schema.to_string(), name: origin.to_string() };
    let all = cache.relationships(&origin_qi, schema);
    let fk_col = |h: &str, c: &Cardinality| single_col(c).is_some_and(|(col, _)| &**col == h);
    let fk_ref_col = |h: &str, c: &Cardinality| single_col(c).is_some_and(|(_, fcol)| &**fcol == h);
    let constraint = |h: &str, c: &Cardinality| c.constraint() == Some(h);
    let junction = |h: &str, c: &Cardinality| matches!(c, Cardinality::M2M(j) if j.table.name == h);
    let is_m2o = |c: &Cardinality| matches!(c, Cardinality::M2O { .. });
    let is_o2m = |c: &Cardinality| matches!(c, Cardinality::O2M { .. });

    let rels: Vec<&Relationship> = all
        .iter()
        .filter(|r| match r {
            Relationship::ComputedRelationship { function, .. } => target == function.name,
            Relationship::Relationship { foreign_table, is_self, cardinality: c, ftable_is_view, .. } => {
                if *is_self {
                    match hint {
                        // O2M by the table name, M2O by the FK column name
                        None => (target == foreign_table.name && is_o2m(c)) || (fk_col(target, c) && is_m2o(c)),
                        Some(h) => target == foreign_table.name && is_o2m(c) && fk_ref_col(h, c),
                    }
                } else {
                    match hint {
                        None => {
                            target == foreign_table.name
                                || (constraint(target, c) && !ftable_is_view)
                                || (fk_col(target, c) && !ftable_is_view)
                        }
                        Some(h) => target == foreign_table.name && (constraint(h, c) || fk_col(h, c) || fk_ref_col(h, c) || junction(h, c)),
                    }
                }
            }
        })
        .collect();
    match rels.as_slice() {
        [] => Err(Error::NoRelBetween {
            parent: origin.to_string(),
            child: target.to_string(),
            hint: hint.map(String::from),
            schema: schema.to_string(),
            suggestion: no_rel_suggestion(cache, schema, origin, target),
        }),
        [one] => Ok((*one).clone()),
        many => Err(Error::AmbiguousRelBetween {
            parent: origin.to_string(),
            child: target.to_string(),
            details: many.iter().map(|r| compressed_rel(r)).collect(),
            hints: many.iter().filter_map(|r| rel_hint(r)).collect(),
        }),
    }
}

/// PostgREST's `noRelBetweenHint`: suggest the parent when it is unknown, else the child.
fn no_rel_suggestion(cache: &SchemaCache, schema: &str, parent: &str, child: &str) -> Option<String> {
    let parent_qi = QualifiedIdentifier { schema: schema.to_string(), name: parent.to_string() };
    if cache.relationships.contains_key(&(parent_qi.clone(), schema.to_string())) {
        let children: Vec<&str> = cache.relationships(&parent_qi, schema).iter().map(|r| r.foreign_table().name.as_str()).collect();
        let found = fuzzy::matches(child, &children, fuzzy::DEFAULT_MIN_SCORE).into_iter().find(|(s, _)| *s < 1.0);
        found.map(|(_, c)| format!("Perhaps you meant '{c}' instead of '{child}'."))
    } else {
        let mut parents: Vec<&str> =
            cache.relationships.keys().filter(|(qi, s)| s == schema && qi.schema == schema).map(|(qi, _)| qi.name.as_str()).collect();
        parents.sort();
        parents.dedup();
        fuzzy::best(parent, &parents, fuzzy::DEFAULT_MIN_SCORE).map(|p| format!("Perhaps you meant '{p}' instead of '{parent}'."))
    }
}

fn fmt_cols<'a>(cols: impl Iterator<Item = &'a Name>) -> String {
    format!("({})", cols.map(|c| &**c).collect::<Vec<_>>().join(", "))
}

/// One candidate in PGRST201's details (PostgREST's `compressedRel`).
fn compressed_rel(r: &Relationship) -> Value {
    let Relationship::Relationship { table, foreign_table, cardinality, .. } = r else { return json!({}) };
    let embedding = format!("{} with {}", table.name, foreign_table.name);
    let (card, relationship) = match cardinality {
        Cardinality::M2M(j) => (
            "many-to-many",
            format!(
                "{} using {}{} and {}{}",
                j.table.name,
                j.constraint1,
                fmt_cols(j.cols_source.iter().map(|p| &p.1)),
                j.constraint2,
                fmt_cols(j.cols_target.iter().map(|p| &p.1))
            ),
        ),
        Cardinality::M2O { cons, columns } | Cardinality::O2O { cons, columns, .. } | Cardinality::O2M { cons, columns } => {
            let name = match cardinality {
                Cardinality::M2O { .. } => "many-to-one",
                Cardinality::O2O { .. } => "one-to-one",
                _ => "one-to-many",
            };
            (
                name,
                format!(
                    "{cons} using {}{} and {}{}",
                    table.name,
                    fmt_cols(columns.iter().map(|p| &p.0)),
                    foreign_table.name,
                    fmt_cols(columns.iter().map(|p| &p.1))
                ),
            )
        }
    };
    json!({"cardinality": card, "embedding": embedding, "relationship": relationship})
}

/// `'target!hint'` for PGRST201's hint (PostgREST's `relHint`).
fn rel_hint(r: &Relationship) -> Option<String> {
    let Relationship::Relationship { foreign_table, cardinality, .. } = r else { return None };
    let hint = match cardinality {
        Cardinality::M2M(j) => j.table.name.clone(),
        c => c.constraint().unwrap_or_default().to_string(),
    };
    Some(format!("'{}!{hint}'", foreign_table.name))
}

/// The join conditions between a node (alias `alias`) and its parent (alias `parent_alias`).
pub fn join_conditions(alias: Option<&str>, parent_alias: Option<&str>, rel: &Relationship) -> Vec<JoinCondition> {
    let Relationship::Relationship { table, foreign_table, cardinality, .. } = rel else { return vec![] };
    let schema = &table.schema;
    let qi_or_alias = |al: Option<&str>, name: &str| match al {
        Some(a) => QualifiedIdentifier { schema: String::new(), name: a.to_string() },
        None => QualifiedIdentifier { schema: schema.clone(), name: name.to_string() },
    };
    let cond = |parent_al: Option<&str>, new_al: Option<&str>, tb: &str, ftb: &str, (c, fc): &(Name, Name)| JoinCondition {
        left: (qi_or_alias(new_al, ftb), fc.to_string()),
        right: (qi_or_alias(parent_al, tb), c.to_string()),
    };
    match cardinality {
        Cardinality::M2M(j) => {
            let jt = &j.table.name;
            let mut out: Vec<JoinCondition> = j.cols_target.iter().map(|p| cond(None, None, &foreign_table.name, jt, p)).collect();
            out.extend(j.cols_source.iter().map(|p| cond(parent_alias, alias, &table.name, jt, p)));
            out
        }
        c => c
            .columns()
            .map(|cols| cols.iter().map(|p| cond(parent_alias, alias, &table.name, &foreign_table.name, p)).collect())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> SchemaCache {
        SchemaCache::fixture()
    }

    #[test]
    fn no_hint_when_the_parent_has_only_internal_relationships() {
        let e = find_rel(&cache(), "test", "end_1", "end_2", None).unwrap_err();
        assert_eq!(e.hint(), Value::Null, "{e:?}");
    }
}
