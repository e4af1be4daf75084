//! The flows of a deferred JSON file resolved as they are read ([`crate::raw::flow_text`]):
//! each selector name turned into its entity, each port list into the file's shared
//! list, each credential into its id, with nothing of the raw form kept.
//!
//! It resolves only what cannot go wrong: a selector that is a known name, a port that
//! parses without a warning, a known credential. Anything else gives up on the file,
//! which [`super::rules`] then parses and resolves the usual way, so that every problem
//! and warning is found and worded by the one path that always did.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::rules::Known;
use super::selector::SelectorResolver;
use crate::location::{Location, SourceId};
use crate::model::find_credential;
use crate::model::{ANY, Flow, FlowNotes, FlowPart, Model, Selection};
use crate::port_list::{PortList, PortLists};
use crate::ports::PortSpec;
use crate::raw::flow_text::{Unusual, each_flow};

/// A file's flows resolved, with a hash of each flow's name (as
/// [`super::rules`] hashes them to find names given twice); `None` when something in
/// the file is unusual.
pub(super) fn resolve_json(
    bytes: &[u8],
    (model, credentials, resolver): Known,
    source: SourceId,
) -> Option<(FlowPart, Vec<u64>)> {
    // Every flow is an object, and nothing else in a usual file is but the file itself:
    // the braces bound the number of flows, so that the flows are allocated once and not
    // grown by doubling, which would leave the abandoned buffers in the allocator.
    let objects = memchr::memchr_iter(b'{', bytes).count();
    let mut flows = FlowPart::with_capacity(objects.saturating_sub(1));
    let mut names = Vec::new();
    let mut ports = Ports::default();
    each_flow(bytes, |text| {
        let at = Location {
            source,
            line: text.line,
            column: 0,
        };
        let from = selection(model, resolver, text.from).ok_or(Unusual)?;
        let to = selection(model, resolver, text.to).ok_or(Unusual)?;
        let ports = ports.of(text.ports).ok_or(Unusual)?;
        let auth = match text.auth {
            None => Box::default(),
            Some(list) => {
                let mut auth = list
                    .iter()
                    .map(|name| find_credential(credentials, name))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(Unusual)?;
                auth.sort_unstable();
                auth.dedup();
                auth.into_boxed_slice()
            }
        };
        let notes = FlowNotes {
            auth,
            kind: text.kind.map(Box::from),
            description: text.description.map(Box::from),
            owner: text.owner.map(Box::from),
            ticket: text.ticket.map(Box::from),
        };
        if let Some(name) = text.name {
            names.push(FxBuildHasher.hash_one(name));
        }
        flows.push(text.name, Flow::new(from, to, ports, notes, at));
        Ok(())
    })
    .ok()?;
    flows.shrink_to_fit();
    Some((flows, names))
}

/// What a list of selectors selects when every one of them is an entity's name, as
/// [`super::selector::union`] reads them; `None` for anything else, or an empty list.
fn selection(model: &Model, resolver: &SelectorResolver, texts: &[&str]) -> Option<Selection> {
    match texts {
        [] => None,
        [one] => Some(Selection::of_entity(model, resolver.entity(one.trim())?)),
        many => {
            let mut entities = Vec::with_capacity(many.len());
            for text in many {
                let text = text.trim();
                // `any` and tags take precedence over names in a list.
                if text == ANY || text.starts_with("tag:") {
                    return None;
                }
                entities.push(resolver.entity(text)?);
            }
            Some(Selection::from_entities(model, entities))
        }
    }
}

/// A file's port lists: each written list parsed once, shared by every flow that
/// writes it.
#[derive(Default)]
struct Ports<'a> {
    lists: PortLists,
    /// Lists of one port by their text, which is how nearly every flow writes them.
    single: FxHashMap<&'a str, PortList>,
    any: Option<PortList>,
    /// The specs of a longer list while it is parsed.
    specs: Vec<PortSpec>,
}

