//! The table from entity name to [`EntityId`] that every selector of every flow is
//! looked up in: a million lookups at scale, so its layout is chosen for the cache.
//!
//! A hash map of `&str` borrowed from the entities compares each key through a pointer
//! to bytes scattered over the heap, a cache miss per lookup. Here each slot holds its
//! key's hash and the first [`HEAD`] bytes of the key inline; only the rest of a longer
//! key lives in one contiguous arena. A slot is 32 bytes and aligned to 32, so that it
//! never straddles two cache lines: a lookup of a short name reads one cache line and
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
    /// Where each long key's bytes start in `tails`, and past the last one, where they
    /// end: long key `n` is `tails[starts[n]..starts[n + 1]]`.
    starts: Vec<usize>,
}

/// Half a cache line: the fields are narrow so that 16 bytes of name fit beside them.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot {
    /// The key's first bytes, zero-padded.
    head: [u8; HEAD],
    /// The key's length, at most [`LONGEST`]; [`EMPTY`] marks a free slot. A longer
    /// key's true length is that of its tail.
    len: u32,
    /// For a key longer than [`HEAD`], which long key it is (its index in `starts`).
    long: u32,
    /// The high half of the key's hash, compared before any byte.
    hash: u32,
    id: EntityId,
}

/// No key's length is kept as `u32::MAX`.
const EMPTY: u32 = u32::MAX;

/// The length a slot keeps of a key: its own, short of 4 GiB.
const LONGEST: u32 = u32::MAX - 1;

const FREE: Slot = Slot {
    head: [0; HEAD],
    len: EMPTY,
    long: 0,
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
            starts: vec![0],
        };
        for (name, id) in names {
            table.insert(name, id);
        }
        table.tails.shrink_to_fit();
        table.starts.shrink_to_fit();
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
                let mut long = 0;
                if key.len() > HEAD {
                    // Fewer long keys than entities, whose ids are `u32` too.
                    long = u32::try_from(self.starts.len() - 1).unwrap_or(u32::MAX);
                    self.tails.extend_from_slice(&key[HEAD..]);
                    self.starts.push(self.tails.len());
                }
                self.slots[index] = Slot {
                    head,
                    len: kept_len(key),
                    long,
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
        if slot.hash != hash || slot.len != kept_len(key) {
            return false;
        }
        let split = key.len().min(HEAD);
        slot.head[..split] == key[..split]
            && (key.len() <= HEAD || self.tail(slot) == Some(&key[HEAD..]))
    }

    /// The bytes of a long key past its head.
    fn tail(&self, slot: &Slot) -> Option<&[u8]> {
        let long = slot.long as usize;
        let (&start, &end) = (self.starts.get(long)?, self.starts.get(long + 1)?);
        self.tails.get(start..end)
    }
}

/// The length a slot keeps of `key`.
fn kept_len(key: &[u8]) -> u32 {
    u32::try_from(key.len()).map_or(LONGEST, |len| len.min(LONGEST))
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
    fn a_slot_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::align_of::<Slot>(), 32);
    }

    #[test]
    fn keys_that_share_a_slot_or_a_head_are_told_apart() {
        // Far more names than a probe's first slot can tell apart: a table of 64 slots
        // for 32 names, every one of them a long name that shares its head with the rest.
        let names: Vec<String> = (0..32)
            .map(|i| format!("{}{i}", "h".repeat(HEAD)))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let table = table(&refs);
        assert_eq!(table.slots.len(), 64);
        for (index, name) in refs.iter().enumerate() {
            assert_eq!(table.get(name), Some(EntityId(index as u32)), "{name}");
        }
        assert_eq!(table.get(&"h".repeat(HEAD)), None);
        assert_eq!(table.get(&format!("{}32", "h".repeat(HEAD))), None);
        assert_eq!(table.starts.len(), 33);
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        assert_eq!(table(&[]).get("web"), None);
    }
}
