//! The `Server-Timing` header (PostgREST's `Response/Performance.hs`): milliseconds spent in
//! each phase of the request, with one decimal.

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerTiming {
    pub jwt: Option<f64>,
    pub parse: Option<f64>,
    pub plan: Option<f64>,
    pub transaction: Option<f64>,
    pub response: Option<f64>,
}

impl ServerTiming {
    pub fn header(&self) -> String {
        [("jwt", self.jwt), ("parse", self.parse), ("plan", self.plan), ("transaction", self.transaction), ("response", self.response)]
            .iter()
            .filter_map(|(k, v)| v.map(|d| format!("{k};dur={d:.1}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_like_postgrest() {
        let t = super::ServerTiming { plan: Some(0.1), transaction: Some(0.2), response: Some(0.3), jwt: Some(0.4), parse: Some(0.5) };
        assert_eq!(t.header(), "jwt;dur=0.4, parse;dur=0.5, plan;dur=0.1, transaction;dur=0.2, response;dur=0.3");
    }
}
