//! `Flows`: the model's flows, kept in the parts they were resolved in, one per file,
//! each part with its flows' names in one arena.
//!
//! A million flows are resolved file by file, in parallel. Joining the parts into one
//! vector would copy every flow while every part is still held, and the allocator keeps
//! the freed parts: at scale 10 that copy alone was the run's peak memory, 60–80 MB
//! above everything else. Searches read flows by index in their inner loops, so a flow
//! is found without a search: a table gives the part of every block of flows, and the
//! part is at most a few steps on from there.
//!
//! A flow's name is read only to show or pin it, yet a name kept in the flow took 24
//! bytes of every flow. A part instead keeps its flows' names one after another in one
//! arena, each after its length, and a flow keeps where its name starts: 4 bytes.

use std::fmt;
use std::ops::Index;

use super::Flow;

#[derive(Clone, Default)]
pub struct Flows {
    parts: Vec<Part>,
    /// The index of each part's first flow; as long as `parts`.
    starts: Vec<usize>,
    /// For each block of `1 << BLOCK_BITS` flows, the part that holds its first flow.
    blocks: Vec<u32>,
    len: usize,
}

/// One part's flows and their names, as [`FlowPart`] gathered them, shrunk to fit.
#[derive(Clone)]
pub struct Part {
    flows: Box<[Flow]>,
    names: Box<[u8]>,
}

/// Blocks of 4,096 flows: a table of 250 entries for a million flows.
const BLOCK_BITS: u32 = 12;

/// What a flow without a name keeps where its name would start.
pub(super) const NO_NAME: u32 = u32::MAX;

/// The flows of one part as they are resolved, each given its name as it is added.
#[derive(Clone, Default)]
pub struct FlowPart {
    flows: Vec<Flow>,
    /// Each name as its length in LEB128 and then its bytes, one after another.
    names: Vec<u8>,
}

impl FlowPart {
    /// A part with room for `flows` flows, so that it is not grown by doubling.
    pub fn with_capacity(flows: usize) -> FlowPart {
        FlowPart {
            flows: Vec::with_capacity(flows),
            names: Vec::new(),
        }
    }

    /// Adds `flow`, named `name`.
    pub fn push(&mut self, name: Option<&str>, mut flow: Flow) {
        flow.name = NO_NAME;
        // A part is one file, at most `MAX_FILE_BYTES` (1 GiB) long, and a name takes
        // fewer bytes here than in its file: its start always fits in a `u32`.
        if let Some(name) = name
            && let Ok(start) = u32::try_from(self.names.len())
            && start != NO_NAME
        {
            flow.name = start;
            let mut len = name.len();
            while len >= 0x80 {
                self.names.push((len & 0x7f) as u8 | 0x80);
                len >>= 7;
            }
            self.names.push(len as u8);
            self.names.extend_from_slice(name.as_bytes());
        }
        self.flows.push(flow);
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// How many flows it has room for.
    pub fn capacity(&self) -> usize {
        self.flows.capacity()
    }

    pub fn shrink_to_fit(&mut self) {
        self.flows.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    /// The flows and their names, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&str>, &Flow)> {
        self.flows
            .iter()
            .map(|flow| (name_at(&self.names, flow.name), flow))
    }
}

// As the flows of a model read: each flow with its name.
impl fmt::Debug for FlowPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(named)).finish()
    }
}

/// The name that starts at `start` in a part's `names`.
fn name_at(names: &[u8], start: u32) -> Option<&str> {
    if start == NO_NAME {
        return None;
    }
    let mut at = start as usize;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let byte = *names.get(at)?;
        at += 1;
        len |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    // Pushed from a `&str`, so always UTF-8.
    std::str::from_utf8(names.get(at..at.checked_add(len)?)?).ok()
}

/// A flow as `Debug` shows it: with its name, which only its part knows.
fn named<'a>((name, flow): (Option<&'a str>, &'a Flow)) -> impl fmt::Debug + 'a {
    struct Named<'a>(Option<&'a str>, &'a Flow);
    impl fmt::Debug for Named<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let Named(name, flow) = self;
            flow.debug(f, Some(*name))
        }
    }
    Named(name, flow)
}

