//! The front's I/O threads: a tokio runtime started with every signal blocked (signals belong
//! to the main thread, whose pgrx handlers must not run elsewhere), hyper HTTP/1.1
//! connections, and the executors' sockets. Each complete request runs `core::app::handle` as a
//! task of its own, which awaits its executor's reply: a slow request holds one executor and
//! nothing else, never a thread, a connection or another request.

use super::client::Client;
use super::db::FrontDb;
use super::pool::{self, Pool};
use super::spin;
use super::Shared;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use postgrest_core::app;
use postgrest_core::budget::{Refused, Reservation};
use postgrest_core::config::Config;
use postgrest_core::error::Error;
use postgrest_core::http::{HttpRequest, HttpResponse};
use postgrest_core::text::Text;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::time::Duration;

/// Larger request bodies are refused with 413 (PostgreSQL cannot take a text over 1 GB anyway).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// A request's headers must all arrive within it, and each piece of its body within it of the
/// last: Warp's slowloris timeout (PostgREST's server). Without the second, a client that
/// announces a body and stops sending would hold that body's part of the in-flight budget
/// for as long as it keeps the connection: a few such clients and every upload waits.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A body from which on its request is handled off the I/O thread (parsed at a few hundred
/// MB/s: under a millisecond below it).
const LARGE_BODY_BYTES: usize = 256 * 1024;
/// The most threads in tokio's blocking pool (its default is 512).
const BLOCKING_THREADS: usize = 64;

/// Bind the HTTP address, retrying every 5 s while it is taken. Main thread.
pub fn bind_until_bound(config: &Config) -> std::net::TcpListener {
    loop {
        match bind(config) {
            Ok(l) => return l,
            Err(e) => {
                pgrx::log!("postgrest_ext: cannot listen on {}: {e}; retrying", config.listen_address());
                for _ in 0..50 {
                    crate::worker::signals::sleep_ms(100);
                }
            }
        }
    }
}

fn bind(config: &Config) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let addr: SocketAddr =
        config.listen_address().parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nodelay(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Half the CPUs: the executors need the rest (under `pk` each side takes about half of a
/// request's CPU time). On two CPUs that is one thread, which also spins before it parks
/// (`spin`): with more, the thread that spins is not always the one the I/O driver wakes.
/// Work that takes milliseconds leaves the I/O threads (`takes_milliseconds`, the schema
/// cache's builds), so that one thread holds up no connection for long.
fn io_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Start the I/O threads serving `http` and accepting executors. Main thread.
pub fn start(shared: Arc<Shared>, http: std::net::TcpListener, executors: UnixListener) -> Option<tokio::runtime::Runtime> {
    let threads = io_threads();
    let runtime = with_signals_blocked(|| {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads).thread_name("postgrest_ext io").on_thread_start(block_signals).enable_io().enable_time();
        // `takes_milliseconds` requests hold one while they wait for their executor: beyond
        // this many they queue (a body's budget bounds bodies; nothing bounds `GET /` else)
        builder.max_blocking_threads(BLOCKING_THREADS);
        if threads == 1 {
            spin::enable();
            builder.on_thread_park(spin::before_park).on_thread_unpark(spin::after_unpark);
        }
        builder.build()
    });
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            pgrx::log!("postgrest_ext: cannot start the I/O runtime: {e}");
            return None;
        }
    };
    let accepting = shared.clone();
    let io = runtime.handle().clone();
    // executors connect rarely: a plain blocking accept on a thread of its own
    let spawned = with_signals_blocked(|| {
        std::thread::Builder::new().name("postgrest_ext executors".into()).spawn(move || {
            let _runtime = io.enter();
            for stream in executors.incoming().flatten() {
                super::accept_executor(&accepting, stream);
            }
        })
    });
    if let Err(e) = spawned {
        pgrx::log!("postgrest_ext: cannot start the executor listener: {e}");
        return None;
    }
    runtime.spawn(accept_loop(http, shared));
    Some(runtime)
}

fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    let mut old = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: plain libc on sigset_t values we own; restores this thread's mask afterwards
    unsafe {
        let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_BLOCK, all.as_ptr(), old.as_mut_ptr());
    }
    let out = f();
    // SAFETY: `old` was filled by the pthread_sigmask call above
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut()) };
    out
}

/// Threads started later (tokio's blocking pool) block every signal too.
fn block_signals() {
    // SAFETY: plain libc on a sigset_t we own, affecting only the calling thread
    unsafe {
        let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_BLOCK, all.as_ptr(), std::ptr::null_mut());
    }
}

