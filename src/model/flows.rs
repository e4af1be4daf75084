//! `Flows`: the model's flows, kept in the parts they were resolved in, one per file.
//!
//! A million flows are resolved file by file, in parallel. Joining the parts into one
//! vector would copy every flow while every part is still held, and the allocator keeps
//! the freed parts: at scale 10 that copy alone was the run's peak memory, 60–80 MB
//! above everything else. Reading a flow by index finds its part by a binary search
//! over a few dozen starts.

use std::fmt;
use std::ops::Index;

use super::Flow;

#[derive(Clone, Default)]
pub struct Flows {
    parts: Vec<Box<[Flow]>>,
    /// The index of each part's first flow; as long as `parts`.
    starts: Vec<usize>,
    len: usize,
}

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
        flows
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&Flow> {
        let part = self.starts.partition_point(|&start| start <= index);
        let part = part.checked_sub(1)?;
        self.parts[part].get(index - self.starts[part])
    }

    /// Every flow, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Flow> + Clone {
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

impl<'a> IntoIterator for &'a Flows {
    type Item = &'a Flow;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a Flow> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
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
    fn how_flows_were_parted_does_not_show() {
        let parted = Flows::from_parts(vec![vec![flow(1)], vec![flow(2), flow(3)]]);
        let whole: Flows = [flow(1), flow(2), flow(3)].into_iter().collect();
        assert_eq!(format!("{parted:?}"), format!("{whole:?}"));
        assert!(Flows::from_parts(vec![Vec::new()]).is_empty());
        assert!(Flows::default().get(0).is_none());
    }
}