impl Flows {
    /// The flows of `parts`, in order; empty parts are left out.
    pub fn from_parts(parts: impl IntoIterator<Item = FlowPart>) -> Flows {
        let mut flows = Flows::default();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            flows.starts.push(flows.len);
            flows.len += part.len();
            flows.parts.push(Part {
                flows: part.flows.into_boxed_slice(),
                names: part.names.into_boxed_slice(),
            });
        }
        let mut part = 0;
        flows.blocks = (0..flows.len.div_ceil(1 << BLOCK_BITS))
            .map(|block| {
                let first = block << BLOCK_BITS;
                while flows
                    .starts
                    .get(part + 1)
                    .is_some_and(|&next| next <= first)
                {
                    part += 1;
                }
                part as u32
            })
            .collect();
        flows
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&Flow> {
        let (part, at) = self.find(index)?;
        part.flows.get(at)
    }

    /// The name of the flow at `index`, if it has one.
    pub fn name(&self, index: usize) -> Option<&str> {
        let (part, at) = self.find(index)?;
        name_at(&part.names, part.flows.get(at)?.name)
    }

    /// The part that holds the flow at `index`, and its index there.
    fn find(&self, index: usize) -> Option<(&Part, usize)> {
        let mut part = *self.blocks.get(index >> BLOCK_BITS)? as usize;
        while self.starts.get(part + 1).is_some_and(|&next| next <= index) {
            part += 1;
        }
        Some((self.parts.get(part)?, index - self.starts.get(part)?))
    }

    /// Every flow, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.parts.iter().flat_map(|part| part.flows.iter())
    }

    /// Every flow's name, in order.
    pub fn names(&self) -> impl Iterator<Item = Option<&str>> {
        self.parts.iter().flat_map(|part| {
            part.flows
                .iter()
                .map(|flow| name_at(&part.names, flow.name))
        })
    }
}

impl Index<usize> for Flows {
    type Output = Flow;

    fn index(&self, index: usize) -> &Flow {
        match self.get(index) {
            Some(flow) => flow,
            // Ids come from the model itself, as a slice's indices do.
            None => panic!("flow index {index} out of {} flows", self.len),
        }
    }
}

