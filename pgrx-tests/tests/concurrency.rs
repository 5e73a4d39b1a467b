//! Request-level dispatch (ARCHITECTURE.md): a slow request holds one executor, never a
//! connection or another request; executors grow on demand up to `db-pool` and retire when
//! idle; past the pool's bound a request waits `db-pool-acquisition-timeout` and gets 504
//! PGRST003; an executor that dies loses only its own request. The cluster starts with
//! `postgrest.workers = 2` warm executors.

use postgrest_core::wire::{self, Job, Reply};
use postgrest_ext_e2e::*;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The tests change pool settings: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn naps(n: usize, seconds: f64) -> Vec<JoinHandle<std::io::Result<Response>>> {
    (0..n).map(|_| std::thread::spawn(move || request("GET", &format!("/rpc/nap?seconds={seconds}"), &[]))).collect()
}

fn executors() -> usize {
    executor_pids().len()
}

fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not happen within {timeout:?}");
}

#[test]
fn slow_requests_do_not_delay_a_fast_one() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // a slow request holds one of the two warm executors; the fast one takes the other
    let slow = naps(1, 1.5);
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let fast = get("/products?select=id&id=eq.1");
    let took = start.elapsed();
    assert_eq!(fast.status, 200, "{}", fast.body);
    assert!(took < Duration::from_millis(900), "the fast request waited {took:?} behind slow ones");
    for s in slow {
        assert_eq!(s.join().unwrap().map(|r| r.status).ok(), Some(200));
    }
    assert_cluster_never_restarted();
}

#[test]
fn executors_grow_under_load_and_retire_when_idle() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_settings(&[("db_pool_max_idletime", "1")]);
    let slow = naps(5, 1.5);
    eventually("five executors running", Duration::from_secs(3), || executors() >= 5);
    for s in slow {
        assert_eq!(s.join().unwrap().map(|r| r.status).ok(), Some(200));
    }
    // idle beyond db_pool_max_idletime: back to the two warm ones
    eventually("idle executors retiring", Duration::from_secs(8), || executors() == 2);
    reset_settings(&["db_pool_max_idletime"]);
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

fn executor_pids() -> std::collections::BTreeSet<String> {
    psql("select pid from pg_stat_activity where backend_type = 'postgrest_ext worker'").lines().map(String::from).collect()
}

/// The scheduling policy of a process (field 41 of /proc/PID/stat, after the command's parens).
fn scheduling_policy(pid: &str) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the executor's /proc stat");
    let after_comm = &stat[stat.rfind(')').expect("the command in parentheses") + 2..];
    // fields from the third (state) on; the policy is the 41st field of the whole line
    after_comm.split(' ').nth(41 - 3).and_then(|f| f.parse().ok()).expect("a policy field")
}

#[test]
fn executors_run_as_batch_so_that_a_job_does_not_preempt_the_front() {
    // a job written to a SCHED_OTHER executor switched the CPU to it at once (ARCHITECTURE.md)
    const SCHED_BATCH: u32 = 3;
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    let pids = executor_pids();
    assert!(!pids.is_empty(), "no executor found");
    for pid in &pids {
        assert_eq!(scheduling_policy(pid), SCHED_BATCH, "executor {pid}");
    }
    assert_eq!(scheduling_policy(&front_pid()), 0, "the front keeps the default policy");
}

