//! The front as the pipeline's database: `core::app::Database` answered by leasing an
//! executor and sending it a job. The schema cache is the front's own: read through an
//! executor when the catalog generation moved, one read at a time, shared by every request.

use super::pool::{Answer, Lost};
use super::{wake_main, Cached, Shared};
use crate::shmem;
use postgrest_core::app::{Database, MainTx, Ran};
use postgrest_core::config::Config;
use postgrest_core::error::Error;
use postgrest_core::schema_cache::{catalog_param, CatalogRows, Parts, RuleTargets, SchemaCache};
use postgrest_core::wire::{self, Job, Reply};
use std::sync::Arc;
use std::time::Instant;

/// How many executors a job is sent to that go away before it begins.
const MAX_SENDS: usize = 3;

pub struct FrontDb<'a> {
    pub shared: &'a Shared,
    /// the request line, shown in pg_stat_activity while the executor runs it
    pub activity: String,
    /// how much of `activity` is method and path: the endpoint whose job times the pool
    /// learns (slow ones share a part)
    endpoint_len: usize,
    /// the generation of the cache `schema_cache` last answered with
    generation: u64,
}

impl<'a> FrontDb<'a> {
    pub fn new(shared: &'a Shared, method: &str, path: &str, query: &str) -> FrontDb<'a> {
        let mut activity = format!("{method} {path}");
        let endpoint_len = activity.len();
        if !query.is_empty() {
            activity.push('?');
            activity.push_str(query);
        }
        FrontDb { shared, activity, endpoint_len, generation: 0 }
    }

    /// Send one job's frame to an executor and await the reply. The request's own
    /// transaction (`of_endpoint`) counts toward its endpoint's job time.
    async fn call(&self, frame: &wire::Frame, of_endpoint: bool) -> Result<Reply, Error> {
        let endpoint = of_endpoint.then(|| &self.activity[..self.endpoint_len]);
        // a job queued behind one whose executor went away never began: it goes to another
        for _ in 0..MAX_SENDS {
            let lease = self.shared.pool.acquire(self.shared.limits(), wake_main, endpoint).await?;
            let pid = lease.pid();
            match lease.call(frame).await {
                Ok(Answer { reply, took }) => {
                    if let Some(endpoint) = endpoint {
                        self.shared.pool.observe(endpoint, took);
                    }
                    return match reply {
                        Reply::Failed(e) => Err(e),
                        reply => Ok(reply),
                    };
                }
                Err(Lost::NotStarted) => continue,
                Err(Lost::Running(why)) => return Err(Error::ExecutorLost(format!("executor {pid}: {why}"))),
            }
        }
        Err(Error::ExecutorLost(format!("{MAX_SENDS} executors went away before the job began")))
    }

    /// Read what changed again (the relations, and the functions if they changed) and update
    /// `cache` (and the `rows` it was derived from) with it: `Some(None)` when none of it
    /// changed after all, `None` when that takes a full read (a rename, a failed read).
    async fn read_again(
        &self,
        config: &Config,
        cache: &Arc<SchemaCache>,
        rows: &mut CatalogRows,
        changes: shmem::Changes,
    ) -> Option<Option<SchemaCache>> {
        let relids = changes.relations;
        let param = catalog_param(
            &config.db_schemas,
            &config.db_extra_search_path,
            &config.db_hoisted_tx_settings,
            Some(&relids),
            Parts::relations(changes.functions),
        );
        // before the read's snapshot: if one of them is dropped right after it, the executor
        // that sees the drop knows it was read
        relids.iter().copied().for_each(shmem::remember_exposed);
        let (document, rules) = self.load(param, Some(relids.clone()), !relids.is_empty()).await.ok()?;
        let (cache, mut kept) = (cache.clone(), std::mem::take(rows));
        let (kept, updated) = off_the_io_thread(move || {
            let updated = cache.update(&mut kept, &relids, &document, rules);
            (kept, updated)
        })
        .await
        .ok()?;
        *rows = kept;
        let updated = updated.ok()?;
        if updated.is_some() {
            shmem::count_build(false);
        }
        Some(updated)
    }

    /// Read the catalogs (`Job::Load` with `param`, or of `relations` only), and with `rules`
    /// the target lists of the views' rules.
    async fn load(&self, param: String, relations: Option<Vec<u32>>, rules: bool) -> Result<(String, RuleTargets), Error> {
        match self.call(&wire::encode_job(&Job::Load { param, relations, rules }), false).await? {
            Reply::Loaded { document, targets } => Ok((document, targets)),
            _ => Err(Error::Internal("unexpected reply to a schema read".into())),
        }
    }

    /// Give the memory of the builds back once they stop for a second. Not after each: the
    /// next build would fault it all in again (DDL every 100 ms made updates twice as slow),
    /// and a request need not wait for it.
    fn trim_when_quiet(&self) {
        // the builds are counted in shared memory (`shmem::count_build`), by this process only
        let build = shmem::builds();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if shmem::builds() == build {
                let _ = tokio::task::spawn_blocking(crate::memory::trim).await;
            }
        });
    }

    /// Make `cache` the one requests are planned with, at `generation`.
    fn install(&mut self, config: &Config, generation: u64, cache: Arc<SchemaCache>) {
        let old = self.shared.cache.write().unwrap_or_else(|p| p.into_inner()).replace(Cached {
            generation,
            schemas: config.db_schemas.clone(),
            cache,
        });
        // freeing a big cache takes tens of milliseconds (10,000 tables: 40 ms): not while
        // this request waits (a request that still holds it frees it when it ends)
        if let Some(old) = old {
            tokio::task::spawn_blocking(move || drop(old));
        }
        self.generation = generation;
    }

    /// The cache if it is current for `config` at catalog generation `generation`.
    fn current(&self, config: &Config, generation: u64) -> Option<(u64, Arc<SchemaCache>)> {
        let cached = self.shared.cache.read().unwrap_or_else(|p| p.into_inner());
        cached.as_ref().filter(|c| c.generation == generation && c.schemas == config.db_schemas).map(|c| (c.generation, c.cache.clone()))
    }
}

