//! Row ranges: the `Range` header, `limit`/`offset`, and `Content-Range` (PostgREST's
//! `RangeQuery.hs`). A range is an offset plus an optional inclusive upper bound;
//! `limit=0` is the special empty range 0..=-1.
//!
//! PostgREST's ranges are `Range Integer`, arbitrary precision: a limit or offset too big for
//! a bigint reaches the SQL as written, and PostgreSQL refuses it (22003, `value "…" is out
//! of range for type bigint`, a 400). The arithmetic here is in i128, saturating, so every
//! number of up to 38 digits reaches the SQL exactly as PostgREST would send it.

/// Rows `lower ..= upper` (upper inclusive, None = unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonnegRange {
    /// The first row, saturated to i64 (kept in step with `lower`: read it, never set it). It
    /// is read once the statement has run (`Content-Range`, the 416 of an offset past the end),
    /// and then it is exact: PostgreSQL refuses an OFFSET past bigint.
    pub offset: i64,
    lower: i128,
    upper: Option<i128>,
}

pub const ALL: NonnegRange = NonnegRange { offset: 0, lower: 0, upper: None };

impl NonnegRange {
    fn new(lower: i128, upper: Option<i128>) -> NonnegRange {
        NonnegRange { offset: lower.clamp(i64::MIN.into(), i64::MAX.into()) as i64, lower, upper }
    }

    /// `offset` and at most `limit` rows from there.
    pub fn from_limit_offset(offset: impl Into<i128>, limit: Option<impl Into<i128>>) -> NonnegRange {
        let offset = offset.into();
        // saturating: `limit=9223372036854775807&offset=3` must not overflow (fuzz: request)
        NonnegRange::new(offset, limit.map(|l| offset.saturating_add(l.into()).saturating_sub(1)))
    }

    /// The first row as the SQL's OFFSET gets it, exact however big.
    pub fn lower(&self) -> i128 {
        self.lower
    }

    /// The number of rows (the SQL's LIMIT), None for no limit.
    pub fn limit(&self) -> Option<i128> {
        self.upper.map(|u| u.saturating_sub(self.lower).saturating_add(1))
    }

    pub fn is_empty(&self) -> bool {
        matches!(self.upper, Some(u) if u < self.lower)
    }

    pub fn intersect(&self, other: &NonnegRange) -> NonnegRange {
        let upper = match (self.upper, other.upper) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        NonnegRange::new(self.lower.max(other.lower), upper)
    }

    /// Cap the number of rows (db-max-rows): PostgREST's `restrictRange`.
    pub fn restrict(&self, max: Option<i64>) -> NonnegRange {
        match max {
            None => *self,
            Some(m) => self.intersect(&NonnegRange::new(0, Some(self.lower.saturating_add(m.into()).saturating_sub(1)))),
        }
    }
}

/// Decimal digits as a number, saturating past i128 (the digits are checked by the caller).
fn decimal(digits: &str) -> i128 {
    digits.parse().unwrap_or(i128::MAX)
}

/// `Range: 0-9` (`^([0-9]+)-([0-9]*)$`); anything else means all rows. Numbers of any size
/// are read, as PostgREST's `readInteger` does: `0-99999999999999999999` asks for a limit
/// PostgreSQL refuses, `99999999999999999999-1` is a lower bound past the upper one.
pub fn parse_header(value: &str) -> NonnegRange {
    let Some((l, u)) = value.trim().split_once('-') else { return ALL };
    if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) || !u.bytes().all(|b| b.is_ascii_digit()) {
        return ALL;
    }
    NonnegRange::new(decimal(l), (!u.is_empty()).then(|| decimal(u)))
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
        assert_eq!(parse_header("0-9"), NonnegRange::new(0, Some(9)));
        assert_eq!(parse_header("5-"), NonnegRange::new(5, None));
        assert_eq!(parse_header("x-1"), ALL);
        assert_eq!(parse_header("1-x"), ALL);
        assert_eq!(parse_header("-5"), ALL);
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(status_and_content_range(&ALL, 1, None), (200, "0-0/*".to_string()));
        assert_eq!(status_and_content_range(&ALL, 0, None), (200, "*/*".to_string()));
        assert_eq!(status_and_content_range(&NonnegRange::new(0, Some(1)), 2, Some(15)), (206, "0-1/15".to_string()));
        assert_eq!(status_and_content_range(&NonnegRange::new(20, None), 0, Some(15)).0, 416);
        assert_eq!(status_and_content_range(&ALL, 0, Some(0)), (200, "*/0".to_string()));
    }

    #[test]
    fn huge_limits_and_offsets_do_not_overflow() {
        // found by the `request` fuzz target: `?limit=9223372036854775807&offset=3`
        let r = NonnegRange::from_limit_offset(3, Some(i64::MAX));
        assert_eq!(r, NonnegRange::new(3, Some(i64::MAX as i128 + 2)));
        assert!(!r.is_empty());
        assert_eq!(r.limit(), Some(i64::MAX.into()));
        let r = NonnegRange::from_limit_offset(-5, Some(i64::MAX));
        assert_eq!(r.limit(), Some(i64::MAX.into()));
        assert_eq!(r.restrict(Some(i64::MAX)).offset, 0);
        let (status, _) = status_and_content_range(&NonnegRange::new(i64::MAX.into(), None), 2, Some(i64::MAX));
        assert_eq!(status, 206);
        // past i128 the arithmetic saturates instead of overflowing
        let r = NonnegRange::from_limit_offset(i128::MAX, Some(i128::MAX));
        assert_eq!((r.lower(), r.offset), (i128::MAX, i64::MAX));
        assert_eq!(parse_header("9".repeat(60).as_str()), ALL);
        assert_eq!(parse_header(&format!("{0}-{0}", "9".repeat(60))).limit(), Some(1));
    }

    #[test]
    fn numbers_past_bigint_are_kept_exactly() {
        // PostgREST's Integer ranges: the SQL gets these numbers, PostgreSQL refuses them
        assert_eq!(parse_header("0-9223372036854775807").limit(), Some(9223372036854775808));
        assert_eq!(parse_header("0-99999999999999999999999").limit(), Some(100000000000000000000000));
        let r = parse_header("99999999999999999999999-");
        assert_eq!((r.lower(), r.offset, r.limit()), (99999999999999999999999, i64::MAX, None));
        assert!(parse_header("99999999999999999999999-1").is_empty());
        let r = NonnegRange::from_limit_offset(1, Some(99999999999999999999999i128));
        assert_eq!((r.lower(), r.limit()), (1, Some(99999999999999999999999)));
        // db-max-rows caps a huge limit, but not a huge offset
        assert_eq!(r.restrict(Some(10)).limit(), Some(10));
        let r = NonnegRange::from_limit_offset(99999999999999999999999i128, None::<i128>).restrict(Some(10));
        assert_eq!((r.lower(), r.limit()), (99999999999999999999999, Some(10)));
    }

    #[test]
    fn limit_zero_is_empty() {
        let r = NonnegRange::from_limit_offset(0, Some(0));
        assert!(r.is_empty());
        assert_eq!(NonnegRange::from_limit_offset(0, None::<i64>), NonnegRange::new(0, None));
        assert_eq!(r.limit(), Some(0));
    }
}
