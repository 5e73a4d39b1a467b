//! The `Prefer` header (RFC 7240), as PostgREST's `ApiRequest/Preferences.hs` reads it.
//!
//! Several headers and comma-separated values are allowed; the first occurrence of each
//! preference wins. Unknown preferences are collected so `handling=strict` can reject them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Full,
    HeadersOnly,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact,
    Planned,
    Estimated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transaction {
    Commit,
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    ApplyDefaults,
    ApplyNulls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Strict,
    Lenient,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub resolution: Option<Resolution>,
    pub representation: Option<Representation>,
    pub count: Option<Count>,
    pub transaction: Option<Transaction>,
    pub missing: Option<Missing>,
    pub handling: Option<Handling>,
    pub timezone: Option<String>,
    pub max_affected: Option<i64>,
    pub invalid: Vec<String>,
}

const RESOLUTION: &[(&str, Resolution)] =
    &[("resolution=merge-duplicates", Resolution::MergeDuplicates), ("resolution=ignore-duplicates", Resolution::IgnoreDuplicates)];
const REPRESENTATION: &[(&str, Representation)] = &[
    ("return=representation", Representation::Full),
    ("return=minimal", Representation::None),
    ("return=headers-only", Representation::HeadersOnly),
];
const COUNT: &[(&str, Count)] = &[("count=exact", Count::Exact), ("count=planned", Count::Planned), ("count=estimated", Count::Estimated)];
const TRANSACTION: &[(&str, Transaction)] = &[("tx=commit", Transaction::Commit), ("tx=rollback", Transaction::Rollback)];
const MISSING: &[(&str, Missing)] = &[("missing=default", Missing::ApplyDefaults), ("missing=null", Missing::ApplyNulls)];
const HANDLING: &[(&str, Handling)] = &[("handling=strict", Handling::Strict), ("handling=lenient", Handling::Lenient)];

fn first<T: Copy>(prefs: &[&str], table: &[(&str, T)]) -> Option<T> {
    prefs.iter().find_map(|p| table.iter().find(|(name, _)| name == p).map(|(_, v)| *v))
}

fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table.iter().find(|(_, v)| v == value).map_or("", |(n, _)| n)
}

impl Preferences {
    /// `prefer_values`: the values of every `Prefer` header, in order.
    /// `allow_tx_override`: db-tx-end is one of the `*-allow-override` settings.
    pub fn from_headers<'a>(prefer_values: impl Iterator<Item = &'a str>, allow_tx_override: bool) -> Preferences {
        let prefs: Vec<&str> = prefer_values.flat_map(|v| v.split(',')).map(str::trim).filter(|p| !p.is_empty()).collect();
        let known = |p: &str| {
            [RESOLUTION.iter().map(|x| x.0).collect::<Vec<_>>(), REPRESENTATION.iter().map(|x| x.0).collect()]
                .iter()
                .flatten()
                .chain(COUNT.iter().map(|x| &x.0))
                .chain(TRANSACTION.iter().map(|x| &x.0))
                .chain(MISSING.iter().map(|x| &x.0))
                .chain(HANDLING.iter().map(|x| &x.0))
                .any(|k| *k == p)
                || p.starts_with("timezone=")
                || p.starts_with("max-affected=")
        };
        Preferences {
            resolution: first(&prefs, RESOLUTION),
            representation: first(&prefs, REPRESENTATION),
            count: first(&prefs, COUNT),
            transaction: if allow_tx_override { first(&prefs, TRANSACTION) } else { None },
            missing: first(&prefs, MISSING),
            handling: first(&prefs, HANDLING),
            timezone: prefs.iter().find_map(|p| p.strip_prefix("timezone=")).map(String::from),
            max_affected: prefs.iter().find_map(|p| p.strip_prefix("max-affected=")).and_then(|v| v.parse().ok()),
            invalid: prefs.iter().filter(|p| !known(p)).map(|p| p.to_string()).collect(),
        }
    }

    /// The `Preference-Applied` header value, if any preference was applied.
    /// `timezone_applied`: the timezone preference named a valid zone.
    pub fn applied(&self, timezone_applied: bool) -> Option<String> {
        let mut vals: Vec<String> = vec![];
        vals.extend(self.resolution.map(|v| name_of(RESOLUTION, &v).to_string()));
        vals.extend(self.missing.map(|v| name_of(MISSING, &v).to_string()));
        vals.extend(self.representation.map(|v| name_of(REPRESENTATION, &v).to_string()));
        vals.extend(self.count.map(|v| name_of(COUNT, &v).to_string()));
        vals.extend(self.transaction.map(|v| name_of(TRANSACTION, &v).to_string()));
        vals.extend(self.handling.map(|v| name_of(HANDLING, &v).to_string()));
        if timezone_applied {
            vals.extend(self.timezone.as_ref().map(|tz| format!("timezone={tz}")));
        }
        if self.handling == Some(Handling::Strict) {
            vals.extend(self.max_affected.map(|n| format!("max-affected={n}")));
        }
        if vals.is_empty() {
            None
        } else {
            Some(vals.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_headers_first_wins() {
        let p = Preferences::from_headers(
            ["resolution=ignore-duplicates, count=exact", "resolution=merge-duplicates,  invalid", "max-affected=5999"].into_iter(),
            true,
        );
        assert_eq!(p.resolution, Some(Resolution::IgnoreDuplicates));
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(p.max_affected, Some(5999));
        assert_eq!(p.invalid, vec!["invalid"]);
    }

    #[test]
    fn tx_needs_override_allowed() {
        assert_eq!(Preferences::from_headers(["tx=commit"].into_iter(), false).transaction, None);
        assert_eq!(Preferences::from_headers(["tx=commit"].into_iter(), true).transaction, Some(Transaction::Commit));
    }

    #[test]
    fn applied_header_order() {
        let p = Preferences::from_headers(["count=exact, return=representation, handling=lenient"].into_iter(), true);
        assert_eq!(p.applied(false).unwrap(), "return=representation, count=exact, handling=lenient");
    }
}
