//! The table from entity name to [`EntityId`] that every selector of every flow is
//! looked up in: a million lookups at scale, so its layout is chosen for the cache.
//!
//! A hash map of `&str` borrowed from the entities compares each key through a pointer
//! to bytes scattered over the heap, a cache miss per lookup. Here each slot holds its
//! key's hash and the first [`HEAD`] bytes of the key inline; only the rest of a longer
//! key lives in one contiguous arena. A lookup of a short name thus reads one slot and
//! nothing else. The table is sized once, from the number of names, and never grows.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use crate::model::EntityId;

/// How many bytes of a key a slot holds inline: generated and hand-written entity names
/// (`host-65138`, `payments-db`) mostly fit.
const HEAD: usize = 16;

pub(crate) struct NameTable {
    /// Open addressing with linear probing; a power of two long, at most half full.
    slots: Vec<Slot>,
    /// The bytes of each long key past its first [`HEAD`], one key after another.
    tails: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Slot {
    /// The key's first bytes, zero-padded.
    head: [u8; HEAD],
    /// The key's length; [`EMPTY`] marks a free slot.
    len: usize,
    /// Where the key's bytes past its head start in `tails`.
    tail: usize,
    /// The high half of the key's hash, compared before any byte.
    hash: u32,
    id: EntityId,
}

/// No key is `usize::MAX` bytes long.
const EMPTY: usize = usize::MAX;

const FREE: Slot = Slot {
    head: [0; HEAD],
    len: EMPTY,
    tail: 0,
    hash: 0,
    id: EntityId(0),
};

impl NameTable {
    /// A table of `names`. A name given twice keeps its last id, as collecting into a
    /// map would.
    pub fn new<'n>(names: impl ExactSizeIterator<Item = (&'n str, EntityId)>) -> NameTable {
        let capacity = (names.len().max(1) * 2).next_power_of_two();
        let mut table = NameTable {
            slots: vec![FREE; capacity],
            tails: Vec::new(),
        };
        for (name, id) in names {
            table.insert(name, id);
        }
        table
    }

    pub fn get(&self, name: &str) -> Option<EntityId> {
        let key = name.as_bytes();
        let (mut index, hash) = self.place(key);
        loop {
            let slot = self.slots.get(index)?;
            if slot.len == EMPTY {
                return None;
            }
            if self.holds(slot, hash, key) {
                return Some(slot.id);
            }
            index = (index + 1) & (self.slots.len() - 1);
        }
    }

    fn insert(&mut self, name: &str, id: EntityId) {
        let key = name.as_bytes();
        let (mut index, hash) = self.place(key);
        // The table is at most half full, so a free slot is always reached.
        while let Some(slot) = self.slots.get(index) {
            if slot.len == EMPTY {
                let mut head = [0; HEAD];
                let split = key.len().min(HEAD);
                head[..split].copy_from_slice(&key[..split]);
                let tail = self.tails.len();
                self.tails.extend_from_slice(&key[split..]);
                self.slots[index] = Slot {
                    head,
                    len: key.len(),
                    tail,
                    hash,
                    id,
                };
                return;
            }
            if self.holds(slot, hash, key) {
                self.slots[index].id = id;
                return;
            }
            index = (index + 1) & (self.slots.len() - 1);
        }
    }

    /// The slot a key's probe starts at, and the half of its hash that slots keep.
    fn place(&self, key: &[u8]) -> (usize, u32) {
        let hash = FxBuildHasher.hash_one(key);
        // The low bits pick the slot; the high ones, independent of them, tell keys
        // that share a slot apart without reading their bytes.
        let index = (hash as usize) & (self.slots.len() - 1);
        (index, (hash >> 32) as u32)
    }

    fn holds(&self, slot: &Slot, hash: u32, key: &[u8]) -> bool {
        if slot.hash != hash || slot.len != key.len() {
            return false;
        }
        let split = key.len().min(HEAD);
        slot.head[..split] == key[..split]
            && (key.len() <= HEAD
                || self.tails.get(slot.tail..slot.tail + (key.len() - HEAD)) == Some(&key[HEAD..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str]) -> NameTable {
        NameTable::new(
            names
                .iter()
                .enumerate()
                .map(|(index, &name)| (name, EntityId(index as u32))),
        )
    }

    #[test]
    fn finds_every_name() {
        let mut names: Vec<String> = (0..5000).map(|i| format!("host-{i}")).collect();
        names.push(String::new());
        names.push("a".repeat(HEAD));
        names.push("a".repeat(HEAD + 1));
        names.push(format!("{}-with-a-long-tail", "b".repeat(HEAD)));
        names.push("ünïcödé-nämé-longer-than-sixteen".to_owned());
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let table = table(&refs);
        for (index, name) in refs.iter().enumerate() {
            assert_eq!(table.get(name), Some(EntityId(index as u32)), "{name}");
        }
    }

    #[test]
    fn rejects_near_misses() {
        let long = format!("{}-tail", "x".repeat(HEAD));
        let table = table(&["web", "host-1", &long, "abcdefghijklmnop"]);
        for miss in [
            "we",
            "web ",
            "web\0",
            "Web",
            "host-10",
            "host-",
            "",
            &long[..long.len() - 1],
            &format!("{long}x"),
            &format!("{}-tail", "x".repeat(HEAD - 1)),
            &long.replace("tail", "tall"),
            "abcdefghijklmno",
            "abcdefghijklmnopq",
            "abcdefghijklmnoP",
        ] {
            assert_eq!(table.get(miss), None, "`{miss}`");
        }
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_id() {
        let table = table(&["db", "web", "db"]);
        assert_eq!(table.get("db"), Some(EntityId(2)));
        assert_eq!(table.get("web"), Some(EntityId(1)));
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        assert_eq!(table(&[]).get("web"), None);
    }
}