async fn accept_loop(listener: std::net::TcpListener, shared: Arc<Shared>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        eprintln!("postgrest_ext: cannot register the HTTP listener");
        return;
    };
    spin::watch(listener.as_raw_fd());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // the listener closes: new connections are refused
            () = shared.shutdown.draining() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                spin::watch(stream.as_raw_fd());
                tokio::spawn(serve(stream, shared.clone()));
            }
            // EMFILE/ENFILE and friends: back off instead of spinning on accept
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// One client connection, until it closes; when the front drains, until its request in
/// progress is answered (with `Connection: close`), or at once if it is idle.
async fn serve(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let _open = shared.shutdown.opened();
    let service = {
        let shared = shared.clone();
        service_fn(move |req| respond(req, shared.clone()))
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        // a client that never finishes its headers must not hold the socket forever
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(Client::new(stream)), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = shared.shutdown.draining() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

async fn respond(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    // a task of its own: it runs to its end even if the client goes away meanwhile, so an
    // executor is never left with a reply nobody reads
    Ok(match tokio::spawn(async move { read_and_handle(shared, parts, body).await }).await {
        Ok(response) => response,
        Err(_) => plain(500, "the request handler failed"),
    })
}

async fn read_and_handle(shared: Arc<Shared>, parts: hyper::http::request::Parts, body: Incoming) -> Response<Full<Bytes>> {
    let config = shared.config();
    // held until the response is made: the body counts while it is read, queued and run
    let mut reservation = shared.budget.none();
    let body = match read_body(body, &mut reservation, config.db_pool_acquisition_timeout, &shared.pool).await {
        Ok(body) => body,
        Err(BodyError::ShuttingDown) => return to_hyper(app::error_response(&config, &pool::shutting_down())),
        Err(BodyError::TooLarge) => return plain(413, "request body too large"),
        Err(BodyError::Spent) => {
            let mb = shared.budget.size() >> 20;
            return to_hyper(app::error_response(&config, &Error::BodyBudget(mb)));
        }
        Err(BodyError::Unreadable) => return plain(400, "could not read the request body"),
        // hyper closes the connection: the rest of the body was not read
        Err(BodyError::Stalled) => return plain(408, "the request body stopped arriving"),
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers.iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()))).collect(),
        body,
    };
    let response = if takes_milliseconds(&request) {
        // on the blocking pool; the I/O thread still drives its executor's socket
        let io = tokio::runtime::Handle::current();
        let handled = tokio::task::spawn_blocking(move || io.block_on(async { to_hyper(handle(&shared, &config, &request).await) }));
        handled.await.unwrap_or_else(|_| plain(500, "the request handler failed"))
    } else {
        to_hyper(handle(&shared, &config, &request).await)
    };
    drop(reservation);
    response
}

/// A request whose own work in the front can take milliseconds: its body's parsing (keys
/// scanned, formats converted) or the OpenAPI document. It is handled on tokio's blocking
/// pool, so that it holds up no other connection of its I/O thread.
fn takes_milliseconds(request: &HttpRequest) -> bool {
    request.body.len() >= LARGE_BODY_BYTES || request.path == "/"
}

enum BodyError {
    TooLarge,
    Spent,
    Unreadable,
    /// nothing of it arrived for [`READ_TIMEOUT`]
    Stalled,
    /// it waited for the budget until the front stopped taking jobs
    ShuttingDown,
}

/// Read the body into one buffer with room for its NUL (the one copy of it on this side),
/// reserving its size from the budget first: the Content-Length, or chunk by chunk.
async fn read_body(mut body: Incoming, reservation: &mut Reservation, wait: Duration, pool: &Pool) -> Result<Text, BodyError> {
    let announced = hyper::body::Body::size_hint(&body).lower();
    // Bodies are read whole before execution: bound them, since an allocation failure
    // aborts the process and that restarts the whole cluster.
    if announced > MAX_BODY_BYTES as u64 {
        // a Content-Length over the limit is refused before anything is read
        return Err(BodyError::TooLarge);
    }
    if let Err(e) = reserve(reservation, announced, wait, pool).await {
        drain(body).await;
        return Err(e);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(announced as usize + 1);
    while let Some(frame) = next_frame(&mut body).await? {
        let Ok(frame) = frame else { return Err(BodyError::Unreadable) };
        let Ok(chunk) = frame.into_data() else { continue };
        let len = buf.len() + chunk.len();
        if len > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        if let Err(e) = reserve(reservation, len as u64, wait, pool).await {
            drop(buf);
            drain(body).await;
            return Err(e);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Text::from(buf))
}

/// Hold `amount` of the budget in all, waiting up to `wait`, or until the front stops taking
/// jobs (a shutdown's drain is over: nothing would run the request any more).
async fn reserve(reservation: &mut Reservation, amount: u64, wait: Duration, pool: &Pool) -> Result<(), BodyError> {
    tokio::select! {
        // a reservation that needs no wait is never refused for the shutdown
        biased;
        reserved = reservation.grow_to(amount, wait) => reserved.map_err(|r| match r {
            Refused::TooLarge => BodyError::TooLarge,
            Refused::Timeout => BodyError::Spent,
        }),
        () = pool.stopped() => Err(BodyError::ShuttingDown),
    }
}

/// Read the rest of a refused body without keeping it, so that the client, still sending,
/// gets its answer (a connection closed with unread data is reset, and the answer lost).
async fn drain(mut body: Incoming) {
    while let Ok(Some(Ok(_))) = next_frame(&mut body).await {}
}

/// The body's next frame (`None` at its end), unless none arrives within [`READ_TIMEOUT`].
async fn next_frame(body: &mut Incoming) -> Result<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>, BodyError> {
    tokio::time::timeout(READ_TIMEOUT, body.frame()).await.map_err(|_| BodyError::Stalled)
}

/// One request, start to end; it awaits its executor without holding a thread.
async fn handle(shared: &Shared, config: &Config, request: &HttpRequest) -> HttpResponse {
    let mut db = FrontDb::new(shared, &request.method, &request.path, &request.query);
    let handled = app::handle(config, &shared.jwt, &mut db, request).await;
    if let Some(e) = handled.error.as_ref().filter(|e| e.status() >= 500) {
        // executors log their own failures; these are the front's (an executor lost, a panic)
        if !matches!(e, postgrest_core::error::Error::Pg { .. } | postgrest_core::error::Error::Raised(_)) {
            eprintln!("postgrest_ext: {} {} failed: {e}", request.method, request.path);
        }
    }
    handled.response
}

fn to_hyper(r: HttpResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(r.body)).unwrap_or_else(|_| plain(500, "invalid response header"))
}

fn plain(status: u16, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}