#[test]
fn the_front_waits_on_executor_sockets_for_replies_only() {
    // a unix socket wakes every waiter registered for writability each time its peer reads:
    // registered so, the front's I/O threads were woken for nothing by each job an executor
    // read (src/front/socket.rs)
    const EPOLLOUT: u32 = 0x004;
    const EPOLLET: u32 = 1 << 31;
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    let front = front_pid();
    // the inodes of the unix sockets (/proc/net/unix: the seventh column)
    let net_unix = std::fs::read_to_string("/proc/net/unix").expect("/proc/net/unix");
    let unix: std::collections::HashSet<u64> = net_unix.lines().skip(1).filter_map(|l| l.split_whitespace().nth(6)?.parse().ok()).collect();
    let mut registered = 0;
    for fd in std::fs::read_dir(format!("/proc/{front}/fd")).expect("the front's fds").flatten() {
        let is_epoll = std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy().contains("eventpoll"));
        if !is_epoll {
            continue;
        }
        let info = std::fs::read_to_string(format!("/proc/{front}/fdinfo/{}", fd.file_name().to_string_lossy())).unwrap_or_default();
        // "tfd: 29 events: 8000201d data: ... pos:0 ino:10171f sdev:9" (hexadecimal)
        for line in info.lines().filter(|l| l.starts_with("tfd:")) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let events = words.iter().position(|w| *w == "events:").and_then(|i| u32::from_str_radix(words.get(i + 1)?, 16).ok());
            let ino = words.iter().find_map(|w| u64::from_str_radix(w.strip_prefix("ino:")?, 16).ok());
            let (Some(events), Some(ino)) = (events, ino) else { panic!("unexpected fdinfo line {line:?}") };
            // tokio's registrations are edge-triggered, PostgreSQL's wait event sets are not
            if unix.contains(&ino) && events & EPOLLET != 0 {
                registered += 1;
                assert_eq!(events & EPOLLOUT, 0, "an executor socket registered for writing: {line}");
            }
        }
    }
    assert!(registered >= 2, "the two warm executors' sockets are registered ({registered} found)");
}

/// The executors, once no one has come or gone for 0.7 s.
fn settled_executors() -> std::collections::BTreeSet<String> {
    let mut settled = executor_pids();
    eventually("the executors settled", Duration::from_secs(8), || {
        std::thread::sleep(Duration::from_millis(700));
        let now = executor_pids();
        let same = now == settled;
        settled = now;
        same
    });
    settled
}

#[test]
fn executors_are_replaced_past_db_pool_max_lifetime() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // the two warm ones, and those earlier tests grew that have not retired yet
    let first = executor_pids();
    assert!(first.len() >= 2, "{first:?}");
    set_settings(&[("db_pool_max_lifetime", "1")]);
    // one at a time, each at an idle moment, the warm ones too; requests are served meanwhile
    eventually("every executor replaced", Duration::from_secs(20), || {
        let r = get("/products?select=id&id=eq.1");
        assert_eq!(r.status, 200, "{}", r.body);
        let now = executor_pids();
        now.len() >= 2 && now.is_disjoint(&first)
    });
    reset_settings(&["db_pool_max_lifetime"]);
    // with the default (30 minutes) they stay (none has been idle for db-pool-max-idletime),
    // once the successor of the last one retired has connected
    let settled = settled_executors();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(executor_pids(), settled);
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

#[test]
fn past_db_pool_requests_get_504_after_the_acquisition_timeout() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_settings(&[("db_pool", "2"), ("db_pool_acquisition_timeout", "1"), ("db_pool_max_idletime", "1")]);
    // executors left over from earlier tests retire first: exactly two remain
    eventually("the pool back to two executors", Duration::from_secs(8), || executors() == 2);
    let start = Instant::now();
    let outcomes: Vec<Response> = naps(4, 1.8).into_iter().map(|h| h.join().unwrap().expect("an answer")).collect();
    reset_settings(&["db_pool", "db_pool_acquisition_timeout", "db_pool_max_idletime"]);
    let refused: Vec<&Response> = outcomes.iter().filter(|r| r.status == 504).collect();
    assert_eq!(outcomes.iter().filter(|r| r.status == 200).count(), 2, "two executors, two naps served");
    assert_eq!(refused.len(), 2, "{:?}", outcomes.iter().map(|r| (r.status, &r.body)).collect::<Vec<_>>());
    assert_eq!(refused[0].json()["code"], "PGRST003");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_cluster_never_restarted();
}

