//! Time the Rust half of a schema cache build: `rule_targets` (the rules' target lists from
//! their saved text; the server's executors take them from the relation cache instead) and
//! `SchemaCache::from_catalog` (decoding the
//! catalog query's document and deriving the relationships, in the front) on a saved
//! document and its rules, e.g. written by `scripts/bench/schema/run_query.sh` (issue #19).
//!
//!   cargo run -p postgrest-core --release --example schema_build -- DOC.json RULES.json [RUNS] [DUMP]
//!
//! Prints the median and the fastest of RUNS (default 11) builds in milliseconds and the cache's
//! summary line. With UPDATE=PARTIAL.json:PARTIAL_RULES.json:OID,OID... in the environment, times
//! `SchemaCache::update` with that partial read (`catalog.sql`'s `--partial` lines) instead. With DUMP, also writes the built cache there in a canonical text form (maps
//! sorted by key), so that two documents can be compared by what the server makes of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use postgrest_core::schema_cache::SchemaCache;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: schema_build DOC.json RULES.json [RUNS] [DUMP]");
        std::process::exit(2);
    };
    let rules_path = args.next().unwrap_or_else(|| panic!("usage: schema_build DOC.json RULES.json [RUNS] [DUMP]"));
    let rules = std::fs::read_to_string(&rules_path).unwrap_or_else(|e| panic!("{rules_path}: {e}"));
    // decoded before the clock starts: the saved rules are JSON
    let rules: Vec<(u32, String)> = serde_json::from_str(&rules).unwrap_or_else(|e| panic!("{rules_path}: {e}"));
    let rules_len: usize = rules.iter().map(|(_, tree)| tree.len()).sum();
    let runs: usize = args.next().map(|n| n.parse().expect("RUNS must be a number")).unwrap_or(11).max(1);
    let dump = args.next();
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));

    if let Ok(update) = std::env::var("UPDATE") {
        let [partial, partial_rules, oids] = update.splitn(3, ':').collect::<Vec<_>>()[..] else { panic!("UPDATE=DOC:RULES:OIDS") };
        let partial = std::fs::read_to_string(partial).unwrap_or_else(|e| panic!("{partial}: {e}"));
        let partial_rules = std::fs::read_to_string(partial_rules).unwrap_or_else(|e| panic!("{partial_rules}: {e}"));
        let partial_rules: Vec<(u32, String)> = serde_json::from_str(&partial_rules).expect("rules");
        let oids: Vec<u32> = oids.split(',').map(|o| o.parse().expect("an oid")).collect();
        let (cache, rows) = SchemaCache::read(&[&doc], targets(&rules)).expect("the document");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut rows = rows.clone();
            let start = Instant::now();
            let updated = cache.update(&mut rows, &oids, &partial, targets(&partial_rules)).expect("an update");
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            assert!(updated.is_some(), "the partial read changed nothing");
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{path}: update median {:.2} ms, min {:.2} ms over {runs} runs", times[runs / 2], times[0]);
        return;
    }

    // the rules' target lists, which the executor that read the rules takes from them, and
    // from_catalog, which the front runs on the document and those
    let (mut scans, mut times) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    let mut cache = SchemaCache::default();
    for _ in 0..runs {
        let start = Instant::now();
        let targets = targets(&rules);
        scans.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        let built = SchemaCache::from_catalog(&doc, targets).unwrap_or_else(|e| panic!("{path}: {e}"));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        cache = built; // the previous cache is dropped here, after the clock stopped
    }
    scans.sort_by(|a, b| a.total_cmp(b));
    times.sort_by(|a, b| a.total_cmp(b));
    let rels: usize = cache.relationships.values().map(Vec::len).sum();
    println!(
        "{path}: {} bytes, rule_targets median {:.2} ms, from_catalog median {:.2} ms, min {:.2} ms over {runs} runs; {} ({rels} relationships in all)",
        doc.len() + rules_len,
        scans[runs / 2],
        times[runs / 2],
        times[0],
        cache.summary()
    );
    if let Some(out) = dump {
        std::fs::write(&out, canonical(&cache)).unwrap_or_else(|e| panic!("{out}: {e}"));
    }
}

fn targets(rules: &[(u32, String)]) -> postgrest_core::schema_cache::RuleTargets {
    postgrest_core::schema_cache::rule_targets(rules.iter().map(|(view, tree)| (*view, tree.as_bytes())))
}

/// The cache as text, independent of hash map iteration order.
fn canonical(cache: &SchemaCache) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "schemas {:?}", cache.schemas);
    for table in cache.tables.values() {
        let _ = writeln!(out, "table {table:?}");
    }
    for (key, rels) in cache.relationships.iter().collect::<BTreeMap<_, _>>() {
        let _ = writeln!(out, "relationships {key:?} {rels:?}");
    }
    for (key, routines) in cache.routines.iter().collect::<BTreeMap<_, _>>() {
        let _ = writeln!(out, "routines {key:?} {routines:?}");
    }
    for (key, rep) in cache.representations.iter().collect::<BTreeMap<_, _>>() {
        let _ = writeln!(out, "representation {key:?} {rep:?}");
    }
    for (key, handler) in cache.media_handlers.iter().collect::<BTreeMap<_, _>>() {
        let _ = writeln!(out, "media_handler {key:?} {handler:?}");
    }
    out
}