/// The flows in order, part after part.
pub type Iter<'a> = std::iter::FlatMap<
    std::slice::Iter<'a, Part>,
    std::slice::Iter<'a, Flow>,
    fn(&'a Part) -> std::slice::Iter<'a, Flow>,
>;

impl<'a> IntoIterator for &'a Flows {
    type Item = &'a Flow;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Flows without their names, in one part: what a test that drops some flows of a
/// model needs, where names do not matter.
impl FromIterator<Flow> for Flows {
    fn from_iter<I: IntoIterator<Item = Flow>>(iter: I) -> Flows {
        let mut part = FlowPart::default();
        for flow in iter {
            part.push(None, flow);
        }
        Flows::from_parts([part])
    }
}

// One list, whatever the parts: models loaded two ways compare equal.
impl fmt::Debug for Flows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = self.parts.iter();
        let flows = parts.flat_map(|part| {
            let names = &part.names;
            part.flows
                .iter()
                .map(move |flow| named((name_at(names, flow.name), flow)))
        });
        f.debug_list().entries(flows).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::{Location, SourceId};
    use crate::model::{FlowNotes, Selection};
    use crate::port_list::PortLists;
    use crate::ports::PortSpec;

    /// A flow told apart from the others by its line.
    fn flow(line: u32) -> Flow {
        let at = Location {
            source: SourceId(0),
            line,
            column: 1,
        };
        let ports = PortLists::default().intern(&[PortSpec::ANY]);
        let none = Selection::default();
        Flow::new(none.clone(), none, ports, FlowNotes::default(), at)
    }

    /// What the flow of `line` is named: every third flow has no name.
    fn name_of(line: u32) -> Option<String> {
        (!line.is_multiple_of(3)).then(|| format!("f-{line}"))
    }

    /// The flows of `lines`, each named as [`name_of`] says.
    fn part(lines: impl IntoIterator<Item = u32>) -> FlowPart {
        let mut part = FlowPart::default();
        for line in lines {
            part.push(name_of(line).as_deref(), flow(line));
        }
        part
    }

    fn lines<'a>(flows: impl IntoIterator<Item = &'a Flow>) -> Vec<u32> {
        flows.into_iter().map(|flow| flow.location.line).collect()
    }

    #[test]
    fn parts_read_as_one_list_in_order() {
        let parts = vec![part(1..3), part(3..3), part(3..4), part(4..7)];
        let flows = Flows::from_parts(parts);
        assert_eq!(flows.len(), 6);
        assert_eq!(lines(&flows), [1, 2, 3, 4, 5, 6]);
        assert_eq!(lines(flows.iter().rev()), [6, 5, 4, 3, 2, 1]);
        let by_index: Vec<u32> = (0..6).map(|index| flows[index].location.line).collect();
        assert_eq!(by_index, [1, 2, 3, 4, 5, 6]);
        let names: Vec<Option<&str>> = flows.names().collect();
        assert_eq!(
            names,
            [
                Some("f-1"),
                Some("f-2"),
                None,
                Some("f-4"),
                Some("f-5"),
                None
            ]
        );
        assert!(flows.get(6).is_none());
        assert!(flows.name(6).is_none());
    }

    #[test]
    fn every_flow_and_its_name_is_found_across_parts_of_every_size() {
        let sizes = [1, 4095, 1, 1, 5000, 3, 8192, 2];
        let mut line = 0;
        let parts: Vec<FlowPart> = sizes
            .iter()
            .map(|&size| {
                line += size;
                part(line - size + 1..=line)
            })
            .collect();
        let flows = Flows::from_parts(parts);
        assert_eq!(flows.len(), line as usize);
        for index in 0..flows.len() {
            let line = index as u32 + 1;
            assert_eq!(flows[index].location.line, line);
            assert_eq!(flows.name(index), name_of(line).as_deref());
        }
        assert!(flows.get(flows.len()).is_none());
    }

    #[test]
    fn names_of_every_length_read_back() {
        // Lengths around each step of the length's encoding, the empty name included.
        let names: Vec<Option<String>> = [0, 1, 127, 128, 129, 16_383, 16_384, 300_000]
            .into_iter()
            .map(|len| Some("ü".repeat(len / 2) + &"x".repeat(len % 2)))
            .chain([None, Some("last".to_owned())])
            .collect();
        let mut part = FlowPart::with_capacity(names.len());
        for (line, name) in names.iter().enumerate() {
            part.push(name.as_deref(), flow(line as u32));
        }
        let read: Vec<Option<&str>> = part.iter().map(|(name, _)| name).collect();
        let written: Vec<Option<&str>> = names.iter().map(Option::as_deref).collect();
        assert_eq!(read, written);
        let flows = Flows::from_parts([part]);
        assert_eq!(flows.names().collect::<Vec<_>>(), written);
        for (index, name) in written.iter().enumerate() {
            assert_eq!(flows.name(index), *name);
        }
    }

    #[test]
    fn a_flow_added_again_takes_its_new_name() {
        let flows = Flows::from_parts([part(1..3)]);
        let mut again = FlowPart::default();
        again.push(None, flows[0].clone());
        again.push(Some("other"), flows[1].clone());
        let again = Flows::from_parts([again]);
        assert_eq!(again.names().collect::<Vec<_>>(), [None, Some("other")]);
    }

    #[test]
    fn how_flows_were_parted_does_not_show() {
        let parted = Flows::from_parts(vec![part(1..2), part(2..4)]);
        let whole = Flows::from_parts([part(1..4)]);
        assert_eq!(format!("{parted:?}"), format!("{whole:?}"));
        assert!(format!("{whole:?}").contains("name: Some(\"f-2\")"));
        assert_ne!(
            format!("{whole:?}"),
            format!("{:?}", Flows::from_parts([part(2..5)]))
        );
        assert!(Flows::from_parts(vec![FlowPart::default()]).is_empty());
        assert!(Flows::default().get(0).is_none());
    }
}
