//! Tests against the real output of `catalog.sql` on PostgREST's test fixtures
//! (`testdata/fixtures_test*.json`: db-schemas = ["test"], PostgreSQL 15, run as the
//! authenticator role). The expectations are the relationships PostgREST's own specs
//! (EmbedDisambiguationSpec, QuerySpec, ComputedRelsSpec, ...) rely on.

use super::*;

fn cache() -> SchemaCache {
    SchemaCache::fixture()
}

fn qi(name: &str) -> QualifiedIdentifier {
    QualifiedIdentifier::new("test", name)
}

fn shared(name: &str) -> SharedIdentifier {
    Arc::new(qi(name))
}

/// Relationships from test.`from` to test.`to`, in cache order.
fn rels<'a>(sc: &'a SchemaCache, from: &str, to: &str) -> Vec<&'a Relationship> {
    sc.relationships(&qi(from), "test").iter().filter(|r| r.foreign_table().name == to).collect()
}

fn pairs(p: &[(&str, &str)]) -> ColumnPairs {
    p.iter().map(|(a, b)| (Name::from(*a), Name::from(*b))).collect()
}

fn fk(from: &str, to: &str, card: Cardinality, from_view: bool, to_view: bool) -> Relationship {
    Relationship::Relationship {
        table: shared(from),
        foreign_table: shared(to),
        is_self: from == to,
        cardinality: card,
        table_is_view: from_view,
        ftable_is_view: to_view,
    }
}

fn m2o(cons: &str, cols: &[(&str, &str)]) -> Cardinality {
    Cardinality::M2O { cons: cons.into(), columns: pairs(cols) }
}

fn o2m(cons: &str, cols: &[(&str, &str)]) -> Cardinality {
    Cardinality::O2M { cons: cons.into(), columns: pairs(cols) }
}

fn o2o(cons: &str, cols: &[(&str, &str)], is_parent: bool) -> Cardinality {
    Cardinality::O2O { cons: cons.into(), columns: pairs(cols), is_parent }
}

#[test]
fn loads_tables_with_columns_in_order() {
    let sc = cache();
    assert_eq!(sc.schemas, vec!["test"]);
    let projects = sc.table("test", "projects").expect("test.projects");
    assert!(!projects.is_view && projects.insertable && projects.updatable && projects.deletable);
    assert_eq!(projects.pk_cols, vec!["id"]);
    assert_eq!(projects.column_names().collect::<Vec<_>>(), vec!["id", "name", "client_id"]);
    let name = projects.column("name").expect("name column");
    assert_eq!((name.data_type.as_str(), name.nullable), ("text", false));
    assert!(projects.column("nope").is_none());

    // defaults and types are schema-qualified (the query voids the search_path)
    let items = sc.table("test", "items").expect("test.items");
    assert_eq!(items.columns[0].default.as_deref(), Some("nextval('test.items_id_seq'::regclass)"));
    let enum_col = sc.table("test", "menagerie").and_then(|t| t.column("enum")).expect("menagerie.enum");
    assert_eq!(enum_col.data_type, "test.enum_menagerie_type");
    assert_eq!(enum_col.enum_values, vec!["foo", "bar"]);

    // only exposed schemas are cached
    assert!(sc.table("public", "i2459_simple_t1").is_none());
    assert!(sc.table_names("test").any(|n| n == "clients"));
    assert_eq!(sc.table_names("private").count(), 0);
    assert!(sc.fuzzy_table_candidates("test").is_some_and(|c| c.contains(&"projects")));
}

#[test]
fn views_get_flags_and_primary_keys_from_their_base_tables() {
    let sc = cache();
    let view = sc.table("test", "projects_view").expect("projects_view");
    assert!(view.is_view && view.insertable && view.updatable && view.deletable);
    assert_eq!(view.pk_cols, vec!["id"]);
    assert_eq!(sc.table("test", "projects_view_alt").map(|t| t.pk_cols.clone()), Some(vec!["t_id".to_string()]));
    let mat = sc.table("test", "materialized_projects").expect("materialized_projects");
    assert!(mat.is_view && !mat.insertable && !mat.updatable && !mat.deletable);
}

#[test]
fn m2o_and_inverse_o2m() {
    let sc = cache();
    assert_eq!(rels(&sc, "projects", "clients")[0], &fk("projects", "clients", m2o("client", &[("client_id", "id")]), false, false));
    assert_eq!(rels(&sc, "clients", "projects")[0], &fk("clients", "projects", o2m("client", &[("id", "client_id")]), false, false));
    assert!(rels(&sc, "projects", "clients")[0].is_to_one());
    assert!(!rels(&sc, "clients", "projects")[0].is_to_one());
}

