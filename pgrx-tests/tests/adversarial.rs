//! Adversarial HTTP clients: slow, huge, malformed, pipelining, vanishing and flooding
//! connections. A worker crash restarts the whole cluster, so each test ends by checking that
//! the server still answers and that PostgreSQL never restarted.
//!
//! Wall time: `slowloris_is_closed_by_the_header_timeout` waits for the 30 s header timeout
//! (about 31 s); everything else takes a few seconds.

use postgrest_ext_e2e::*;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// The server answers a plain read correctly, and quickly.
fn assert_serving() {
    let start = Instant::now();
    let r = get("/products?select=id&id=eq.1");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, r#"[{"id":1}]"#);
    assert!(start.elapsed() < Duration::from_secs(3), "a plain read took {:?}", start.elapsed());
}

fn host_line() -> String {
    format!("Host: {}\r\n", server_addr())
}

/// True when the peer closed (EOF or reset) within `within`; reads and drops any bytes.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

// --- slow clients ---------------------------------------------------------------------------

#[test]
fn partial_headers_do_not_block_other_requests() {
    // more half-open requests than workers, so every worker holds some
    let mut slow = vec![];
    for i in 0..16 {
        let mut s = connect_with_timeout(5).unwrap();
        s.write_all(format!("GET /products?select=id HTTP/1.1\r\n{}X-Slow-{i}: ", host_line()).as_bytes()).unwrap();
        slow.push(s);
    }
    for _ in 0..20 {
        assert_serving();
    }
    // a body that never arrives either
    let mut s = connect_with_timeout(5).unwrap();
    s.write_all(
        format!("POST /inj_target HTTP/1.1\r\n{}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[{{\"id\":", host_line())
            .as_bytes(),
    )
    .unwrap();
    slow.push(s);
    for _ in 0..20 {
        assert_serving();
    }
    drop(slow);
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn slowloris_is_closed_by_the_header_timeout() {
    // one header byte a second: the 30 s header timeout counts from the start of the head,
    // not from the last byte, so the trickle does not keep the connection open
    let start = Instant::now();
    let mut s = connect_with_timeout(5).unwrap();
    s.write_all(format!("GET /products HTTP/1.1\r\n{}", host_line()).as_bytes()).unwrap();
    let mut closed_after = None;
    let mut i = 0u32;
    while start.elapsed() < Duration::from_secs(35) {
        if s.write_all(b"X").is_err() || closed_within(&mut s, Duration::from_millis(1000)) {
            closed_after = Some(start.elapsed());
            break;
        }
        i += 1;
        if i.is_multiple_of(10) {
            assert_serving();
        }
    }
    let closed_after = closed_after.expect("a slowloris connection was still open after 35 s");
    assert!(closed_after >= Duration::from_secs(20), "closed after only {closed_after:?}");
    assert_serving();
    assert_cluster_never_restarted();
}

// --- huge and malformed requests ------------------------------------------------------------

/// The status of the response to `bytes`, or None when the server closed without one.
fn status_of(bytes: &[u8]) -> Option<u16> {
    match raw_request(bytes) {
        Ok(r) => Some(r.status),
        Err(_) => None,
    }
}

#[test]
fn huge_headers_get_431_or_a_clean_close() {
    let host = host_line();
    // one 64 KiB header: within hyper's buffer, an ordinary request
    let big = "a".repeat(64 * 1024);
    let r = raw_request(format!("GET /products?select=id&id=eq.1 HTTP/1.1\r\n{host}X-Big: {big}\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // one 1 MiB header
    let huge = "a".repeat(1024 * 1024);
    let status = status_of(format!("GET /products HTTP/1.1\r\n{host}X-Huge: {huge}\r\n\r\n").as_bytes());
    assert!(matches!(status, None | Some(431) | Some(400)), "1 MiB header: {status:?}");
    // many headers
    let many: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let status = status_of(format!("GET /products HTTP/1.1\r\n{host}{many}\r\n").as_bytes());
    assert!(matches!(status, None | Some(431) | Some(400)), "500 headers: {status:?}");
    // a huge request line
    let long = "a".repeat(1024 * 1024);
    let status = status_of(format!("GET /products?select={long} HTTP/1.1\r\n{host}\r\n").as_bytes());
    assert!(matches!(status, None | Some(414) | Some(431) | Some(400)), "1 MiB request line: {status:?}");
    // a huge cookie and a huge Prefer, within the buffer: request.cookies / Prefer parsing
    let cookies: String = (0..2000).map(|i| format!("c{i}=v{i}; ")).collect();
    let prefer: String = (0..2000).map(|_| "return=minimal, ").collect();
    let r = raw_request(
        format!("GET /products?select=id&id=eq.1 HTTP/1.1\r\n{host}Cookie: {cookies}\r\nPrefer: {prefer}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    assert!(r.status < 500, "{} {}", r.status, r.body);
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn a_body_over_its_content_length_or_too_large_is_refused_cleanly() {
    let host = host_line();
    // a Content-Length beyond the limit: refused before anything is read
    let status = status_of(
        format!("POST /inj_target HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n[]").as_bytes(),
    );
    assert!(matches!(status, None | Some(413) | Some(400)), "{status:?}");
    // an invalid Content-Length
    let status = status_of(format!("POST /inj_target HTTP/1.1\r\n{host}Content-Length: -1\r\n\r\n").as_bytes());
    assert!(matches!(status, None | Some(400)), "{status:?}");
    // both Content-Length and chunked (request smuggling shape)
    let status = status_of(
        format!("POST /inj_target HTTP/1.1\r\n{host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").as_bytes(),
    );
    assert!(status.is_none_or(|s| s < 500), "{status:?}");
    // a bad chunk size
    let status = status_of(
        format!("POST /inj_target HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").as_bytes(),
    );
    assert!(status.is_none_or(|s| (400..500).contains(&s)), "{status:?}");
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn bad_utf8_and_bad_percent_encoding_are_4xx() {
    let host = host_line();
    // raw bytes that are not UTF-8 in the path, the query and a header value
    for target in [&b"/\xff\xfe"[..], b"/products?select=\xff", b"/products?name=eq.\xc3\x28", b"/rpc/\xe2\x82"] {
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(target);
        req.extend_from_slice(format!(" HTTP/1.1\r\n{host}Connection: close\r\n\r\n").as_bytes());
        let status = status_of(&req);
        assert!(status.is_none_or(|s| (400..500).contains(&s)), "{:?}: {status:?}", String::from_utf8_lossy(target));
    }
    let mut req = format!("GET /products?select=id&id=eq.1 HTTP/1.1\r\n{host}Connection: close\r\nX-Bad: ").into_bytes();
    req.extend_from_slice(b"\xff\xfe\x80\r\nCookie: a=\xff\r\nPrefer: timezone=\xff\r\n\r\n");
    let status = status_of(&req);
    assert!(status.is_none_or(|s| s < 500), "bad UTF-8 in headers: {status:?}");
    // percent-encodings that decode to invalid UTF-8, or are not percent-encodings at all
    let mut bad = vec![];
    for path in [
        "/%FF%FE",
        "/products%",
        "/%",
        "/%ZZ",
        "/rpc/%C3%28",
        "/products?select=id&id=eq.%ZZ",
        "/products?select=id&id=eq.%",
        "/products?select=id&id=in.(%E2%82)",
        "/products?select=id&order=%C3%28",
        "/products?select=id&%FF=eq.1",
        "/products?select=id&id=eq.%00",
        "/products?select=na%00me",
        "/pro%00ducts",
        "/rpc/inj_echo?a=%00",
    ] {
        match request("GET", path, &[]) {
            Ok(r) if (400..500).contains(&r.status) => {}
            Ok(r) => bad.push(format!("{path}: {} {}", r.status, r.body)),
            Err(e) => bad.push(format!("{path}: {e}")),
        }
    }
    // a select that starts with what no field can start with is empty, as in PostgREST
    // (Parsec's `sepBy` without `eof`), and an empty select reads as `*`
    // and a value that is not UTF-8 is decoded leniently (U+FFFD), as PostgREST does
    for path in ["/products?select=%FF", "/products?select=%FF%FE,id", "/products?name=eq.%FF", "/products?select=id&name=eq.%C0%80"] {
        match request("GET", path, &[]) {
            Ok(r) if r.status < 500 => {}
            Ok(r) => bad.push(format!("{path}: {} {}", r.status, r.body)),
            Err(e) => bad.push(format!("{path}: {e}")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn malformed_request_lines_are_refused() {
    let host = host_line();
    for line in [
        "GARBAGE",
        "GET",
        "GET /products",
        "GET /products HTTP/9.9",
        "GET products HTTP/1.1",
        "GET /products HTTP/1.1 extra",
        "\u{0}\u{1}\u{2}",
        "BREW /products HTTP/1.1",
        "GET http://evil.example/products?select=id HTTP/1.1",
        "GET * HTTP/1.1",
    ] {
        let status = status_of(format!("{line}\r\n{host}Connection: close\r\n\r\n").as_bytes());
        assert!(status.is_none_or(|s| s < 500), "{line:?}: {status:?}");
    }
    // a header line without a colon, a header name with a space, bare LF line ends
    for head in [
        format!("GET /products HTTP/1.1\r\n{host}NoColon\r\n\r\n"),
        format!("GET /products HTTP/1.1\r\n{host}Bad Name: x\r\n\r\n"),
        "GET /products?select=id&id=eq.1 HTTP/1.1\nConnection: close\n\n".to_string(),
    ] {
        let status = status_of(head.as_bytes());
        assert!(status.is_none_or(|s| s < 500), "{head:?}: {status:?}");
    }
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn pathological_queries_and_bodies_fail_cleanly() {
    // hyper refuses a request target over 64 KiB (414), so each stays under it. What
    // PostgreSQL refuses (its stack depth check, SQLSTATE 54001) is an error response as in
    // PostgREST, never a crashed worker; the parser's own nesting limit answers 400.
    let deep_json = format!("/products?select=details{}", "->a".repeat(20_000));
    let deep_logic = format!("/products?or={}id.eq.1{}", "(and(".repeat(8_000), "))".repeat(8_000));
    let deep_embed = format!("/customers?select={}id{}", "orders(".repeat(8_000), ")".repeat(8_000));
    let many_filters: String = (0..5_000).map(|i| format!("&id=neq.{i}")).collect();
    let many_filters = format!("/products?select=id{many_filters}");
    let long_in = format!("/products?select=id&id=in.({})", (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let many_columns = format!("/products?select={}", vec!["id"; 20_000].join(","));
    let many_ors = format!("/products?select=id&or=({})", (0..5_000).map(|i| format!("id.eq.{i}")).collect::<Vec<_>>().join(","));
    let host = host_line();
    let mut bad = vec![];
    for target in [&deep_json, &deep_logic, &deep_embed, &many_filters, &long_in, &many_columns, &many_ors] {
        let start = Instant::now();
        let r = raw_request(format!("GET {target} HTTP/1.1\r\n{host}Connection: close\r\n\r\n").as_bytes());
        let what = &target[..40];
        match r {
            Ok(r) if r.status == 414 => bad.push(format!("{what}...: 414, the test did not reach the parser")),
            Ok(r) if r.status < 500 => {}
            Ok(r) if r.json()["code"].as_str().is_some_and(|c| c.starts_with("54")) => {}
            Ok(r) => bad.push(format!("{what}...: {} {}", r.status, r.body)),
            Err(e) => bad.push(format!("{what}...: {e}")),
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{what}...: took {:?}", start.elapsed());
        assert_serving();
    }
    // deeply nested JSON bodies: parsed by serde_json (128 levels) or, with ?columns=, by
    // PostgreSQL (its stack depth check)
    let nested = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    for target in ["/inj_target", "/inj_target?columns=id", "/rpc/echo_json"] {
        let req = format!(
            "POST {target} HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{nested}",
            nested.len()
        );
        match raw_request(req.as_bytes()) {
            Ok(r) if r.status < 500 => {}
            Ok(r) if r.json()["code"].as_str().is_some_and(|c| c.starts_with("54")) => {}
            Ok(r) => bad.push(format!("nested body to {target}: {} {}", r.status, r.body)),
            Err(e) => bad.push(format!("nested body to {target}: {e}")),
        }
        assert_serving();
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_cluster_never_restarted();
}

// --- protocol versions and connection reuse -------------------------------------------------

#[test]
fn http_1_0_requests_are_answered() {
    let mut s = connect_with_timeout(10).unwrap();
    s.write_all(b"GET /products?select=id&id=eq.1 HTTP/1.0\r\n\r\n").unwrap();
    let mut raw = vec![];
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with(r#"[{"id":1}]"#), "{text}");
    // HTTP/1.0 with keep-alive asked for: two requests on one connection
    let s = connect_with_timeout(10).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut reader = BufReader::new(s);
    for id in [1, 2] {
        w.write_all(format!("GET /products?select=id&id=eq.{id} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes()).unwrap();
        let r = read_response(&mut reader).unwrap();
        assert_eq!((r.status, r.body), (200, format!(r#"[{{"id":{id}}}]"#)));
    }
    assert_serving();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let host = host_line();
    let mut s = connect_with_timeout(10).unwrap();
    let mut batch = String::new();
    for id in 1..=6 {
        batch.push_str(&format!("GET /products?select=id&id=eq.{id} HTTP/1.1\r\n{host}\r\n"));
    }
    // a write and an error in the middle of the pipeline
    batch.push_str(&format!(
        "POST /inj_target HTTP/1.1\r\n{host}Content-Type: application/json\r\nPrefer: tx=rollback\r\nContent-Length: 2\r\n\r\n[]"
    ));
    batch.push_str(&format!("GET /products?id=eq.notanumber HTTP/1.1\r\n{host}\r\n"));
    batch.push_str(&format!("GET /products?select=id&id=eq.3 HTTP/1.1\r\n{host}Connection: close\r\n\r\n"));
    s.write_all(batch.as_bytes()).unwrap();
    let mut reader = BufReader::new(s);
    for id in 1..=6 {
        let r = read_response(&mut reader).unwrap();
        assert_eq!((r.status, r.body), (200, format!(r#"[{{"id":{id}}}]"#)));
    }
    assert_eq!(read_response(&mut reader).unwrap().status, 201);
    assert_eq!(read_response(&mut reader).unwrap().status, 400);
    let r = read_response(&mut reader).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, r#"[{"id":3}]"#));
    assert_serving();
}

// --- clients that go away -------------------------------------------------------------------

#[test]
fn a_client_vanishing_mid_request_leaves_the_server_serving() {
    let host = host_line();
    for _ in 0..20 {
        // half a request line
        let mut s = connect_with_timeout(5).unwrap();
        s.write_all(b"GET /prod").unwrap();
        drop(s);
        // headers, then a body shorter than its Content-Length
        let mut s = connect_with_timeout(5).unwrap();
        s.write_all(
            format!("POST /inj_target HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{{\"id\": 9")
                .as_bytes(),
        )
        .unwrap();
        drop(s);
        // a half-close after the head of a chunked request
        let mut s = connect_with_timeout(5).unwrap();
        s.write_all(
            format!("POST /inj_target HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{{\"id")
                .as_bytes(),
        )
        .unwrap();
        let _ = s.shutdown(Shutdown::Write);
        let mut sink = vec![];
        let _ = s.read_to_end(&mut sink);
    }
    assert_serving();
    // nothing of the cut-off inserts arrived
    assert_eq!(psql("select count(*) from api.inj_target where id = 9"), "0");
    assert_cluster_never_restarted();
}

#[test]
fn a_client_vanishing_mid_response_leaves_the_server_serving() {
    let host = host_line();
    for i in 0..10 {
        let mut s = connect_with_timeout(10).unwrap();
        s.write_all(format!("GET /big HTTP/1.1\r\n{host}\r\n").as_bytes()).unwrap();
        if i % 2 == 0 {
            // read the start of the ~20 MB response, then go
            let mut buf = [0u8; 16 * 1024];
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        } else {
            // read nothing at all, while the server is still writing
            std::thread::sleep(Duration::from_millis(200));
        }
        drop(s);
        assert_serving();
    }
    // a client that stops reading but keeps the socket open does not stall other requests
    let mut stuck = connect_with_timeout(10).unwrap();
    stuck.write_all(format!("GET /big HTTP/1.1\r\n{host}\r\n").as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..10 {
        assert_serving();
    }
    drop(stuck);
    assert_serving();
    assert_cluster_never_restarted();
}

#[test]
fn thousands_of_connections_opened_and_dropped() {
    let host = host_line();
    let start = Instant::now();
    for i in 0..2000 {
        let mut s = match TcpStream::connect(server_addr()) {
            Ok(s) => s,
            Err(e) => panic!("connection {i} refused: {e}"),
        };
        match i % 4 {
            0 => {}
            1 => {
                let _ = s.write_all(b"GET /products HTTP/1.1\r\n");
            }
            2 => {
                let _ = s.write_all(format!("GET /products?select=id HTTP/1.1\r\n{host}\r\n").as_bytes());
            }
            _ => {
                // reset instead of FIN: SO_LINGER 0 is not in std, a half-close is the closest
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        drop(s);
        assert!(start.elapsed() < Duration::from_secs(60), "opening connections took too long");
    }
    // 300 held open at once, then dropped together
    let held: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(server_addr()).ok()).collect();
    assert!(held.len() >= 250, "only {} of 300 connections were accepted", held.len());
    assert_serving();
    drop(held);
    // the server serves again right away
    for _ in 0..20 {
        assert_serving();
    }
    assert_cluster_never_restarted();
}

#[test]
fn zz_the_cluster_never_restarted() {
    assert_serving();
    assert_cluster_never_restarted();
    let log = server_log();
    assert!(!log.contains("PANIC"), "PANIC in the server log");
}
