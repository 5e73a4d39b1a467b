//! Time the Rust half of a schema cache build: `SchemaCache::from_json` (decoding the catalog
//! query's document and deriving the relationships) on a saved document, e.g. one written by
//! `scripts/bench/schema/run_query.sh` (issue #19).
//!
//!   cargo run -p postgrest-core --release --example schema_build -- DOC.json [RUNS] [DUMP]
//!
//! Prints the median and the fastest of RUNS (default 11) builds in milliseconds and the cache's
//! summary line. With DUMP, also writes the built cache there in a canonical text form (maps
//! sorted by key), so that two documents can be compared by what the server makes of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use postgrest_core::schema_cache::SchemaCache;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: schema_build DOC.json [RUNS] [DUMP]");
        std::process::exit(2);
    };
    let runs: usize = args.next().map(|n| n.parse().expect("RUNS must be a number")).unwrap_or(11).max(1);
    let dump = args.next();
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));

    let mut times = Vec::with_capacity(runs);
    let mut cache = SchemaCache::default();
    for _ in 0..runs {
        let start = Instant::now();
        let built = SchemaCache::from_json(&doc).unwrap_or_else(|e| panic!("{path}: {e}"));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        cache = built; // the previous cache is dropped here, after the clock stopped
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let rels: usize = cache.relationships.values().map(Vec::len).sum();
    println!(
        "{path}: {} bytes, from_json median {:.2} ms, min {:.2} ms over {runs} runs; {} ({rels} relationships in all)",
        doc.len(),
        times[runs / 2],
        times[0],
        cache.summary()
    );
    if let Some(out) = dump {
        std::fs::write(&out, canonical(&cache)).unwrap_or_else(|e| panic!("{out}: {e}"));
    }
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