#[test]
fn a_terminated_executor_loses_only_its_own_request() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let doomed = std::thread::spawn(|| request("GET", "/rpc/nap?seconds=1.9", &[]));
    let others = naps(2, 0.5);
    std::thread::sleep(Duration::from_millis(300));
    let n = psql(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity \
         where backend_type = 'postgrest_ext worker' and query like 'GET /rpc/nap?seconds=1.9%'",
    );
    assert_eq!(n, "1");
    let doomed = doomed.join().unwrap();
    assert!(doomed.as_ref().map_or(true, |r| r.status >= 500), "{:?}", doomed.map(|r| r.status));
    for o in others {
        assert_eq!(o.join().unwrap().map(|r| r.status).ok(), Some(200));
    }
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

#[test]
fn slow_endpoints_leave_a_quarter_of_the_pool_to_the_others() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_settings(&[("db_pool", "4"), ("db_pool_acquisition_timeout", "4")]);
    // the pool learns that /rpc/nap is slow (a job of 100 ms or more)
    assert_eq!(get("/rpc/nap?seconds=0.3").status, 200);
    six_slow_calls_leave_a_quarter_of_the_pool("/rpc/nap?seconds=1.2", || Ok(get("/products?select=id&id=eq.1")));
    reset_settings(&["db_pool", "db_pool_acquisition_timeout"]);
    assert_cluster_never_restarted();
}

/// A burst of calls to an endpoint the front has not seen end yet: until one has, they hold
/// from the slow share too, and a request of another new endpoint goes alone (it must not wait
/// for the share to learn that it is fast).
#[test]
fn a_first_burst_of_slow_calls_leaves_a_quarter_of_the_pool_to_the_others() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_settings(&[("db_pool", "4"), ("db_pool_acquisition_timeout", "5")]);
    // endpoints (method and path) only this test calls: GET and POST /rpc/first_nap
    six_slow_calls_leave_a_quarter_of_the_pool("/rpc/first_nap?seconds=1.5", || {
        request_with_body("POST", "/rpc/first_nap", &[("Content-Type", "application/json")], Some(r#"{"seconds": 0}"#))
    });
    reset_settings(&["db_pool", "db_pool_acquisition_timeout"]);
    assert_cluster_never_restarted();
}

/// With `db_pool` 4: six GETs of `slow` (a nap) want the whole pool, three of its four
/// executors is all they hold, and `fast` is answered meanwhile; then every nap is served.
fn six_slow_calls_leave_a_quarter_of_the_pool(slow: &'static str, fast: impl FnOnce() -> std::io::Result<Response>) {
    let path = slow.split('?').next().unwrap_or(slow);
    let running = || {
        psql(&format!(
            "select count(*) from pg_stat_activity where backend_type = 'postgrest_ext worker' and query like 'GET {path}%' and state = 'active'"
        ))
    };
    let naps: Vec<_> = (0..6).map(|_| std::thread::spawn(move || request("GET", slow, &[]))).collect();
    eventually("three naps running", Duration::from_secs(3), || running() == "3");
    let start = Instant::now();
    let answer = fast();
    let took = start.elapsed();
    let answer = answer.expect("the fast request is answered");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(took < Duration::from_millis(900), "the fast request waited {took:?} behind slow ones");
    let at_once = running();
    assert!(at_once.parse::<i32>().unwrap_or(9) <= 3, "{at_once} naps at once");
    for nap in naps {
        assert_eq!(nap.join().unwrap().map(|r| r.status).ok(), Some(200), "each nap is served in turn");
    }
}

/// Fast requests from `clients` threads at once for `seconds`, each asking for one product by
/// id: the (status, asked id, body) of every one.
fn hammer(clients: usize, seconds: f64, ids: &[String]) -> Vec<(u16, String, String)> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let ids = ids.to_vec();
            std::thread::spawn(move || {
                let mut answers = vec![];
                for i in (c..).step_by(7) {
                    if Instant::now() >= until {
                        break;
                    }
                    let id = ids[i % ids.len()].clone();
                    answers.push(match request("GET", &format!("/products?select=id&id=eq.{id}"), &[]) {
                        Ok(r) => (r.status, id, r.body),
                        Err(e) => (0, id, e.to_string()),
                    });
                }
                answers
            })
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
}

