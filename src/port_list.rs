//! A flow's `ports` list, shared between the flows that write the same one, and the
//! interner that shares it. Owns nothing about what ports mean: that is `ports`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::ports::PortSpec;

/// A list of port specifications as the policy wrote it, in its order. A model holds a
/// million flows but only a handful of distinct lists, so flows share one allocation
/// per list; the box inside the `Arc` keeps the handle one pointer wide.
#[derive(Clone)]
pub struct PortList(Arc<Box<[PortSpec]>>);

impl PortList {
    pub fn as_slice(&self) -> &[PortSpec] {
        &self.0
    }
}

impl Deref for PortList {
    type Target = [PortSpec];

    fn deref(&self) -> &[PortSpec] {
        self.as_slice()
    }
}

// Lists compare and hash as their contents, never as their addresses, so that the
// interner can look a list up by a borrowed slice.
impl Borrow<[PortSpec]> for PortList {
    fn borrow(&self) -> &[PortSpec] {
        self.as_slice()
    }
}

impl PartialEq for PortList {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for PortList {}

impl Hash for PortList {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// Hands out one shared [`PortList`] per distinct list.
#[derive(Debug, Default)]
pub struct PortLists {
    known: FxHashSet<PortList>,
    /// What shared raw lists parsed to, by their
    /// [`Items::shared_id`](crate::raw::Items::shared_id): an importer gives thousands
    /// of flows the same few lists, each then parsed once.
    parsed: FxHashMap<usize, PortList>,
}

impl PortLists {
    /// The shared list equal to `specs`, made on first sight.
    pub fn intern(&mut self, specs: &[PortSpec]) -> PortList {
        if let Some(known) = self.known.get(specs) {
            return known.clone();
        }
        let list = PortList(Arc::new(specs.into()));
        self.known.insert(list.clone());
        list
    }

    /// What the shared raw list `id` parsed to, when [`PortLists::remember`] was told.
    pub fn parsed(&self, id: usize) -> Option<PortList> {
        self.parsed.get(&id).cloned()
    }

    /// Remembers that the shared raw list `id` parsed to `list`, without a problem or a
    /// warning. The caller keeps the raw list alive while it asks, so that the id is not
    /// reused.
    pub fn remember(&mut self, id: usize, list: PortList) {
        self.parsed.insert(id, list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Protocol;

    fn tcp(port: u16) -> PortSpec {
        PortSpec {
            protocol: Protocol::Tcp,
            first: port,
            last: port,
        }
    }

    #[test]
    fn equal_lists_share_one_allocation() {
        let mut lists = PortLists::default();
        let a = lists.intern(&[tcp(22), tcp(443)]);
        let b = lists.intern(&[tcp(22), tcp(443)]);
        assert!(Arc::ptr_eq(&a.0, &b.0));
    }

    #[test]
    fn different_lists_stay_apart() {
        let mut lists = PortLists::default();
        let a = lists.intern(&[tcp(22), tcp(443)]);
        let reordered = lists.intern(&[tcp(443), tcp(22)]);
        let shorter = lists.intern(&[tcp(22)]);
        let any = lists.intern(&[PortSpec::ANY]);
        for other in [&reordered, &shorter, &any] {
            assert!(!Arc::ptr_eq(&a.0, &other.0));
            assert_ne!(a, *other);
        }
    }

    #[test]
    fn a_list_keeps_its_content_and_order() {
        let mut lists = PortLists::default();
        let written = [tcp(8080), PortSpec::ANY, tcp(22)];
        let list = lists.intern(&written);
        assert_eq!(list.as_slice(), written);
        assert_eq!(&*lists.intern(&[]), &[] as &[PortSpec]);
    }

    #[test]
    fn a_handle_is_one_pointer_wide() {
        assert_eq!(size_of::<PortList>(), size_of::<usize>());
    }
}