impl Database for FrontDb<'_> {
    async fn schema_cache(&mut self, config: &Config) -> Result<Arc<SchemaCache>, Error> {
        if let Some((generation, cache)) = self.current(config, shmem::generation()) {
            self.generation = generation;
            return Ok(cache);
        }
        let mut rows = self.shared.loading.lock().await;
        // another request may have read it while this one waited
        let now = shmem::generation();
        if let Some((generation, cache)) = self.current(config, now) {
            self.generation = generation;
            return Ok(cache);
        }
        // when only relations changed since the cache was read, read just them again
        let previous = self
            .shared
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|c| c.schemas == config.db_schemas)
            .map(|c| (c.generation, c.cache.clone()));
        if let (Some((generation, cache)), Some(kept)) = (previous, rows.as_mut()) {
            if let Some(changes) = shmem::changes(generation, now) {
                if let Some(updated) = self.read_again(config, &cache, kept, changes).await {
                    let rebuilt = updated.is_some();
                    let cache = updated.map(Arc::new).unwrap_or(cache);
                    self.install(config, now, cache.clone());
                    if rebuilt {
                        self.trim_when_quiet();
                    }
                    return Ok(cache);
                }
            }
        }
        // the rows may be half updated (or gone, if the update's thread failed): until a full
        // read succeeds there are none, so that no later update builds on them
        *rows = None;
        // the tables and the views' rules in one executor, the rest in another: the two halves
        // of a full read take about as long (ARCHITECTURE.md, "How it is built")
        let param = |parts| catalog_param(&config.db_schemas, &config.db_extra_search_path, &config.db_hoisted_tx_settings, None, parts);
        // the read's snapshots are taken after `now`: they have every change logged before,
        // and a change logged later makes a read of its own
        let start = Instant::now();
        let (tables, others) =
            tokio::join!(self.load(param(Parts::TABLES), None, true), self.load(param(Parts::RELATIONSHIPS_AND_FUNCTIONS), None, false));
        let ((tables, rules), (others, _)) = (tables?, others?);
        let read_in = start.elapsed();
        let built = off_the_io_thread(move || {
            let built = SchemaCache::read(&[&tables, &others], rules);
            // the documents are freed there too
            drop((tables, others));
            built
        });
        let (cache, read) = built.await?.map_err(|e| {
            eprintln!("postgrest_ext: could not build the schema cache: {e}");
            Error::NoSchemaCache
        })?;
        // PostgREST's "Schema cache queried in" and "loaded in" lines, as one
        eprintln!(
            "postgrest_ext: schema cache read in {:.1} ms, loaded in {:.1} ms: {}",
            read_in.as_secs_f64() * 1000.0,
            (start.elapsed() - read_in).as_secs_f64() * 1000.0,
            cache.summary()
        );
        *rows = Some(read);
        shmem::count_build(true);
        let cache = Arc::new(cache);
        self.install(config, now, cache.clone());
        // the documents and the old cache (unless a request still holds it) are gone
        self.trim_when_quiet();
        Ok(cache)
    }

    async fn stale(&mut self) -> Result<bool, Error> {
        match self.call(&wire::encode_job(&Job::Ping), false).await? {
            Reply::Pong { generation } => Ok(generation != self.generation),
            _ => Err(Error::Internal("unexpected reply to a ping".into())),
        }
    }

    async fn run(&mut self, main: &MainTx, check_fresh: bool) -> Result<Ran, Error> {
        match self.call(&wire::encode_run(self.generation, check_fresh, &self.activity, &main.job), true).await? {
            Reply::Done(output) => Ok(Ran::Done(output)),
            Reply::Stale => Ok(Ran::Stale),
            _ => Err(Error::Internal("unexpected reply to a transaction".into())),
        }
    }
}

/// A schema cache build (50 ms for apflora, 800 ms for 10,000 tables) on a thread of its own,
/// started for it (a few tens of µs): the I/O thread goes on with every other connection
/// meanwhile. Not on tokio's blocking pool: the requests handled there (`http.rs`,
/// `takes_milliseconds`) may all be waiting for this very build, and it would queue behind
/// them. The thread inherits the I/O thread's mask, every signal blocked.
async fn off_the_io_thread<R: Send + 'static>(build: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
    let (done, built) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("postgrest_ext build".into())
        .spawn(move || {
            let _ = done.send(build());
        })
        .map_err(|e| Error::Internal(format!("cannot start a thread for the schema cache build: {e}")))?;
    built.await.map_err(|_| Error::Internal("panic while building the schema cache".into()))
}
