//! The cluster never goes down because of a request: failing queries, panics, timeouts and
//! SIGTERM all leave PostgreSQL up and the workers serving.

use postgrest_ext_e2e::*;
use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

#[test]
fn a_failing_query_leaves_the_worker_serving() {
    for _ in 0..5 {
        assert_eq!(get("/products?id=eq.x").status, 400);
        assert_eq!(get("/products?select=nosuchcolumn").status, 400);
    }
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

#[test]
fn a_panicking_handler_becomes_a_500() {
    let r = get("/__panic");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["code"], "PGRSTX00");
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

#[test]
fn statement_timeout_cancels_the_query() {
    let start = Instant::now();
    let r = get("/slow");
    assert!(start.elapsed() < Duration::from_secs(4), "took {:?}", start.elapsed());
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["code"], "57014");
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

#[test]
fn requests_show_in_pg_stat_activity() {
    let t = std::thread::spawn(|| get("/sleepy"));
    std::thread::sleep(Duration::from_millis(300));
    let seen = psql("select query from pg_stat_activity where backend_type = 'postgrest_ext worker' and state = 'active'");
    assert!(seen.contains("GET /sleepy"), "pg_stat_activity: {seen:?}");
    assert_eq!(t.join().unwrap().status, 200);
}

#[test]
fn sigterm_interrupts_a_running_query_and_the_worker_comes_back() {
    let t = std::thread::spawn(|| request("GET", "/slow", &[]));
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let n = psql(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity \
         where backend_type = 'postgrest_ext worker' and query like 'GET /slow%' and state = 'active'",
    );
    assert_eq!(n, "1");
    let outcome = t.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(1), "terminating took {:?}", start.elapsed());
    assert!(outcome.is_err() || outcome.unwrap().status >= 500);
    wait_until_serving();
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}

/// PostgREST's graceful shutdown: at a SIGTERM the front answers the request in progress
/// (saying `Connection: close`) and closes an idle keep-alive connection at once.
#[test]
fn sigterm_lets_the_request_in_progress_finish() {
    wait_until_serving();
    let mut idle = connect_with_timeout(10).unwrap();
    idle.write_all(b"GET /products?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut idle = BufReader::new(idle);
    assert_eq!(read_response(&mut idle).unwrap().status, 200);
    let busy = connect_with_timeout(10).unwrap();
    (&busy).write_all(b"GET /sleepy HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate_the_front();
    let mut rest = vec![];
    assert_eq!(idle.read_to_end(&mut rest).unwrap(), 0, "the idle connection got {rest:?}");
    // closed while the other request still runs (it sleeps 1 s)
    busy.set_nonblocking(true).unwrap();
    let unanswered = (&busy).read(&mut [0u8; 1]);
    assert!(unanswered.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock), "{unanswered:?}");
    busy.set_nonblocking(false).unwrap();
    let r = read_response(&mut BufReader::new(busy)).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(r.body.contains("slept"), "{}", r.body);
    wait_until_serving();
    assert_cluster_never_restarted();
}

/// A request still running when the drain's time is up is cancelled: it gets the cancel
/// error, and its transaction rolls back.
#[test]
fn sigterm_cancels_a_request_that_outlasts_the_drain() {
    wait_until_serving();
    let t = std::thread::spawn(|| {
        request_with_body("POST", "/rpc/write_and_linger", &[("Content-Type", "application/json")], Some(r#"{"note":"lingered"}"#))
    });
    std::thread::sleep(Duration::from_millis(300));
    terminate_the_front();
    let r = t.join().unwrap().expect("an answer");
    // not the statement_timeout (the function sets none): the drain's cancel
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["message"], "canceling statement due to user request");
    assert_eq!(psql("select count(*) from api.visits where note = 'lingered'"), "0");
    wait_until_serving();
    assert_cluster_never_restarted();
}

#[test]
fn sighup_reloads_the_configuration() {
    psql("alter system set postgrest.db_max_rows = '2'");
    psql("select pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(500));
    let r = get("/products?select=id");
    psql("alter system reset postgrest.db_max_rows");
    psql("select pg_reload_conf()");
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(get("/products?select=id").json().as_array().map(Vec::len), Some(6));
}

#[test]
fn workers_are_not_superusers() {
    let roles = psql(
        "select distinct r.rolsuper from pg_stat_activity a join pg_roles r on r.oid = a.usesysid \
         where a.backend_type = 'postgrest_ext worker'",
    );
    assert_eq!(roles, "f");
}

/// Terminate the front and every executor (the front starts again, and starts new executors)
/// and wait until one of them has logged `needle` since `before` (the log length when we
/// started).
fn restart_workers_and_wait_for(before: usize, needle: &str) {
    psql("select pg_terminate_backend(pid) from pg_stat_activity where backend_type in ('postgrest_ext worker', 'postgrest_ext front')");
    for _ in 0..100 {
        if server_log().get(before..).is_some_and(|l| l.contains(needle)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no {needle:?} in the server log");
}

#[test]
fn an_authenticator_with_superuser_is_refused() {
    let before = server_log().len();
    psql("alter role authenticator superuser");
    restart_workers_and_wait_for(before, "is a superuser; refusing to serve");
    let refused = request("GET", "/products?select=id", &[]);
    psql("alter role authenticator nosuperuser");
    let before = server_log().len();
    restart_workers_and_wait_for(before, "postgrest_ext: serving");
    wait_until_serving();
    assert!(refused.is_err(), "a superuser worker answered: {:?}", refused.map(|r| r.status));
    assert_cluster_never_restarted();
}

#[test]
fn an_oversized_body_is_refused_before_it_is_read() {
    let url = std::env::var("PGRST_URL").expect("PGRST_URL");
    let mut s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // announce 1 GB, send a few bytes: the worker must answer without buffering it
    s.write_all(
        b"POST /texts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n[{",
    )
    .unwrap();
    let mut buf = vec![0u8; 512];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    assert_cluster_never_restarted();
}
