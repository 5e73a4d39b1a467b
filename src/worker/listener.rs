//! The HTTP listener of one worker: a tokio current-thread runtime on the worker's own thread,
//! hyper HTTP/1.1 connections, and a 100 ms tick for signals.
//!
//! Connection handling only moves bytes: each complete request goes to `backend::handle`, which
//! runs synchronously on this thread (the only thread allowed to call PostgreSQL). Every
//! worker binds the same address with SO_REUSEPORT and the kernel spreads connections.

use super::signals;
use crate::{backend, guc, schema_cache};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use pgrx::pg_sys;
use postgrest_core::auth::JwtCache;
use postgrest_core::config::Config;
use postgrest_core::http::{HttpRequest, HttpResponse};
use std::cell::RefCell;
use std::convert::Infallible;
use std::ffi::CString;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// Larger request bodies are refused with 413 (PostgreSQL cannot take a text over 1 GB anyway).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub fn serve(config: Config) -> ! {
    let listener = loop {
        match bind(&config) {
            Ok(l) => break l,
            Err(e) => {
                pgrx::log!("postgrest_ext: cannot listen on {}: {e}; retrying", config.listen_address());
                for _ in 0..50 {
                    signals::sleep_ms(100);
                }
            }
        }
    };
    pgrx::log!("postgrest_ext: serving http://{}", config.listen_address());
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            pgrx::log!("postgrest_ext: cannot start the I/O runtime: {e}");
            signals::idle_until_shutdown();
        }
    };
    let config = Rc::new(RefCell::new(config));
    let jwt = Rc::new(JwtCache::new());
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, accept_loop(listener, config, jwt));
    signals::exit_if_shutdown();
    // SAFETY: on the worker's main thread, after the runtime's block_on returned (no request,
    // hence no transaction, is running); proc_exit runs the exit callbacks and does not return.
    unsafe { pg_sys::proc_exit(1) }
}

fn bind(config: &Config) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let addr: SocketAddr =
        config.listen_address().parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nodelay(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

async fn accept_loop(listener: std::net::TcpListener, config: Rc<RefCell<Config>>, jwt: Rc<JwtCache>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            pgrx::log!("postgrest_ext: cannot register the listener: {e}");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let (config, jwt) = (config.clone(), jwt.clone());
                    tokio::task::spawn_local(async move {
                        let service = service_fn(move |req| respond(req, config.clone(), jwt.clone()));
                        let _ = http1::Builder::new()
                            .timer(TokioTimer::new())
                            // a client that never finishes its headers must not hold the socket forever
                            .header_read_timeout(HEADER_READ_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // EMFILE/ENFILE and friends: back off instead of spinning on accept
                Err(e) => {
                    pgrx::log!("postgrest_ext: accept failed: {e}; backing off");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = tick.tick() => {
                if signals::shutdown_requested() {
                    return;
                }
                if signals::reload_if_sighup() {
                    reload(&config);
                }
            }
        }
    }
}

/// SIGHUP: new config snapshot and a fresh schema cache (as PostgREST's reload does).
fn reload(config: &Rc<RefCell<Config>>) {
    match guc::config() {
        Ok(c) => *config.borrow_mut() = c,
        Err(e) => pgrx::log!("postgrest_ext: invalid configuration after reload, keeping the old one: {e}"),
    }
    schema_cache::invalidate();
}

async fn respond(req: Request<Incoming>, config: Rc<RefCell<Config>>, jwt: Rc<JwtCache>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    // Bodies are read whole before execution: bound them, since an allocation failure
    // aborts the process and that restarts the whole cluster.
    if hyper::body::Body::size_hint(&body).lower() > MAX_BODY_BYTES as u64 {
        // a Content-Length over the limit is refused before anything is read
        return Ok(plain(413, "request body too large"));
    }
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return Ok(plain(413, "request body too large")),
        Err(_) => return Ok(plain(400, "could not read the request body")),
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect(),
        body: body.to_vec(),
    };
    report_activity(&request);
    let response = backend::handle(&config.borrow(), &jwt, &request);
    report_idle();
    Ok(to_hyper(response))
}

fn to_hyper(r: HttpResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|_| plain(500, "invalid response header"))
}

fn plain(status: u16, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// Show the request in pg_stat_activity (`query` column) while it runs.
fn report_activity(r: &HttpRequest) {
    let text = if r.query.is_empty() { format!("{} {}", r.method, r.path) } else { format!("{} {}?{}", r.method, r.path, r.query) };
    if let Ok(c) = CString::new(text) {
        // SAFETY: on the worker's main thread (the runtime is current-thread), connected, so this
        // backend has its status entry; `c` is NUL-terminated and outlives the call, which copies it.
        unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, c.as_ptr()) };
    }
}

fn report_idle() {
    // SAFETY: as in report_activity; a null query string is allowed (nothing is copied).
    unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_IDLE, std::ptr::null()) };
}
