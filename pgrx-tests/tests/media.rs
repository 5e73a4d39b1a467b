//! Media types: custom handlers on tables (a `*/*` aggregate over bytea served raw as
//! application/octet-stream, an aggregate for a media-type domain), a function returning a
//! bytea media type, CSV, and the Content-Type of each as PostgREST sends it. Bodies are
//! compared as bytes: the body column is read in binary and sent unchanged.

use postgrest_ext_e2e::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A GET's status, headers and body bytes (the shared client decodes bodies as text).
fn get_bytes(path: &str, accept: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let url = std::env::var("PGRST_URL").expect("PGRST_URL is set by scripts/e2e.sh");
    let host = url.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let req = format!("GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: {accept}\r\n\r\n", encode_target(path));
    stream.write_all(req.as_bytes()).expect("write");
    let mut raw = vec![];
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn a_star_handler_serves_a_bytea_column_raw() {
    let (status, headers, body) = get_bytes("/files?id=eq.1", "*/*");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "Content-Type"), Some("application/octet-stream"));
    assert_eq!(body, vec![0x00, 0xff, 0x80, 0x41]);
    // the relation's `*/*` handler wins whatever is accepted, as long as the select is the default
    let (_, headers, body) = get_bytes("/files?id=eq.2", "application/json");
    assert_eq!(header(&headers, "Content-Type"), Some("application/octet-stream"));
    assert_eq!(body, "hé".as_bytes());
    // a select of its own is not what the aggregate takes: JSON again
    let (status, headers, body) = get_bytes("/files?id=eq.1&select=id,name", "*/*");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), Some("application/json; charset=utf-8"));
    assert_eq!(body, br#"[{"id":1,"name":"bin"}]"#);
}

#[test]
fn a_media_type_aggregate_on_a_table() {
    let (status, headers, body) = get_bytes("/texts?id=lte.2&order=id", "text/tab-separated-values");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // no charset for a media type PostgREST does not know
    assert_eq!(header(&headers, "Content-Type"), Some("text/tab-separated-values"));
    assert_eq!(body, b"1\tHello World\n2\thello there\n");
    let (status, _, body) = get_bytes("/texts?select=id", "text/tab-separated-values");
    assert_eq!(status, 406, "{}", String::from_utf8_lossy(&body));
    // HEAD: the Content-Type of the media type, no body
    let r = request("HEAD", "/texts", &[("Accept", "text/tab-separated-values")]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/tab-separated-values"));
    assert!(r.body.is_empty());
}

#[test]
fn a_function_returning_a_bytea_media_type() {
    let (status, headers, body) = get_bytes("/rpc/pixel", "image/x-pixel");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "Content-Type"), Some("image/x-pixel"));
    assert_eq!(body, b"\x89PNG\r\n\x1a\n\x00");
    let (status, _, _) = get_bytes("/rpc/pixel", "text/plain");
    assert_eq!(status, 406);
}

#[test]
fn csv_and_json_bodies_are_text() {
    let (status, headers, body) = get_bytes("/texts?select=id,body&id=in.(1,4)&order=id", "text/csv");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), Some("text/csv; charset=utf-8"));
    assert_eq!(body, "id,body\n1,\"Hello World\"\n4,\"quote \"\"this\"\", please\"".as_bytes());
    let (_, headers, body) = get_bytes("/texts?select=id,note&id=eq.1", "application/vnd.pgrst.array+json;nulls=stripped");
    assert_eq!(header(&headers, "Content-Type"), Some("application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"));
    assert_eq!(body, br#"[{"id":1}]"#);
    let (_, headers, _) = get_bytes("/texts?id=eq.1", "application/vnd.pgrst.array+json");
    assert_eq!(header(&headers, "Content-Type"), Some("application/json; charset=utf-8"));
}
