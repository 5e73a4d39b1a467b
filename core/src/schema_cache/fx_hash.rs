//! The hasher of the maps that exist only while a schema cache is built (rustc's FxHash). A
//! big schema gives tens of thousands of relationships, and grouping them by pairs of
//! qualified names through std's SipHash took most of the build (issue #19). Fx mixes a word
//! at a time with one multiply; it is not DoS-resistant, which is fine for names read from the
//! catalogs: whoever can create tables can slow the build down in simpler ways. The maps the
//! cache keeps (`RelationshipsMap`, ...) stay std's.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub type FxHashSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// The multiplier of rustc-hash 1.x (`rustc_hash::FxHasher`).
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("chunks of 8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // the last 1-7 bytes, loaded without a call to memcpy, and their count in the top
            // byte so that "a" and "a\0" differ
            let (mut word, mut shift, mut tail) = (0u64, 0, rest);
            if let Some((four, more)) = tail.split_first_chunk::<4>() {
                (word, shift, tail) = (u64::from(u32::from_le_bytes(*four)), 32, more);
            }
            if let Some((two, more)) = tail.split_first_chunk::<2>() {
                (word, shift, tail) = (word | u64::from(u16::from_le_bytes(*two)) << shift, shift + 16, more);
            }
            if let [byte] = tail {
                word |= u64::from(*byte) << shift;
            }
            self.add(word | (rest.len() as u64) << 56);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(s)
    }

    #[test]
    fn strings_differing_only_in_trailing_zeros_hash_differently() {
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash("abcdefgh"), hash("abcdefgh\0"));
        assert_ne!(hash("abcde"), hash("abcde\0"));
        assert_ne!(hash(""), hash("\0"));
    }

    #[test]
    fn the_last_bytes_are_one_little_endian_word_with_their_count() {
        let mut by_hasher = FxHasher::default();
        by_hasher.write(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let mut by_hand = FxHasher::default();
        by_hand.add(0x0807_0605_0403_0201);
        by_hand.add(0x070f_0e0d_0c0b_0a09);
        assert_eq!(by_hasher.finish(), by_hand.finish());
    }

    #[test]
    fn maps_keyed_by_borrowed_pairs_find_their_entries() {
        let names: Vec<String> = (0..1000).map(|i| format!("t{i:05}")).collect();
        let map: FxHashMap<(&str, &str), usize> = names.iter().enumerate().map(|(i, n)| (("s", n.as_str()), i)).collect();
        assert!(names.iter().enumerate().all(|(i, n)| map.get(&("s", n.as_str())) == Some(&i)));
    }
}
