//! `Flows`: the model's flows, kept in the parts they were resolved in, one per file.
//!
//! A million flows are resolved file by file, in parallel. Joining the parts into one
//! vector would copy every flow while every part is still held, and the allocator keeps
//! the freed parts: at scale 10 that copy alone was the run's peak memory, 60–80 MB
//! above everything else. Searches read flows by index in their inner loops, so a flow
//! is found without a search: a table gives the part of every block of flows, and the
//! part is at most a few steps on from there.

use std::fmt;
use std::ops::Index;

use super::Flow;

#[derive(Clone, Default)]
pub struct Flows {
    parts: Vec<Box<[Flow]>>,
    /// The index of each part's first flow; as long as `parts`.
    starts: Vec<usize>,
    /// For each block of `1 << BLOCK_BITS` flows, the part that holds its first flow.
    blocks: Vec<u32>,
    len: usize,
}

/// Blocks of 4,096 flows: a table of 250 entries for a million flows.
const BLOCK_BITS: u32 = 12;

impl Flows {
    /// The flows of `parts`, in order; empty parts are left out.
    pub fn from_parts(parts: impl IntoIterator<Item = Vec<Flow>>) -> Flows {
        let mut flows = Flows::default();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            flows.starts.push(flows.len);
            flows.len += part.len();
            flows.parts.push(part.into_boxed_slice());
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
        let mut part = *self.blocks.get(index >> BLOCK_BITS)? as usize;
        while self.starts.get(part + 1).is_some_and(|&next| next <= index) {
            part += 1;
        }
        self.parts[part].get(index - self.starts[part])
    }

    /// Every flow, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.parts.iter().flat_map(|part| part.iter())
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
    std::slice::Iter<'a, Box<[Flow]>>,
    std::slice::Iter<'a, Flow>,
    fn(&'a Box<[Flow]>) -> std::slice::Iter<'a, Flow>,
>;

impl<'a> IntoIterator for &'a Flows {
    type Item = &'a Flow;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Vec<Flow>> for Flows {
    fn from(flows: Vec<Flow>) -> Flows {
        Flows::from_parts([flows])
    }
}

impl FromIterator<Flow> for Flows {
    fn from_iter<I: IntoIterator<Item = Flow>>(iter: I) -> Flows {
        Flows::from(iter.into_iter().collect::<Vec<_>>())
    }
}

// One list, whatever the parts: models loaded two ways compare equal.
impl fmt::Debug for Flows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
        Flow::new(None, none.clone(), none, ports, FlowNotes::default(), at)
    }

    fn lines<'a>(flows: impl IntoIterator<Item = &'a Flow>) -> Vec<u32> {
        flows.into_iter().map(|flow| flow.location.line).collect()
    }

    #[test]
    fn parts_read_as_one_list_in_order() {
        let parts = vec![
            vec![flow(1), flow(2)],
            Vec::new(),
            vec![flow(3)],
            vec![flow(4), flow(5), flow(6)],
        ];
        let flows = Flows::from_parts(parts);
        assert_eq!(flows.len(), 6);
        assert_eq!(lines(&flows), [1, 2, 3, 4, 5, 6]);
        assert_eq!(lines(flows.iter().rev()), [6, 5, 4, 3, 2, 1]);
        let by_index: Vec<u32> = (0..6).map(|index| flows[index].location.line).collect();
        assert_eq!(by_index, [1, 2, 3, 4, 5, 6]);
        assert!(flows.get(6).is_none());
    }

    #[test]
    fn every_flow_is_found_across_parts_of_every_size() {
        let sizes = [1, 4095, 1, 1, 5000, 3, 8192, 2];
        let mut line = 0;
        let parts: Vec<Vec<Flow>> = sizes
            .iter()
            .map(|&size| {
                (0..size)
                    .map(|_| {
                        line += 1;
                        flow(line)
                    })
                    .collect()
            })
            .collect();
        let flows = Flows::from_parts(parts);
        assert_eq!(flows.len(), line as usize);
        for index in 0..flows.len() {
            assert_eq!(flows[index].location.line, index as u32 + 1);
        }
        assert!(flows.get(flows.len()).is_none());
    }

    #[test]
    fn how_flows_were_parted_does_not_show() {
        let parted = Flows::from_parts(vec![vec![flow(1)], vec![flow(2), flow(3)]]);
        let whole: Flows = [flow(1), flow(2), flow(3)].into_iter().collect();
        assert_eq!(format!("{parted:?}"), format!("{whole:?}"));
        assert!(Flows::from_parts(vec![Vec::new()]).is_empty());
        assert!(Flows::default().get(0).is_none());
    }
}