#[test]
fn ambiguous_relationships_are_sorted_like_postgrest() {
    // EmbedDisambiguationSpec "errs on an ambiguous embed that has a circular reference":
    // details list the one-to-many before the many-to-one.
    let sc = cache();
    assert_eq!(
        rels(&sc, "agents", "departments"),
        vec![
            &fk("agents", "departments", o2m("departments_head_id_fkey", &[("id", "head_id")]), false, false),
            &fk("agents", "departments", m2o("agents_department_id_fkey", &[("department_id", "id")]), false, false),
        ]
    );
}

#[test]
fn every_relationship_list_is_in_the_derived_order() {
    // the lists are sorted by a comparison that skips what a list's members share
    let sc = cache();
    for (key, list) in &sc.relationships {
        assert!(list.windows(2).all(|pair| pair[0] <= pair[1]), "{key:?} is not sorted");
    }
}

#[test]
fn m2m_through_junction_table() {
    let sc = cache();
    let expected = fk(
        "users",
        "tasks",
        Cardinality::M2M(Box::new(Junction {
            table: shared("users_tasks"),
            constraint1: "users_tasks_user_id_fkey".into(),
            constraint2: "users_tasks_task_id_fkey".into(),
            cols_source: pairs(&[("id", "user_id")]),
            cols_target: pairs(&[("id", "task_id")]),
        })),
        false,
        false,
    );
    assert_eq!(rels(&sc, "users", "tasks"), vec![&expected]);
    let back = rels(&sc, "tasks", "users");
    assert_eq!(back.len(), 1);
    assert!(matches!(back[0].cardinality(), Some(Cardinality::M2M(j)) if &*j.constraint1 == "users_tasks_task_id_fkey"));
    // users_tasks itself has M2O to both and O2M from comments/touched_files
    assert_eq!(rels(&sc, "users_tasks", "users").len(), 1);
    assert!(rels(&sc, "users_tasks", "comments")
        .iter()
        .any(|r| r.cardinality() == Some(&o2m("comments_task_id_fkey", &[("task_id", "task_id"), ("user_id", "user_id")]))));
}

#[test]
fn relationships_through_views() {
    let sc = cache();
    // /tasks?select=id,name,project:projects_view!project_id(id,name,client:client_id(id,name))
    assert_eq!(
        rels(&sc, "tasks", "projects_view"),
        vec![&fk("tasks", "projects_view", m2o("project", &[("project_id", "id")]), false, true)]
    );
    assert_eq!(
        rels(&sc, "projects_view", "clients"),
        vec![&fk("projects_view", "clients", m2o("client", &[("client_id", "id")]), true, false)]
    );
    assert!(rels(&sc, "projects_view", "tasks").contains(&&fk(
        "projects_view",
        "tasks",
        o2m("project", &[("id", "project_id")]),
        true,
        false
    )));
    // view to view, renamed columns
    assert!(rels(&sc, "projects_view_alt", "projects_view").is_empty());
    assert_eq!(
        rels(&sc, "projects_view_alt", "clients"),
        vec![&fk("projects_view_alt", "clients", m2o("client", &[("t_client_id", "id")]), true, false)]
    );
}

#[test]
fn view_to_view_over_non_exposed_tables_with_repeated_columns() {
    // i2459_simple_v2 exposes public.i2459_simple_t2.t1_id twice (t1_id1, t1_id2): one
    // relationship per reference, both between the two test views.
    let sc = cache();
    assert_eq!(
        rels(&sc, "i2459_simple_v2", "i2459_simple_v1"),
        vec![
            &fk("i2459_simple_v2", "i2459_simple_v1", m2o("i2459_simple_t2_t1_id_fkey", &[("t1_id1", "id")]), true, true),
            &fk("i2459_simple_v2", "i2459_simple_v1", m2o("i2459_simple_t2_t1_id_fkey", &[("t1_id2", "id")]), true, true),
        ]
    );
    assert_eq!(rels(&sc, "i2459_simple_v1", "i2459_simple_v2").len(), 2);
    // the base tables live in `public`, which is not exposed
    assert!(sc.relationships(&qi("i2459_simple_v1"), "public").is_empty());
    assert!(sc.relationships(&QualifiedIdentifier::new("public", "i2459_simple_t2"), "public").is_empty());
}

