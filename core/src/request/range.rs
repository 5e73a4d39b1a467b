//! Row ranges: the `Range` header, `limit`/`offset`, and `Content-Range` (PostgREST's
//! `RangeQuery.hs`). A range is an offset plus an optional inclusive upper bound;
//! `limit=0` is the special empty range 0..=-1.

/// Rows `offset ..= upper` (upper inclusive, None = unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonnegRange {
    pub offset: i64,
    pub upper: Option<i64>,
}

pub const ALL: NonnegRange = NonnegRange { offset: 0, upper: None };

impl NonnegRange {
    pub fn from_limit_offset(offset: i64, limit: Option<i64>) -> NonnegRange {
        // saturating: `limit=9223372036854775807&offset=3` must not overflow (fuzz: request)
        NonnegRange { offset, upper: limit.map(|l| offset.saturating_add(l).saturating_sub(1)) }
    }

    pub fn limit(&self) -> Option<i64> {
        self.upper.map(|u| u.saturating_sub(self.offset).saturating_add(1))
    }

    pub fn is_empty(&self) -> bool {
        matches!(self.upper, Some(u) if u < self.offset)
    }

    pub fn intersect(&self, other: &NonnegRange) -> NonnegRange {
        let upper = match (self.upper, other.upper) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        NonnegRange { offset: self.offset.max(other.offset), upper }
    }

    /// Cap the number of rows (db-max-rows): PostgREST's `restrictRange`.
    pub fn restrict(&self, max: Option<i64>) -> NonnegRange {
        match max {
            None => *self,
            Some(m) => self.intersect(&NonnegRange { offset: 0, upper: Some(self.offset.saturating_add(m).saturating_sub(1)) }),
        }
    }
}

/// `Range: 0-9` (`^([0-9]+)-([0-9]*)$`); anything else means all rows.
pub fn parse_header(value: &str) -> NonnegRange {
    let Some((l, u)) = value.trim().split_once('-') else { return ALL };
    if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) || !u.bytes().all(|b| b.is_ascii_digit()) {
        return ALL;
    }
    let Ok(lower) = l.parse::<i64>() else { return ALL };
    let upper = if u.is_empty() { None } else { u.parse::<i64>().ok() };
    NonnegRange { offset: lower, upper }
}

/// (status, Content-Range value) for a read of `query_total` rows at `range`, with the
/// table total when counted (PostgREST's `rangeStatusHeader`).
pub fn status_and_content_range(range: &NonnegRange, query_total: i64, table_total: Option<i64>) -> (u16, String) {
    let lower = range.offset;
    let upper = lower.saturating_add(query_total).saturating_sub(1);
    let status = match table_total {
        None => 200,
        Some(total) if lower > total => 416,
        Some(total) if upper.saturating_sub(lower).saturating_add(1) < total => 206,
        Some(_) => 200,
    };
    (status, content_range(lower, upper, table_total))
}

pub fn content_range(lower: i64, upper: i64, total: Option<i64>) -> String {
    let range = if total != Some(0) && lower <= upper { format!("{lower}-{upper}") } else { "*".to_string() };
    let total = total.map_or("*".to_string(), |t| t.to_string());
    format!("{range}/{total}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parses_like_postgrest() {
        assert_eq!(parse_header("0-9"), NonnegRange { offset: 0, upper: Some(9) });
        assert_eq!(parse_header("5-"), NonnegRange { offset: 5, upper: None });
        assert_eq!(parse_header("x-1"), ALL);
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(status_and_content_range(&ALL, 1, None), (200, "0-0/*".to_string()));
        assert_eq!(status_and_content_range(&ALL, 0, None), (200, "*/*".to_string()));
        assert_eq!(status_and_content_range(&NonnegRange { offset: 0, upper: Some(1) }, 2, Some(15)), (206, "0-1/15".to_string()));
        assert_eq!(status_and_content_range(&NonnegRange { offset: 20, upper: None }, 0, Some(15)).0, 416);
        assert_eq!(status_and_content_range(&ALL, 0, Some(0)), (200, "*/0".to_string()));
    }

    #[test]
    fn huge_limits_and_offsets_do_not_overflow() {
        // found by the `request` fuzz target: `?limit=9223372036854775807&offset=3`
        let r = NonnegRange::from_limit_offset(3, Some(i64::MAX));
        assert_eq!(r, NonnegRange { offset: 3, upper: Some(i64::MAX - 1) });
        assert!(!r.is_empty());
        assert_eq!(r.limit(), Some(i64::MAX - 3));
        let r = NonnegRange::from_limit_offset(-5, Some(i64::MAX));
        assert_eq!(r.limit(), Some(i64::MAX));
        assert_eq!(parse_header("0-9223372036854775807").limit(), Some(i64::MAX));
        assert_eq!(r.restrict(Some(i64::MAX)).offset, 0);
        let (status, _) = status_and_content_range(&NonnegRange { offset: i64::MAX, upper: None }, 2, Some(i64::MAX));
        assert_eq!(status, 206);
    }

    #[test]
    fn limit_zero_is_empty() {
        let r = NonnegRange::from_limit_offset(0, Some(0));
        assert!(r.is_empty());
        assert_eq!(r.limit(), Some(0));
    }
}
