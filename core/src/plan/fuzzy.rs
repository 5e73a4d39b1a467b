//! "Perhaps you meant ..." suggestions: a fuzzy set as in the Haskell `fuzzyset` package that
//! PostgREST uses (cosine similarity of 3- then 2-grams, rescored by Levenshtein distance).

use std::collections::HashMap;

const GRAM_SIZES: [usize; 2] = [3, 2];
/// `Fuzzy.getOne`'s default minimum score.
pub const DEFAULT_MIN_SCORE: f64 = 0.33;

fn normalize(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == ',' || c.is_whitespace()).collect()
}

fn grams(s: &str, n: usize) -> HashMap<String, usize> {
    let padded: Vec<char> = format!("-{}-", normalize(s)).chars().collect();
    let mut out = HashMap::new();
    if padded.len() < n {
        *out.entry(padded.iter().collect()).or_insert(0) += 1;
        return out;
    }
    for w in padded.windows(n) {
        *out.entry(w.iter().collect()).or_insert(0) += 1;
    }
    out
}

fn cosine(a: &HashMap<String, usize>, b: &HashMap<String, usize>) -> f64 {
    let dot: usize = a.iter().map(|(g, n)| n * b.get(g).copied().unwrap_or(0)).sum();
    let norm = |m: &HashMap<String, usize>| (m.values().map(|v| (v * v) as f64).sum::<f64>()).sqrt();
    let d = norm(a) * norm(b);
    if d == 0.0 {
        0.0
    } else {
        dot as f64 / d
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// All candidates scoring at least `min_score`, best first, with their scores.
pub fn matches<'a>(key: &str, candidates: &[&'a str], min_score: f64) -> Vec<(f64, &'a str)> {
    // an exact (lowercased) match is the only answer, as in the fuzzyset package
    if let Some(c) = candidates.iter().find(|c| c.to_lowercase() == key.to_lowercase()) {
        return vec![(1.0, *c)];
    }
    for n in GRAM_SIZES {
        let kg = grams(key, n);
        let mut scored: Vec<(f64, &str)> = candidates.iter().map(|c| (cosine(&kg, &grams(c, n)), *c)).filter(|(s, _)| *s > 0.0).collect();
        if scored.is_empty() {
            continue;
        }
        scored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        scored.truncate(50);
        // fuzzyset rescores the lowercased (not normalized) strings by Levenshtein distance and
        // keeps scores of at least the minimum ("projecxx" → "projects" scores exactly 0.75)
        let nk = key.to_lowercase();
        let mut rescored: Vec<(f64, &str)> = scored
            .into_iter()
            .map(|(_, c)| {
                let nc = c.to_lowercase();
                let len = nk.chars().count().max(nc.chars().count()).max(1);
                (1.0 - levenshtein(&nk, &nc) as f64 / len as f64, c)
            })
            .filter(|(s, _)| *s >= min_score)
            .collect();
        rescored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        if !rescored.is_empty() {
            return rescored;
        }
    }
    vec![]
}

/// The best candidate scoring at least `min_score`.
pub fn best<'a>(key: &str, candidates: &[&'a str], min_score: f64) -> Option<&'a str> {
    matches(key, candidates, min_score).first().map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let rels = ["directors", "roles", "actors"];
        assert_eq!(best("role", &rels, DEFAULT_MIN_SCORE), Some("roles"));
        assert_eq!(best("noclosealternative", &rels, DEFAULT_MIN_SCORE), None);
        assert_eq!(best("film", &["films"], DEFAULT_MIN_SCORE), Some("films"));
    }

    #[test]
    fn table_hints_need_a_high_score() {
        assert_eq!(best("projectz", &["projects", "clients"], 0.75), Some("projects"));
        assert_eq!(best("xyz", &["projects", "clients"], 0.75), None);
    }
}
