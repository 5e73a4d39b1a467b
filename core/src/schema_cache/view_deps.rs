//! Which keys of base tables a view exposes: PostgREST's `allViewsKeyDependencies`, done here
//! rather than in SQL. PostgreSQL stores a view's rules as `pg_node_tree` text, and PostgREST
//! turns each into JSON with a regexp to read the target list of its first query; on a big
//! schema that was most of the catalog read (apflora: 281 nested views, 10 MB of rule text).
//! Here each rule's target list is all that is read (the server's executors take it from
//! PostgreSQL's relation cache, where the rules are parsed; saved fixtures keep the text, which
//! [`target_list`] scans once), and the view columns are followed through
//! the views they select from down to the tables, whose keys they are matched against
//! ([`key_dependencies`]). Row for row the result is the SQL's: the same recursion (a cycle
//! ends a path), the same grouping and the same `HAVING` (all of a key's columns exposed).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::derive::{KeyDep, ViewKeyDependency};
use super::fx_hash::{FxHashMap, FxHashSet};
use super::identifiers::QualifiedIdentifier;

/// `resno`, `resorigtbl`, `resorigcol` of one target entry: view column `resno` is column
/// `resorigcol` of relation `resorigtbl` (0 and 0 for a computed column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetEntry {
    pub resno: i32,
    pub resorigtbl: u32,
    pub resorigcol: i32,
}

/// A view of an exposed schema and its columns' names by number (the document's `views`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ExposedView {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// (attnum, attname)
    pub columns: Vec<(i32, String)>,
}

/// A primary key, a foreign key (`f`: its columns) or a foreign key's referenced columns
/// (`f_ref`) of a table the views depend on (the document's `view_keys`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TableKey {
    pub relid: u32,
    /// the constraint and its table (for `f_ref`, the referencing one)
    pub con: u32,
    pub conrelid: u32,
    pub schema: String,
    pub name: String,
    pub constraint_name: String,
    pub constraint_type: String,
    /// (attnum, attname) in key order
    pub columns: Vec<(i32, String)>,
}

