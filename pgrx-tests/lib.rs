//! Helpers for the end-to-end tests: a minimal HTTP/1.1 client over std's TcpStream, psql,
//! and the server log. `scripts/e2e.sh` starts the cluster and sets PGRST_URL, PGRST_PSQL and
//! PGRST_SERVER_LOG.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn base() -> String {
    std::env::var("PGRST_URL").expect("PGRST_URL is set by scripts/e2e.sh")
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    request_with_body(method, path, headers, None)
}

/// One request with a body (sent with its Content-Length) on a fresh connection.
pub fn request_with_body(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> std::io::Result<Response> {
    let url = base();
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!("{method} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", encode_target(path));
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        req.push_str("\r\n");
    }
    stream.write_all(req.as_bytes())?;
    let mut raw = vec![];
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other(format!("no response: {text:?}")))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Ok(Response { status, headers, body: body.to_string() })
}

/// Percent-encode what may not appear in a request target (space, `"`, non-ASCII, ...), as
/// clients do; the conformance runner uses the same safe set.
pub fn encode_target(path: &str) -> String {
    const SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%";
    let mut out = String::new();
    for ch in path.chars() {
        if SAFE.contains(ch) {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub fn get(path: &str) -> Response {
    request("GET", path, &[]).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Run SQL as the superuser in the served database; returns psql's unaligned output.
pub fn psql(sql: &str) -> String {
    let cmd = std::env::var("PGRST_PSQL").expect("PGRST_PSQL is set by scripts/e2e.sh");
    let mut parts = cmd.split_whitespace();
    let out = Command::new(parts.next().expect("psql")).args(parts).arg("-c").arg(sql).output().expect("psql runs");
    assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The front's process id, as pg_stat_activity shows it.
pub fn front_pid() -> String {
    psql("select pid from pg_stat_activity where backend_type = 'postgrest_ext front'")
}

pub fn server_log() -> String {
    std::fs::read_to_string(std::env::var("PGRST_SERVER_LOG").expect("PGRST_SERVER_LOG")).unwrap_or_default()
}

/// Poll until the server answers GET / with 200 (after a restart or reload).
pub fn wait_until_serving() {
    for _ in 0..100 {
        if let Ok(r) = request("GET", "/", &[]) {
            if r.status == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not come back");
}

/// A SIGTERM to the front, which drains (src/front/shutdown.rs) and is started again (after a
/// test before may have left it restarting).
pub fn terminate_the_front() {
    wait_until_serving();
    let n = psql("select count(pg_terminate_backend(pid)) from pg_stat_activity where backend_type = 'postgrest_ext front'");
    assert_eq!(n, "1");
}

pub fn assert_cluster_never_restarted() {
    let log = server_log();
    assert!(
        !log.contains("terminated by signal") && !log.contains("was terminated"),
        "the cluster restarted:\n{}",
        log.lines().filter(|l| l.contains("terminated")).collect::<Vec<_>>().join("\n")
    );
}

// ---- raw-connection helpers (adversarial.rs, injection.rs) ---------------------------------

/// `host:port` of the server under test.
pub fn server_addr() -> String {
    base().trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// A fresh TCP connection to the server, with read/write timeouts of `secs` seconds.
pub fn connect_with_timeout(secs: u64) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(server_addr())?;
    stream.set_read_timeout(Some(Duration::from_secs(secs)))?;
    stream.set_write_timeout(Some(Duration::from_secs(secs)))?;
    Ok(stream)
}

/// Read one HTTP/1.x response from `reader`: status line, headers, and a body delimited by
/// Content-Length, chunked encoding, or the end of the connection. HEAD-less: a response to
/// HEAD must not be read with this.
pub fn read_response<R: std::io::BufRead>(reader: &mut R) -> std::io::Result<Response> {
    let mut line = String::new();
    let read_line = |reader: &mut R, line: &mut String| -> std::io::Result<()> {
        line.clear();
        let mut raw = vec![];
        reader.read_until(b'\n', &mut raw)?;
        if raw.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        *line = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_string();
        Ok(())
    };
    read_line(reader, &mut line)?;
    let status =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = vec![];
    loop {
        read_line(reader, &mut line)?;
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let mut body = vec![];
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            read_line(reader, &mut line)?;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                read_line(reader, &mut line)?; // the empty line after the last chunk
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader, &mut line)?;
        }
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Send `bytes` as they are on a fresh connection and read one response.
pub fn raw_request(bytes: &[u8]) -> std::io::Result<Response> {
    let mut stream = connect_with_timeout(20)?;
    stream.write_all(bytes)?;
    let mut reader = std::io::BufReader::new(stream);
    read_response(&mut reader)
}

/// Percent-encode every byte of `s` but the unreserved characters of RFC 3986, so that a
/// value arrives as written in one query-string value or path segment.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `ALTER SYSTEM SET postgrest.<key>` for each pair, then reload and give the server time to
/// take the settings in.
pub fn set_settings(settings: &[(&str, &str)]) {
    for (k, v) in settings {
        psql(&format!("alter system set postgrest.{k} = '{v}'"));
    }
    psql("select pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(1500));
}

/// Undo [`set_settings`] for `keys`.
pub fn reset_settings(keys: &[&str]) {
    for k in keys {
        psql(&format!("alter system reset postgrest.{k}"));
    }
    psql("select pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(500));
}
