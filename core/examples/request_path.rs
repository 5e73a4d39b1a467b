//! The front's share of a request, without the sockets: `app::handle` for one request against a
//! database that answers at once, N times, with the time per request. For profiling the
//! request path (`perf record` on this binary), not a benchmark of the server.
//!
//! cargo run --release -p postgrest-core --example request_path [N] [PATH?QUERY]

use bytes::Bytes;
use postgrest_core::app::{handle, Database, MainTx, Output, Ran};
use postgrest_core::auth::JwtCache;
use postgrest_core::config::Config;
use postgrest_core::error::Error;
use postgrest_core::http::HttpRequest;
use postgrest_core::schema_cache::SchemaCache;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Counts the allocations, to print how many a request makes.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

struct Instant0(Arc<SchemaCache>, Output);

impl Database for Instant0 {
    async fn schema_cache(&mut self, _config: &Config) -> Result<Arc<SchemaCache>, Error> {
        Ok(self.0.clone())
    }
    async fn stale(&mut self) -> Result<bool, Error> {
        Ok(false)
    }
    async fn run(&mut self, _main: &MainTx, _check_fresh: bool) -> Result<Ran, Error> {
        Ok(Ran::Done(self.1.clone()))
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the fake database answers at once"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let target = args.get(2).cloned().unwrap_or_else(|| "/items?id=eq.5".into());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let settings: HashMap<String, String> = HashMap::from([("db_schemas".into(), "test".into()), ("db_anon_role".into(), "anon".into())]);
    let config = Config::from_settings(&settings).expect("config");
    let col = |s: &str| Some(Bytes::copy_from_slice(s.as_bytes()));
    let body = r#"[{"id":5,"name":"item 5","price":1.5,"category_id":7,"created_at":"2024-01-01T00:00:00+00:00","payload":{}}]"#;
    let output = Output { rows: vec![vec![None, col("1"), col(body), None, None]], explain: None };
    let mut db = Instant0(Arc::new(SchemaCache::fixture()), output);
    let jwt = JwtCache::new();
    let headers = [("host", "127.0.0.1:3099"), ("accept", "application/json")];
    let started = Instant::now();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let mut status = 0;
    for _ in 0..n {
        let request = HttpRequest {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            headers: headers.iter().map(|(k, v)| (*k, std::borrow::Cow::Borrowed(*v))).collect(),
            body: "".into(),
        };
        status = block_on(handle(&config, &jwt, &mut db, &request)).response.status;
    }
    let per = started.elapsed().as_secs_f64() / n as f64;
    let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - allocations) / n.max(1);
    println!("{target}: status {status}, {:.2} µs and {allocations} allocations per request ({n} requests)", per * 1e6);
}