/// The target list of the first query of a rule's action (`ev_action`, the text of a list of
/// Query nodes): `view_definition->0->'targetList'` in PostgREST's JSON form of it. Empty
/// when the rule has no action or the query no target list.
///
/// The text is `outfuncs.c` output: nodes in braces (`{QUERY :commandType 1 ...}`), lists in
/// parentheses, `<>` for NULL. Names are written with a backslash before spaces, braces,
/// parentheses and backslashes, so an unescaped one is structure. The first query's fields
/// are at brace depth 1 and parenthesis depth 1 (inside the action list); its target
/// entries' fields one level deeper in each.
pub fn target_list(tree: &[u8]) -> Vec<TargetEntry> {
    let mut out = Vec::new();
    let (mut braces, mut parens) = (0i32, 0i32);
    // inside the first query's target list; its current entry
    let mut in_list = false;
    let mut entry: Option<TargetEntry> = None;
    let mut i = 0;
    loop {
        // most of the text (the range table) is skipped here, byte by byte
        while i < tree.len() && !STRUCTURE[tree[i] as usize] {
            i += 1;
        }
        let Some(&byte) = tree.get(i) else { return out };
        match byte {
            b'\\' => i += 1,
            b'{' => {
                braces += 1;
                if in_list && braces == 2 && parens == 2 {
                    entry = Some(TargetEntry { resno: 0, resorigtbl: 0, resorigcol: 0 });
                }
            }
            b'}' => {
                if in_list && braces == 2 && parens == 2 {
                    out.extend(entry.take());
                }
                braces -= 1;
                if braces == 0 {
                    // the end of the first query
                    return out;
                }
            }
            b'(' => parens += 1,
            b')' => {
                parens -= 1;
                if in_list && parens == 1 {
                    return out;
                }
            }
            // a field name: after a space that is not escaped (an even number of backslashes
            // before it)
            b':' if i > 0 && tree[i - 1] == b' ' && tree[..i - 1].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0 => {
                let name_end = tree[i..].iter().position(|&b| b == b' ').map_or(tree.len(), |n| i + n);
                let field = &tree[i + 1..name_end];
                if braces == 1 && parens == 1 && field == b"targetList" {
                    // `(` follows, or `<>` when the query has no target list
                    if tree.get(name_end + 1) != Some(&b'(') {
                        return out;
                    }
                    in_list = true;
                } else if let Some(e) = entry.as_mut().filter(|_| braces == 2 && parens == 2) {
                    let value = number_at(tree, name_end + 1);
                    match field {
                        b"resno" => e.resno = value as i32,
                        b"resorigtbl" => e.resorigtbl = value as u32,
                        b"resorigcol" => e.resorigcol = value as i32,
                        _ => {}
                    }
                }
                i = name_end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The bytes [`target_list`] looks at: escapes, nodes, lists, field names.
const STRUCTURE: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    let bytes = b"\\{}():";
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// The unsigned decimal number starting at `at` (0 if there is none).
fn number_at(tree: &[u8], at: usize) -> i64 {
    tree.get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, b| n.saturating_mul(10).saturating_add(i64::from(b - b'0')))
}

/// The view columns (number, name) one table column appears as, with repeats as the SQL's
/// `array_agg` keeps them.
type ViewColumns<'a> = Vec<(i32, &'a str)>;
/// A row of the SQL's `pks_fks`: constraint type and name, column count, table, column, order.
type KeyColumn<'a> = (&'a str, &'a str, usize, u32, i32, usize);
/// The SQL's `view_key_deps` groups, (view, table, constraint name, type, column count), with
/// the key and its columns the view exposes: (key order, table column, view columns).
type Groups<'a> = BTreeMap<(u32, u32, &'a str, &'a str, usize), (&'a TableKey, Vec<(usize, &'a str, Vec<String>)>)>;

/// One row of the SQL's `recursion`: view column `view_column` of `view` is column
/// `resorigcol` of `resorigtbl`, directly or through the views on `path`.
struct Reference {
    view: u32,
    view_column: i32,
    resorigtbl: u32,
    resorigcol: i32,
    path: Vec<u32>,
    is_cycle: bool,
}

/// `allViewsKeyDependencies`: for each view of an exposed schema, the keys of the tables it
/// selects from (through other views of the exposed schemas or db-extra-search-path, whose
/// rules are all in `rules`) whose every column it exposes, with the view columns each key
/// column appears as. Sorted as PostgREST's query sorts them.
pub(crate) fn key_dependencies<'a>(
    views: impl IntoIterator<Item = &'a ExposedView>,
    rules: &[(u32, &[TargetEntry])],
    keys: impl IntoIterator<Item = &'a TableKey>,
) -> Vec<ViewKeyDependency> {
    // `results`: (view, view column) -> its origins, one per rule that names it
    let mut origins: FxHashMap<(u32, i32), Vec<(u32, i32)>> = FxHashMap::default();
    for (view, entries) in rules {
        for e in entries.iter() {
            origins.entry((*view, e.resno)).or_default().push((e.resorigtbl, e.resorigcol));
        }
    }
    // `recursion`, from the exposed views' target entries
    let exposed: FxHashMap<u32, &ExposedView> = views.into_iter().map(|v| (v.oid, v)).collect();
    let mut todo: Vec<Reference> = Vec::new();
    for (view, entries) in rules.iter().filter(|(view, _)| exposed.contains_key(view)) {
        for e in entries.iter() {
            let path = vec![e.resorigtbl];
            todo.push(Reference {
                view: *view,
                view_column: e.resno,
                resorigtbl: e.resorigtbl,
                resorigcol: e.resorigcol,
                path,
                is_cycle: false,
            });
        }
    }
    // `repeated_references`, by table column: (table, column) -> view -> view columns
    let mut references: FxHashMap<(u32, i32), BTreeMap<u32, ViewColumns>> = FxHashMap::default();
    while let Some(r) = todo.pop() {
        if !r.is_cycle {
            for &(tbl, col) in origins.get(&(r.resorigtbl, r.resorigcol)).into_iter().flatten() {
                let mut path = r.path.clone();
                let is_cycle = path.contains(&tbl);
                path.push(tbl);
                todo.push(Reference { view: r.view, view_column: r.view_column, resorigtbl: tbl, resorigcol: col, path, is_cycle });
            }
        }
        // the view column's name; an entry past the view's columns (an INSTEAD rule's) has none
        if let Some((_, name)) = exposed[&r.view].columns.iter().find(|(n, _)| *n == r.view_column) {
            references.entry((r.resorigtbl, r.resorigcol)).or_default().entry(r.view).or_default().push((r.view_column, name));
        }
    }
    for columns in references.values_mut().flat_map(BTreeMap::values_mut) {
        columns.sort_by_key(|(n, _)| *n);
    }
    // `pks_fks` is a `UNION`: its rows are a set (two foreign keys of one name, from two
    // tables, referencing the same columns are one `f_ref` key)
    let mut seen: FxHashSet<KeyColumn> = FxHashSet::default();
    let mut groups: Groups = BTreeMap::new();
    for key in keys {
        let ncol = key.columns.len();
        for (ord, (attnum, column)) in key.columns.iter().enumerate() {
            if !seen.insert((key.constraint_type.as_str(), key.constraint_name.as_str(), ncol, key.relid, *attnum, ord)) {
                continue;
            }
            for (view, columns) in references.get(&(key.relid, *attnum)).into_iter().flatten() {
                let group = groups
                    .entry((*view, key.relid, key.constraint_name.as_str(), key.constraint_type.as_str(), ncol))
                    .or_insert_with(|| (key, Vec::new()));
                group.1.push((ord, column.as_str(), columns.iter().map(|(_, n)| n.to_string()).collect()));
            }
        }
    }
    let mut deps: Vec<ViewKeyDependency> = groups
        .into_iter()
        // `having ncol = count(*)`: every column of the key is exposed
        .filter(|((.., ncol), (_, cols))| cols.len() == *ncol)
        .map(|((view, ..), (key, mut cols))| {
            cols.sort_by_key(|(ord, ..)| *ord);
            let view = exposed[&view];
            ViewKeyDependency {
                table: QualifiedIdentifier::new(key.schema.clone(), key.name.clone()),
                view: QualifiedIdentifier::new(view.schema.clone(), view.name.clone()),
                cons: key.constraint_name.clone(),
                dep_type: match key.constraint_type.as_str() {
                    "p" => KeyDep::PKDep,
                    "f" => KeyDep::FKDep,
                    _ => KeyDep::FKDepRef,
                },
                cols: cols.into_iter().map(|(_, column, names)| (column.to_string(), names)).collect(),
            }
        })
        .collect();
    // the query's ORDER BY view_schema, view_name, constraint_name, constraint_type,
    // table_schema, table_name
    deps.sort_by(|a, b| {
        (&a.view, &a.cons, dep_type_code(a.dep_type), &a.table).cmp(&(&b.view, &b.cons, dep_type_code(b.dep_type), &b.table))
    });
    deps
}

/// The constraint type as the query wrote it, for ordering.
fn dep_type_code(dep: KeyDep) -> &'static str {
    match dep {
        KeyDep::PKDep => "p",
        KeyDep::FKDep => "f",
        KeyDep::FKDepRef => "f_ref",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn te(resno: i32, resorigtbl: u32, resorigcol: i32) -> TargetEntry {
        TargetEntry { resno, resorigtbl, resorigcol }
    }

    /// A target entry as outfuncs.c writes it, with a Var of its own.
    fn entry(resno: i32, name: &str, tbl: u32, col: i32) -> String {
        format!(
            "{{TARGETENTRY :expr {{VAR :varno 1 :varattno {col} :varnullingrels (b) :location 7}} :resno {resno} \
             :resname {name} :ressortgroupref 0 :resorigtbl {tbl} :resorigcol {col} :resjunk false}}"
        )
    }

    #[test]
    fn the_first_querys_target_list_only() {
        // a subquery in the range table has a target list of its own, deeper in both
        let sub = format!("{{QUERY :commandType 1 :targetList ({}) :override 0}}", entry(1, "x", 99, 9));
        let tree = format!(
            "({{QUERY :commandType 1 :rtable ({{RANGETBLENTRY :rtekind 1 :subquery {sub}}}) :targetList ({} {}) :override 0 :stmt_len 0}})",
            entry(1, "id", 16384, 1),
            entry(2, "name", 16384, 3)
        );
        assert_eq!(target_list(tree.as_bytes()), vec![te(1, 16384, 1), te(2, 16384, 3)]);
    }

    #[test]
    fn escaped_names_are_not_structure() {
        // a column named `a :resno 7 (} {` is written with backslashes before the space,
        // parentheses and braces
        let name = r"a\ :resno\ 7\ \(\}\ \{";
        let tree = format!("({{QUERY :targetList ({} {}) :stmt_len 0}})", entry(1, name, 5, 2), entry(2, r"b\\", 5, 3));
        assert_eq!(target_list(tree.as_bytes()), vec![te(1, 5, 2), te(2, 5, 3)]);
    }

    #[test]
    fn no_action_or_no_columns_is_empty() {
        assert_eq!(target_list(b"<>"), vec![]);
        assert_eq!(target_list(b"({QUERY :commandType 1 :targetList <> :override 0})"), vec![]);
        // only the first of an INSTEAD rule's queries counts
        let tree = format!("({{QUERY :targetList ({})}} {{QUERY :targetList ({})}})", entry(1, "a", 7, 1), entry(1, "b", 8, 1));
        assert_eq!(target_list(tree.as_bytes()), vec![te(1, 7, 1)]);
    }

    fn view(oid: u32, name: &str, columns: &[&str]) -> ExposedView {
        let columns = columns.iter().enumerate().map(|(i, c)| (i as i32 + 1, c.to_string())).collect();
        ExposedView { oid, schema: "api".into(), name: name.into(), columns }
    }

    fn key(relid: u32, name: &str, cons: &str, kind: &str, columns: &[(i32, &str)]) -> TableKey {
        TableKey {
            relid,
            con: relid + 1000,
            conrelid: relid,
            schema: "private".into(),
            name: name.into(),
            constraint_name: cons.into(),
            constraint_type: kind.into(),
            columns: columns.iter().map(|(n, c)| (*n, c.to_string())).collect(),
        }
    }

    #[test]
    fn keys_are_followed_through_views_to_their_tables() {
        // api.v (oid 10) selects id twice and name from private.base (oid 30), through a view
        // of the extra search path (oid 20) that renames them; api.w (11) exposes only half
        // of a two-column key
        let views = [view(10, "v", &["id", "id_again", "label"]), view(11, "w", &["a"])];
        let rules =
            [(10, vec![te(1, 20, 1), te(2, 20, 1), te(3, 20, 2)]), (20, vec![te(1, 30, 1), te(2, 30, 2)]), (11, vec![te(1, 30, 1)])];
        let keys = [
            key(30, "base", "base_pkey", "p", &[(1, "id")]),
            key(30, "base", "base_two", "f", &[(1, "id"), (2, "name")]),
            key(30, "base", "base_two", "f", &[(1, "id"), (2, "name")]),
        ];
        let rules: Vec<(u32, &[TargetEntry])> = rules.iter().map(|(view, entries)| (*view, entries.as_slice())).collect();
        let deps = key_dependencies(&views, &rules, &keys);
        let summary: Vec<_> = deps.into_iter().map(|d| (d.view.name, d.cons, d.dep_type, d.cols)).collect();
        let cols = |pairs: &[(&str, &[&str])]| {
            pairs.iter().map(|(c, v)| (c.to_string(), v.iter().map(|s| s.to_string()).collect())).collect::<Vec<_>>()
        };
        assert_eq!(
            summary,
            vec![
                ("v".into(), "base_pkey".into(), KeyDep::PKDep, cols(&[("id", &["id", "id_again"])])),
                ("v".into(), "base_two".into(), KeyDep::FKDep, cols(&[("id", &["id", "id_again"]), ("name", &["label"])])),
                // w: the primary key only; one column of base_two is not a key
                ("w".into(), "base_pkey".into(), KeyDep::PKDep, cols(&[("id", &["a"])])),
            ]
        );
    }

    #[test]
    fn a_cycle_ends_the_path() {
        // 10 -> 20 -> 10 -> 20: the walk stops where 20 repeats, and as in the SQL both steps
        // that reached 20 are kept (array_agg keeps repeats)
        let views = [view(10, "v", &["id"])];
        let rules = [(10, vec![te(1, 20, 1)]), (20, vec![te(1, 10, 1)])];
        let keys = [key(20, "t", "t_pkey", "p", &[(1, "id")])];
        let rules: Vec<(u32, &[TargetEntry])> = rules.iter().map(|(view, entries)| (*view, entries.as_slice())).collect();
        let deps = key_dependencies(&views, &rules, &keys);
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0].cols, vec![("id".to_string(), vec!["id".to_string(), "id".to_string()])]);
    }
}