#[test]
fn one_to_one() {
    let sc = cache();
    assert_eq!(
        rels(&sc, "capital", "country"),
        vec![&fk("capital", "country", o2o("capital_country_id_fkey", &[("country_id", "id")], false), false, false)]
    );
    assert_eq!(
        rels(&sc, "country", "capital"),
        vec![&fk("country", "capital", o2o("capital_country_id_fkey", &[("id", "country_id")], true), false, false)]
    );
    assert!(rels(&sc, "country", "capital")[0].is_to_one());
    // two O2O between the same tables: /first?select=second(*) is ambiguous
    assert_eq!(rels(&sc, "first", "second").len(), 2);
}

#[test]
fn self_relationships() {
    let sc = cache();
    let family = rels(&sc, "family_tree", "family_tree");
    assert_eq!(
        family,
        vec![
            &fk("family_tree", "family_tree", o2m("pptr", &[("id", "parent")]), false, false),
            &fk("family_tree", "family_tree", m2o("pptr", &[("parent", "id")]), false, false),
        ]
    );
    assert!(family.iter().all(|r| r.is_self()));
}

#[test]
fn computed_relationships() {
    let sc = cache();
    let to_clients = rels(&sc, "projects", "clients");
    let computed = Relationship::ComputedRelationship {
        function: shared("computed_clients"),
        table: shared("projects"),
        foreign_table: shared("clients"),
        table_alias: SharedIdentifier::default(),
        to_one: true,
        is_self: false,
    };
    // FK relationships sort before computed ones
    assert_eq!(to_clients.len(), 2);
    assert_eq!(to_clients[1], &computed);
    let children = rels(&sc, "web_content", "web_content");
    assert!(children.iter().any(|r| matches!(r, Relationship::ComputedRelationship { function, to_one: false, is_self: true, .. } if function.name == "child_web_content")));
}

#[test]
fn computed_relationship_named_like_a_table_overrides_the_fk_one() {
    // test.designers(test.videogames) replaces the videogames -> designers foreign key
    let sc = cache();
    let to_designers = rels(&sc, "videogames", "designers");
    let functions: Vec<&str> = to_designers
        .iter()
        .filter_map(|r| match r {
            Relationship::ComputedRelationship { function, .. } => Some(function.name.as_str()),
            Relationship::Relationship { .. } => None,
        })
        .collect();
    assert_eq!(functions, vec!["computed_designers", "computed_designers_noset", "designers"]);
    assert_eq!(to_designers.len(), 3, "the FK relationship is gone");
    // the inverse O2M is not named like a function, so it stays next to test.videogames(designers)
    assert_eq!(rels(&sc, "designers", "videogames").len(), 2);
}