fn product_ids() -> Vec<String> {
    let ids: Vec<String> = psql("select string_agg(id::text, ',' order by id) from api.products").split(',').map(String::from).collect();
    assert!(ids.len() >= 2, "the fixture has products: {ids:?}");
    ids
}

#[test]
fn jobs_queued_behind_a_busy_executor_get_their_own_replies() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // two executors for sixteen clients: the fast jobs wait in the executors' queues
    set_settings(&[("db_pool", "2")]);
    let ids = product_ids();
    assert_eq!(get("/products?select=id&limit=1").status, 200, "the pool learns the endpoint is fast");
    let answers = hammer(16, 1.0, &ids);
    for (status, id, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, &format!("[{{\"id\":{id}}}]"), "the reply to id={id}");
    }
    assert!(executors() <= 2, "db_pool = 2 holds");
    reset_settings(&["db_pool"]);
    assert_cluster_never_restarted();
}

#[test]
fn jobs_queued_behind_a_terminated_executor_are_served_by_another() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_settings(&[("db_pool", "2")]);
    let ids = product_ids();
    assert_eq!(get("/products?select=id&limit=1").status, 200);
    let load = std::thread::spawn(move || hammer(16, 1.5, &ids));
    std::thread::sleep(Duration::from_millis(300));
    let n = psql(
        "select count(pg_terminate_backend(pid)) from (select pid from pg_stat_activity \
         where backend_type = 'postgrest_ext worker' limit 1) e",
    );
    assert_eq!(n, "1");
    let answers = load.join().unwrap();
    // the job it was running, if any, fails; those queued behind it never began: they are
    // sent to the other executor
    let failed: Vec<_> = answers.iter().filter(|(status, _, _)| *status != 200).collect();
    assert!(failed.len() <= 1, "only the executor's own request fails: {failed:?}");
    assert!(failed.iter().all(|(status, _, _)| *status >= 500), "{failed:?}");
    for (status, id, body) in answers.iter().filter(|(status, _, _)| *status == 200) {
        assert_eq!(body, &format!("[{{\"id\":{id}}}]"), "the reply to id={id} ({status})");
    }
    eventually("two executors again", Duration::from_secs(5), || executors() == 2);
    reset_settings(&["db_pool"]);
    assert_cluster_never_restarted();
}

/// This test as an executor: connected to the front's socket (in the data directory), it said
/// hello and the front wrote it the next request's job (the executor idle the shortest time
/// takes it). Timing would decide whether a real one is asked to stop between reading jobs.
fn executor_given_a_job() -> (UnixStream, std::thread::JoinHandle<Response>) {
    // no executor left to connect (one that did later would be the newest idle one)
    settled_executors();
    let socket = format!("{}/postgrest_ext.sock", psql("show data_directory"));
    let mut executor = UnixStream::connect(&socket).expect("the front's socket for executors");
    executor.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    wire::encode_reply(&Reply::Hello { pid: std::process::id() as i32 }).write_to(&mut executor).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let request = std::thread::spawn(|| get("/products?select=id&id=eq.1"));
    let job = wire::read_frame(&mut executor).expect("the front wrote the request's job to the newest executor");
    assert!(matches!(wire::decode_job(&job), Ok(Job::Run { .. })), "{:?}", wire::decode_job(&job));
    (executor, request)
}

#[test]
fn a_job_written_to_an_executor_that_is_leaving_goes_to_another() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // the schema cache is current: the next request's one job is its transaction
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    // an executor asked to stop says so instead of reading the job written to it
    let (mut executor, request) = executor_given_a_job();
    wire::encode_reply(&Reply::Leaving).write_to(&mut executor).unwrap();
    drop(executor);
    let served = request.join().unwrap();
    assert_eq!((served.status, served.body.as_str()), (200, r#"[{"id":1}]"#));
    // one that goes away without a word may have begun it: that request fails (503 PGRST001)
    let (executor, request) = executor_given_a_job();
    drop(executor);
    let failed = request.join().unwrap();
    assert_eq!((failed.status, failed.json()["code"].as_str()), (503, Some("PGRST001")), "{}", failed.body);
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}
