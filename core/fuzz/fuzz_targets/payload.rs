//! Fuzzes the body readers (`request::payload::get_payload`): JSON, CSV and
//! x-www-form-urlencoded bodies (and the raw types of RPC calls), for each use of a body,
//! with and without `?columns=`. The first byte chooses media type, use and columns; the
//! rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postgrest_core::request::media_type::MediaType;
use postgrest_core::request::payload::{get_payload, BodyUse};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let media = match selector & 0x7 {
        0 | 1 => MediaType::Json,
        2 | 3 => MediaType::Csv,
        4 | 5 => MediaType::UrlEncoded,
        6 => MediaType::TextPlain,
        _ => MediaType::OctetStream,
    };
    let used = match (selector >> 3) & 0x3 {
        0 => BodyUse::Mutation,
        1 => BodyUse::SingleUpsert,
        2 => BodyUse::Call,
        _ => BodyUse::Ignored,
    };
    let columns = vec!["id".to_string(), "name".to_string()];
    let columns = (selector & 0x20 != 0).then_some(&columns);
    if let Ok((Some(payload), _keys)) = get_payload(body, &media, columns, used) {
        let _ = payload.json_text();
    }
});
