//! A bounded cache of verified tokens (PostgREST's JWT cache, `jwt-cache-max-entries`).
//!
//! Eviction is SIEVE-like, as PostgREST's: a hit only sets a bit; on a miss with the cache full
//! a hand sweeps the slots, clearing bits, and evicts the first entry not used since it was
//! last passed. Hits never move entries, so a lookup is a hash probe and a store.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

pub struct Cache<K, V> {
    capacity: usize,
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
}

struct Slot<K, V> {
    key: K,
    value: V,
    visited: bool,
}

impl<K, V> Default for Cache<K, V> {
    /// An empty cache that keeps nothing until given a capacity.
    fn default() -> Self {
        Cache { capacity: 0, index: HashMap::new(), slots: Vec::new(), hand: 0 }
    }
}

impl<K: Hash + Eq + Clone, V> Cache<K, V> {
    /// A cache of at most `capacity` entries; 0 keeps nothing.
    pub fn new(capacity: usize) -> Self {
        Cache { capacity, index: HashMap::new(), slots: Vec::new(), hand: 0 }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A new bound (config reload); shrinking drops entries until it holds.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.slots.len() > capacity {
            self.evict();
        }
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let i = *self.index.get(key)?;
        let slot = &mut self.slots[i];
        slot.visited = true;
        Some(&slot.value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].value = value;
            return;
        }
        while self.slots.len() >= self.capacity {
            self.evict();
        }
        self.index.insert(key.clone(), self.slots.len());
        self.slots.push(Slot { key, value, visited: false });
    }

    /// Remove the first entry at or after the hand that was not visited since the hand passed.
    fn evict(&mut self) {
        if self.slots.is_empty() {
            return;
        }
        loop {
            if self.hand >= self.slots.len() {
                self.hand = 0;
            }
            let slot = &mut self.slots[self.hand];
            if !slot.visited {
                break;
            }
            slot.visited = false;
            self.hand += 1;
        }
        let victim = self.slots.swap_remove(self.hand);
        self.index.remove(&victim.key);
        if let Some(moved) = self.slots.get(self.hand) {
            self.index.insert(moved.key.clone(), self.hand);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cache;

    #[test]
    fn bounded_and_keeps_the_used_entries() {
        let mut c = Cache::new(2);
        c.insert("a", 1);
        c.insert("b", 2);
        assert_eq!(c.get(&"a"), Some(&1));
        c.insert("c", 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&"a"), Some(&1), "a was used, b was not");
        assert_eq!(c.get(&"b"), None);
        assert_eq!(c.get(&"c"), Some(&3));
        c.set_capacity(1);
        assert_eq!(c.len(), 1);
        c.set_capacity(0);
        c.insert("d", 4);
        assert!(c.is_empty());
    }

    #[test]
    fn many_inserts_stay_consistent() {
        let mut c = Cache::new(7);
        for i in 0..1000 {
            c.insert(i, i * 2);
            if i % 3 == 0 {
                let _ = c.get(&(i / 2));
            }
            assert!(c.len() <= 7);
        }
        for i in 990..1000 {
            if let Some(v) = c.get(&i) {
                assert_eq!(*v, i * 2);
            }
        }
        assert_eq!(c.get(&999), Some(&1998));
    }
}