impl<'a> Ports<'a> {
    /// The shared list for a flow's `ports` as written (sorted, without repeats, `any`
    /// when left out); `None` for a list that does not parse or is worth a warning.
    fn of(&mut self, written: Option<&[&'a str]>) -> Option<PortList> {
        match written {
            None => {
                let lists = &mut self.lists;
                Some(
                    self.any
                        .get_or_insert_with(|| lists.intern(&[PortSpec::ANY]))
                        .clone(),
                )
            }
            // `ports: []` allows nothing: a warning.
            Some([]) => None,
            Some(&[one]) => {
                if let Some(list) = self.single.get(one) {
                    return Some(list.clone());
                }
                let list = self.lists.intern(&[spec(one)?]);
                self.single.insert(one, list.clone());
                Some(list)
            }
            Some(many) => {
                self.specs.clear();
                for text in many {
                    self.specs.push(spec(text)?);
                }
                self.specs.sort_unstable();
                self.specs.dedup();
                Some(self.lists.intern(&self.specs))
            }
        }
    }
}

/// One port as written; `None` when it does not parse or takes in port 0 (a warning).
fn spec(text: &str) -> Option<PortSpec> {
    let spec: PortSpec = text.parse().ok()?;
    (!spec.includes_port_zero()).then_some(spec)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::policy::{model_from_files, model_from_text};

    const ESTATE: &str = "accounts:\n  - {name: prod, cidrs: [10.0.0.0/16], tags: [t]}\nassets:\n  - {name: web, in: prod, cidrs: [10.0.1.10]}\n  - {name: db, in: prod, cidrs: [10.0.2.10]}\ncredentials:\n  - {name: key, held_by: web}\n  - {name: other, held_by: db}\n";

    /// The flows of `json` read straight into the model of [`ESTATE`], as the list
    /// that `Debug` shows, or `None` where the fast path gives up.
    fn fast(json: &str) -> Option<String> {
        let model = model_from_text("a.yaml", ESTATE).unwrap_or_else(|p| panic!("{p:?}"));
        let resolver = SelectorResolver::new(&model);
        let known = (&model, model.credentials.as_slice(), &resolver);
        let (flows, _) = resolve_json(json.as_bytes(), known, SourceId(1))?;
        Some(format!("{flows:?}"))
    }

    /// The flows of `json` as the usual path resolves them beside [`ESTATE`].
    fn usual(json: &str) -> String {
        let files = vec![
            ("a.yaml".to_owned(), ESTATE.as_bytes().to_vec()),
            ("b.json".to_owned(), json.as_bytes().to_vec()),
        ];
        let model = model_from_files(files).unwrap_or_else(|p| panic!("{p:?}"));
        format!("{:?}", model.flows)
    }

    #[test]
    fn a_usual_file_reads_as_the_usual_path_resolves_it() {
        let json = "{\n  \"version\": \"1\",\n  \"flows\": [\n    {\"name\": \"a\", \"from\": \"web\", \"to\": [\"db\", \"prod\"], \"ports\": [\"tcp/5432\", \"udp/53\", \"tcp/5432\"]},\n    {\"from\": \" web \", \"to\": \"db\", \"auth\": [\"other\", \"key\", \"key\"], \"kind\": \"ssh\", \"description\": \"d\", \"owner\": \"o\", \"ticket\": \"t\"},\n    {\"from\": \"db\", \"to\": \"web\", \"ports\": \"tcp/5432\", \"auth\": \"key\"},\n    {\"from\": \"internet\",\n     \"to\": \"web\", \"ports\": [\"tcp/443\"]}\n  ]\n}\n";
        let fast = fast(json).expect("nothing unusual");
        assert_eq!(fast, usual(json));
        assert!(
            fast.contains("line: 4") && fast.contains("line: 7"),
            "{fast}"
        );
    }

    #[test]
    fn gives_up_on_a_file_with_anything_that_could_be_a_problem_or_a_warning() {
        let flow = |fields: &str| {
            format!("{{\"flows\": [{{\"from\": \"web\", \"to\": \"db\"}}, {{{fields}}}]}}")
        };
        assert!(fast(&flow("\"from\": \"web\", \"to\": \"db\"")).is_some());
        for fields in [
            // Selectors that are not known names, or no selector.
            "\"from\": \"webb\", \"to\": \"db\"",
            "\"from\": \"web\", \"to\": \"tag:t\"",
            "\"from\": \"any\", \"to\": \"db\"",
            "\"from\": \"web\", \"to\": \"10.0.2.10\"",
            "\"from\": \"web\", \"to\": [\"db\", \"any\"]",
            "\"from\": \"web\", \"to\": [\"db\", \"tag:t\"]",
            "\"from\": \"web\", \"to\": [\"db\", \"nowhere\"]",
            "\"from\": [], \"to\": \"db\"",
            // Ports that are wrong or worth a warning.
            "\"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/99999\"]",
            "\"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/0\"]",
            "\"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/443\", \"udp/0-53\"]",
            "\"from\": \"web\", \"to\": \"db\", \"ports\": []",
            // A credential that does not exist.
            "\"from\": \"web\", \"to\": \"db\", \"auth\": [\"key\", \"kye\"]",
            // What the reader itself gives up on.
            "\"from\": \"web\", \"to\": \"db\", \"notes\": \"n\"",
        ] {
            assert_eq!(fast(&flow(fields)), None, "{fields}");
        }
    }

    /// The model that the usual path resolves from JSON `files` read as the fast path
    /// reads them, without positions. Not [`model_from_files`]: once a model has a
    /// warning, that reads every file again with positions to point at columns, which
    /// the fast path never records (its result is then set aside the same way).
    fn unpositioned_model(files: &[(String, Vec<u8>)]) -> Model {
        let mut parsed: Vec<_> = files
            .iter()
            .map(|(name, bytes)| {
                let found = crate::load::FoundFile {
                    path: name.into(),
                    display: name.clone(),
                    format: crate::load::Format::Json,
                };
                let contents = crate::load::parse(found, bytes.clone());
                contents.unwrap_or_else(|p| panic!("{p:?}")).policy.unwrap()
            })
            .collect();
        crate::resolve::resolve(&mut parsed, false).unwrap_or_else(|p| panic!("{p:?}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        /// Every file of flows of a generated estate is read by the fast path, into the
        /// flows the usual path resolves from it.
        #[test]
        fn generated_files_of_flows_read_as_the_usual_path_resolves_them(
            seed in 1u64..1_000_000,
            scale in 0.005f64..0.03,
        ) {
            let dir = tempfile::tempdir().unwrap();
            crate::synth::generate(&crate::synth::Options {
                scale,
                out: dir.path().to_owned(),
                format: crate::synth::Format::Json,
                seed,
                flow_files: 2,
            })
            .unwrap();
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|entry| {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&path).unwrap())
                })
                .collect();
            files.sort();
            let model = unpositioned_model(&files);
            let resolver = SelectorResolver::new(&model);
            let known = (&model, model.credentials.as_slice(), &resolver);
            let mut read = 0;
            for (index, (name, bytes)) in files.iter().enumerate() {
                if !name.starts_with("flows") {
                    continue;
                }
                let source = SourceId(index as u32);
                let (flows, names) = resolve_json(bytes, known, source).expect("a usual file");
                let mut usual = FlowPart::default();
                for (flow, name) in model.flows.iter().zip(model.flows.names()) {
                    if flow.location.source == source {
                        usual.push(name, flow.clone());
                    }
                }
                prop_assert_eq!(format!("{flows:?}"), format!("{usual:?}"));
                prop_assert_eq!(names.len(), flows.iter().filter(|(name, _)| name.is_some()).count());
                prop_assert_eq!(flows.capacity(), flows.len());
                read += flows.len();
            }
            prop_assert_eq!(read, model.flows.len());
        }
    }
}