#[test]
fn routines_and_overloads() {
    let sc = cache();
    let overloaded = sc.routines(&qi("overloaded"));
    assert_eq!(overloaded.iter().map(|r| r.params.len()).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert!(overloaded[0].returns_set_of_scalar());
    assert_eq!(overloaded[1].params[0].name, "");
    assert!(matches!(&overloaded[1].return_type, RetType::SetOf(PgType::Composite(_, false))));

    let varied = &sc.routines(&qi("varied_arguments"))[0];
    assert_eq!(varied.volatility, FuncVolatility::Immutable);
    assert!(varied.description.as_deref().is_some_and(|d| d.starts_with("An RPC function")));
    let enum_param = varied.params.iter().find(|p| p.name == "enum").expect("enum param");
    assert_eq!(enum_param.type_name, "test.enum_menagerie_type");
    assert!(enum_param.required);
    assert!(!varied.params.iter().find(|p| p.name == "integer").expect("integer param").required);
    assert!(varied.returns_scalar() && !varied.returns_void());

    let all_countries = &sc.routines(&qi("allcountries"))[0];
    assert_eq!(all_countries.table_name(), Some("country"));
    assert_eq!(all_countries.return_type_qi(), &qi("country"));
    assert!(sc.routines(&qi("no_such_function")).is_empty());
}

#[test]
fn media_handlers_and_representations() {
    let sc = cache();
    let any_json = sc.media_handler(&RelIdentifier::RelAnyElement, "application/json");
    assert_eq!(any_json.map(|h| &h.0), Some(&MediaHandler::BuiltinOvAggJson));
    let twkb = sc.media_handler(&RelIdentifier::RelId(qi("lines")), "application/vnd.twkb").expect("twkb handler");
    assert_eq!(twkb.0, MediaHandler::CustomFunc(qi("twkb_agg"), RelIdentifier::RelId(qi("lines"))));
    assert_eq!(sc.representation("json", "public.color").map(|r| r.function.as_str()), Some("test.color"));
}

#[test]
fn settings_isolation_level_and_bad_documents() {
    let doc = r#"{"schemas":["api"],"tables":[],"m2o_rels":[],"views":[],"view_keys":[],"computed_rels":[],
      "routines":[{"schema":"api","name":"f","description":null,"params":[],"rettype_schema":"pg_catalog",
        "rettype_name":"void","rettype_is_setof":false,"rettype_is_composite":false,
        "rettype_is_composite_alias":false,"volatility":"v","has_variadic":false,
        "isolation_level":"Serializable","settings":[["statement_timeout","5s"]]}]}"#;
    let sc = SchemaCache::from_catalog(doc, vec![]).expect("minimal document");
    let f = &sc.routines(&QualifiedIdentifier::new("api", "f"))[0];
    assert!(f.returns_void());
    assert_eq!(f.isolation_level, Some(IsolationLevel::Serializable));
    assert_eq!(f.settings, vec![("statement_timeout".to_string(), "5s".to_string())]);
    assert_eq!(sc.media_handlers.len(), 4); // just the builtins

    assert!(SchemaCache::from_catalog("not json", vec![]).is_err());
    assert!(SchemaCache::from_catalog(r#"{"schemas":[]}"#, vec![]).is_err());
}

#[test]
fn catalog_param_shape() {
    let p = catalog_param(&["test".into()], &[], &["statement_timeout".into()], None, Parts::TABLES);
    assert_eq!(
        p,
        r#"{"extra_search_path":[],"functions":false,"hoisted_tx_settings":["statement_timeout"],"relationships":false,"schemas":["test"],"tables":true}"#
    );
    assert!(CATALOG_QUERY.contains("$1::json"));
    let p = catalog_param(&["test".into()], &[], &[], Some(&[16384, 16390]), Parts::relations(false));
    assert!(p.contains(r#""relations":[16384,16390]"#), "{p}");
    // the partial read is the full one with its filters in
    assert!(!CATALOG_QUERY.lines().any(|l| l.starts_with("AND c.oid = ANY")));
    assert_eq!(
        partial_catalog_query().lines().filter(|l| l.trim_start().starts_with("AND c.oid = ANY ((SELECT oids FROM only_rels)")).count(),
        2
    );
}

#[test]
fn ambiguous_m2m_lists_every_junction_pairing_in_postgrest_order() {
    // EmbedDisambiguationSpec: /whatev_sites?select=*,whatev_projects(*) -> 300 with 4 details
    let sc = cache();
    let found: Vec<(String, String)> = rels(&sc, "whatev_sites", "whatev_projects")
        .iter()
        .filter_map(|r| match r.cardinality() {
            Some(Cardinality::M2M(j)) if *j.table == qi("whatev_jobs") => Some((j.constraint1.to_string(), j.constraint2.to_string())),
            _ => None,
        })
        .collect();
    let expected = [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")]
        .map(|(s, p)| (format!("whatev_jobs_site_id_{s}_fkey"), format!("whatev_jobs_project_id_{p}_fkey")));
    assert_eq!(found, expected.to_vec());
}

#[test]
fn composite_key_exposed_twice_by_a_view_gives_the_cartesian_product() {
    // EmbedDisambiguationSpec: /i2459_composite_v2?select=*,i2459_composite_v1(*) -> 300 with 4 details
    let sc = cache();
    let cons = "i2459_composite_t2_t1_a_t1_b_fkey";
    let expected: Vec<Relationship> = [("t1_a1", "t1_b1"), ("t1_a1", "t1_b2"), ("t1_a2", "t1_b1"), ("t1_a2", "t1_b2")]
        .iter()
        .map(|(a, b)| fk("i2459_composite_v2", "i2459_composite_v1", m2o(cons, &[(a, "a"), (b, "b")]), true, true))
        .collect();
    assert_eq!(rels(&sc, "i2459_composite_v2", "i2459_composite_v1"), expected.iter().collect::<Vec<_>>());
}

/// The fixture's document and rules, for partial reads made from it.
fn fixture_parts() -> (serde_json::Value, Vec<(u32, String)>) {
    let doc = serde_json::from_str(include_str!("testdata/fixtures_test.json")).expect("the document");
    let rules = serde_json::from_str(include_str!("testdata/fixtures_test_rules.json")).expect("the rules");
    (doc, rules)
}

/// A partial read of `relids` that finds `doc`: its rows that mention them.
fn partial_read(doc: &serde_json::Value, relids: &[u32]) -> String {
    let mentions =
        |row: &serde_json::Value, keys: &[&str]| keys.iter().any(|k| row[*k].as_u64().is_some_and(|o| relids.contains(&(o as u32))));
    let keep = |part: &str, keys: &[&str]| -> serde_json::Value {
        doc[part].as_array().into_iter().flatten().filter(|row| mentions(row, keys)).cloned().collect()
    };
    serde_json::json!({
        "schemas": doc["schemas"], "partial": true,
        "tables": keep("tables", &["oid"]), "internal_pks": keep("internal_pks", &["relid"]),
        "m2o_rels": keep("m2o_rels", &["conrelid", "confrelid"]), "views": keep("views", &["oid"]),
        "view_keys": keep("view_keys", &["relid"]),
        "routines": [], "computed_rels": [], "representations": [], "media_handlers": [],
    })
    .to_string()
}

fn rules_of(rules: &[(u32, String)], relids: &[u32]) -> RuleTargets {
    rule_targets(rules.iter().filter(|(view, _)| relids.contains(view)).map(|(view, tree)| (*view, tree.as_bytes())))
}

fn all_rules(rules: &[(u32, String)]) -> RuleTargets {
    rule_targets(rules.iter().map(|(view, tree)| (*view, tree.as_bytes())))
}

fn oid_of(doc: &serde_json::Value, name: &str) -> u32 {
    doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"] == "test" && t["name"] == name)
        .and_then(|t| t["oid"].as_u64())
        .expect(name) as u32
}

#[test]
fn a_partial_read_that_finds_nothing_new_changes_nothing() {
    let (doc, rules) = fixture_parts();
    let (cache, mut rows) = SchemaCache::read(&[&doc.to_string()], all_rules(&rules)).unwrap();
    // a table with foreign keys both ways, and a view (its primary key is derived, not read)
    let relids = [oid_of(&doc, "clients"), oid_of(&doc, "projects"), oid_of(&doc, "projects_view")];
    let updated = cache.update(&mut rows, &relids, &partial_read(&doc, &relids), rules_of(&rules, &relids));
    assert!(matches!(updated, Ok(None)), "{updated:?}");
}

#[test]
fn a_partial_read_builds_what_a_full_read_of_the_same_catalogs_builds() {
    let (before, rules) = fixture_parts();
    let (cache, mut rows) = SchemaCache::read(&[&before.to_string()], all_rules(&rules)).unwrap();
    let (clients, projects) = (oid_of(&before, "clients"), oid_of(&before, "projects"));
    // projects loses its foreign key to clients, and clients gains a comment
    let mut after = before.clone();
    let m2o = after["m2o_rels"].as_array_mut().unwrap();
    let fks = m2o.len();
    m2o.retain(|r| !(r["conrelid"] == projects && r["confrelid"] == clients));
    assert_eq!(m2o.len(), fks - 1);
    for t in after["tables"].as_array_mut().unwrap() {
        if t["oid"] == clients {
            t["description"] = serde_json::json!("who pays");
        }
    }
    let full = SchemaCache::from_catalog(&after.to_string(), all_rules(&rules)).unwrap();
    let relids = [clients, projects];
    let updated = cache.update(&mut rows, &relids, &partial_read(&after, &relids), rules_of(&rules, &relids)).unwrap().expect("a change");
    assert_eq!(updated.tables, full.tables);
    assert_eq!(updated.relationships, full.relationships);
    assert_eq!(rels(&updated, "projects", "clients").len() + 1, rels(&cache, "projects", "clients").len());
    assert_eq!(updated.table("test", "clients").and_then(|t| t.description.as_deref()), Some("who pays"));

    // a rename is not a partial read's: functions and types name the relation too
    let mut renamed = after.clone();
    for t in renamed["tables"].as_array_mut().unwrap() {
        if t["oid"] == clients {
            t["name"] = serde_json::json!("customers");
        }
    }
    let again = updated.update(&mut rows, &[clients], &partial_read(&renamed, &[clients]), rules_of(&rules, &[clients]));
    assert!(matches!(again, Err(NeedsFullRead::Renamed)), "{again:?}");
}

/// A partial read of the functions alone (no relations) that finds `doc`'s.
fn functions_read(doc: &serde_json::Value) -> String {
    serde_json::json!({
        "schemas": doc["schemas"], "partial": true, "functions": true,
        "tables": [], "internal_pks": [], "m2o_rels": [], "views": [], "view_keys": [],
        "routines": doc["routines"], "computed_rels": doc["computed_rels"],
        "representations": doc["representations"], "media_handlers": doc["media_handlers"],
    })
    .to_string()
}

#[test]
fn a_read_of_the_functions_builds_what_a_full_read_builds() {
    let (before, rules) = fixture_parts();
    let (cache, mut rows) = SchemaCache::read(&[&before.to_string()], all_rules(&rules)).unwrap();
    // the function of a computed relationship is dropped (not a routine of the API: its one
    // parameter is a table's row)
    let mut after = before.clone();
    let computed = after["computed_rels"].as_array_mut().unwrap();
    let at = computed.iter().position(|c| c["function_schema"] == "test").expect("a computed relationship of the exposed schema");
    computed.remove(at);
    // and a function of its own
    after["routines"].as_array_mut().unwrap().remove(0);
    let full = SchemaCache::from_catalog(&after.to_string(), all_rules(&rules)).unwrap();
    assert_ne!(full.relationships, cache.relationships);
    assert_ne!(full.routines, cache.routines);

    let updated = cache.update(&mut rows, &[], &functions_read(&after), vec![]).unwrap().expect("a change");
    assert_eq!(updated.routines, full.routines);
    assert_eq!(updated.relationships, full.relationships);
    assert_eq!(updated.tables, full.tables);
    assert_eq!(updated.media_handlers, full.media_handlers);
    // read again as they are: nothing changed (a function of another schema, say)
    assert!(matches!(updated.update(&mut rows, &[], &functions_read(&after), vec![]), Ok(None)));
}

#[test]
fn a_full_read_in_two_halves_builds_what_one_read_builds() {
    let (doc, rules) = fixture_parts();
    let whole = SchemaCache::from_catalog(&doc.to_string(), all_rules(&rules)).unwrap();
    // what catalog.sql answers to the halves' parameters (Parts::TABLES, and
    // Parts::RELATIONSHIPS_AND_FUNCTIONS)
    let half = |flags: [(&str, bool); 3], read: &[&str]| {
        let mut half = doc.clone();
        for (flag, value) in flags {
            half[flag] = serde_json::json!(value);
        }
        for part in
            ["tables", "internal_pks", "m2o_rels", "views", "view_keys", "routines", "computed_rels", "representations", "media_handlers"]
        {
            if !read.contains(&part) {
                half[part] = serde_json::json!([]);
            }
        }
        half.to_string()
    };
    let tables = half([("tables_read", true), ("relationships_read", false), ("functions", false)], &["tables"]);
    let others = half(
        [("tables_read", false), ("relationships_read", true), ("functions", true)],
        &["internal_pks", "m2o_rels", "views", "view_keys", "routines", "computed_rels", "representations", "media_handlers"],
    );
    assert!(
        !whole.routines.is_empty()
            && whole.relationships.values().flatten().any(|r| matches!(r, Relationship::ComputedRelationship { .. }))
            && whole
                .relationships
                .values()
                .flatten()
                .any(|r| matches!(r, Relationship::Relationship { cardinality: Cardinality::M2M(_), .. }))
    );
    for docs in [[&tables, &others], [&others, &tables]] {
        let (split, _) = SchemaCache::read(&docs.map(String::as_str), all_rules(&rules)).unwrap();
        assert_eq!(split.tables, whole.tables);
        assert_eq!(split.relationships, whole.relationships);
        assert_eq!(split.routines, whole.routines);
        assert_eq!(split.representations, whole.representations);
        assert_eq!(split.media_handlers, whole.media_handlers);
    }
    // each part is read once, and none is missing
    let all = doc.to_string();
    assert!(SchemaCache::read(&[&all, &others], all_rules(&rules)).is_err(), "read twice");
    assert!(SchemaCache::read(&[&tables, &tables, &others], all_rules(&rules)).is_err(), "the tables twice");
    assert!(SchemaCache::read(&[&tables], all_rules(&rules)).is_err(), "a cache without its relationships");
    assert!(SchemaCache::read(&[&others], all_rules(&rules)).is_err(), "a cache without its tables");
    // a partial read (the functions alone) is no half of a full one
    assert!(SchemaCache::read(&[&tables, &functions_read(&doc)], all_rules(&rules)).is_err());
}
