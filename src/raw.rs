//! The policy files as written: serde types that mirror the YAML and JSON keys one to one.
//!
//! Nothing here validates or interprets a value beyond its shape; `resolve` turns these
//! into the model and nothing past it sees them. Every value that a later error or a
//! witness must point at is wrapped in [`At`], so that it keeps its line and column.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use compact_str::CompactString;

pub mod flow_text;

/// A value and where it was written: line and column from 1, or 0 when unknown (as for
/// JSON read by the fast path). serde-saphyr's `Spanned` carries two full locations;
/// this keeps the one that messages show, so that a model of a million flows costs
/// less than half the memory while it is parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub line: u32,
    pub column: u32,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(At {
            value: spanned.value,
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
        })
    }
}

/// The keys of a policy file, as [`RawFile`] spells them: what tells a policy from the
/// other YAML and JSON documents of a repository.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "environments",
    "accounts",
    "segments",
    "assets",
    "credentials",
    "flows",
    "invariants",
    "exceptions",
    "imports",
    "leaks",
];

/// One policy file. Every key is optional and holds a list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// `Some` whenever the key is written, even with no value: `version:` alone is not
    /// version 1, and must not pass for a file that leaves the key out.
    #[serde(default, deserialize_with = "written_version")]
    pub version: Option<At<String>>,
    pub environments: Option<Vec<At<RawEntity>>>,
    pub accounts: Option<Vec<At<RawAccount>>>,
    pub segments: Option<Vec<At<RawEntity>>>,
    pub assets: Option<Vec<At<RawEntity>>>,
    pub credentials: Option<Vec<At<RawCredential>>>,
    pub flows: Option<Vec<At<RawFlow>>>,
    pub invariants: Option<Vec<At<RawInvariant>>>,
    pub exceptions: Option<Vec<At<RawException>>>,
    pub imports: Option<Vec<At<RawImport>>>,
    pub leaks: Option<Vec<At<RawLeak>>>,
    /// Set on files an importer made: their names keep the source's own characters.
    #[serde(skip)]
    pub imported: bool,
}

/// A written `version` as text, whatever its YAML or JSON type: `1` and `"1"` alike,
/// and `null` spelt out so that the error can show it.
fn written_version<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<At<String>>, D::Error> {
    let at = At::<VersionText>::deserialize(deserializer)?;
    Ok(Some(At {
        value: at.value.0,
        line: at.line,
        column: at.column,
    }))
}

struct VersionText(String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = VersionText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a version number")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<VersionText, E> {
                Ok(VersionText(text.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<VersionText, E> {
                Ok(VersionText(number.to_string()))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<VersionText, E> {
                Ok(VersionText(number.to_string()))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<VersionText, E> {
                Ok(VersionText(number.to_string()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<VersionText, E> {
                Ok(VersionText(value.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<VersionText, E> {
                Ok(VersionText("null".to_owned()))
            }
            fn visit_none<E: de::Error>(self) -> Result<VersionText, E> {
                self.visit_unit()
            }
        }
        deserializer.deserialize_any(Text)
    }
}

/// Infrastructure to read into the model: `{kubernetes: PATH, in: ENTITY}` (with an
/// optional `namespace`, as `kubectl apply -n` takes) or `{terraform: PATH, in:
/// ACCOUNT}`, the path relative to the policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImport {
    pub kubernetes: Option<At<String>>,
    pub terraform: Option<At<String>>,
    #[serde(rename = "in")]
    pub parent: Option<At<String>>,
    pub namespace: Option<At<String>>,
}

/// An environment, segment or asset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    pub name: At<String>,
    #[serde(rename = "in")]
    pub parent: Option<At<String>>,
    pub cidrs: Option<Vec<At<String>>>,
    pub tags: Option<Vec<At<String>>>,
    pub description: Option<String>,
    pub owner: Option<String>,
}

/// An account: an entity that also names its provider and the provider's id for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub name: At<String>,
    #[serde(rename = "in")]
    pub parent: Option<At<String>>,
    pub cidrs: Option<Vec<At<String>>>,
    pub tags: Option<Vec<At<String>>>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub provider: Option<String>,
    pub id: Option<String>,
}

/// A flow. A model may hold a million, all parsed before any is resolved, so its text
/// is kept small: the name inline when short, and the optional notes as boxed strings
/// (16 bytes each when absent rather than a `String`'s 24).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub name: Option<At<CompactString>>,
    pub from: At<RawSelectors>,
    pub to: At<RawSelectors>,
    pub ports: Option<At<RawList>>,
    pub auth: Option<At<RawList>>,
    pub kind: Option<Box<str>>,
    pub description: Option<Box<str>>,
    pub owner: Option<Box<str>>,
    pub ticket: Option<Box<str>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub name: At<String>,
    pub held_by: Option<At<RawSelectors>>,
    pub leaked: Option<bool>,
    pub status: Option<At<String>>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub rotated: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvariant {
    pub name: At<String>,
    pub description: Option<String>,
    pub severity: Option<At<String>>,
    pub references: Option<Vec<String>>,
    pub forbid: Option<At<RawEnds>>,
    pub require: Option<At<RawEnds>>,
    pub through: Option<At<RawThrough>>,
}

/// The body of `forbid` and `require`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnds {
    pub from: At<RawSelectors>,
    pub to: At<RawSelectors>,
    pub ports: Option<At<RawList>>,
    pub direct: Option<bool>,
}

/// The body of `through`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThrough {
    pub from: At<RawSelectors>,
    pub to: At<RawSelectors>,
    pub via: At<RawSelectors>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawException {
    pub invariant: At<String>,
    pub reason: String,
    pub owner: String,
    pub expires: At<String>,
    pub path: Option<Vec<At<String>>>,
}

/// A credential that an attacker holds a copy of, named where it is declared elsewhere:
/// how a policy says that a credential an importer read has leaked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeak {
    pub credential: At<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
}

/// A selector or a list of selectors, as `from`, `to`, `via` and `held_by` take them.
pub type RawSelectors = RawList;

/// A scalar or a list of scalars. A lone scalar keeps the location of its wrapper only,
/// so its item carries no location of its own; `resolve` falls back to the wrapper's.
#[derive(Debug, Default)]
pub struct RawList(pub Items);

/// The items of a [`RawList`]. Nearly every list a policy writes holds one item (a
/// flow's `from`, `to` and `ports`), so one item is kept inline: a million flows then
/// parse without three small allocations each, which is most of what parsing leaves
/// behind at scale. An importer that writes one long list into many flows (the
/// Terraform importer's ends: every asset of a class, in each grant that admits it)
/// hands them one `Shared` list, which resolve then resolves once.
#[derive(Debug)]
pub enum Items {
    One(At<CompactString>),
    Many(Vec<At<CompactString>>),
    /// One list held by several flows; each item keeps its own location.
    Shared(Arc<[At<CompactString>]>),
}

impl Items {
    /// The list's identity when it is shared: equal for every flow that holds it, and
    /// valid while any of them is, so that what it resolves to can be kept by it.
    pub fn shared_id(&self) -> Option<usize> {
        match self {
            Items::Shared(items) => Some(Arc::as_ptr(items).cast::<()>() as usize),
            Items::One(_) | Items::Many(_) => None,
        }
    }
}

impl Default for Items {
    fn default() -> Self {
        Items::Many(Vec::new())
    }
}

impl std::ops::Deref for Items {
    type Target = [At<CompactString>];

    fn deref(&self) -> &[At<CompactString>] {
        match self {
            Items::One(item) => std::slice::from_ref(item),
            Items::Many(items) => items,
            Items::Shared(items) => items,
        }
    }
}

impl<'a> IntoIterator for &'a Items {
    type Item = &'a At<CompactString>;
    type IntoIter = std::slice::Iter<'a, At<CompactString>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<At<String>>> for Items {
    fn from(items: Vec<At<String>>) -> Self {
        items.into_iter().collect()
    }
}

impl FromIterator<At<String>> for Items {
    fn from_iter<I: IntoIterator<Item = At<String>>>(iter: I) -> Self {
        iter.into_iter()
            .map(|item| At {
                value: CompactString::from(item.value),
                line: item.line,
                column: item.column,
            })
            .collect()
    }
}

impl From<Vec<At<CompactString>>> for Items {
    fn from(mut items: Vec<At<CompactString>>) -> Self {
        match items.pop() {
            Some(item) if items.is_empty() => Items::One(item),
            Some(item) => {
                items.push(item);
                Items::Many(items)
            }
            None => Items::Many(items),
        }
    }
}

impl FromIterator<At<CompactString>> for Items {
    fn from_iter<I: IntoIterator<Item = At<CompactString>>>(iter: I) -> Self {
        Items::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'de> Deserialize<'de> for RawList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = RawList;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawList, E> {
                Ok(RawList(Items::One(At {
                    value: CompactString::from(v),
                    line: 0,
                    column: 0,
                })))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawList, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawList, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList, A::Error> {
                let Some(first) = seq.next_element::<At<CompactString>>()? else {
                    return Ok(RawList::default());
                };
                let Some(second) = seq.next_element::<At<CompactString>>()? else {
                    return Ok(RawList(Items::One(first)));
                };
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024) + 2);
                items.push(first);
                items.push(second);
                while let Some(item) = seq.next_element::<At<CompactString>>()? {
                    items.push(item);
                }
                Ok(RawList(Items::Many(items)))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_is_kept_inline_and_reads_as_a_slice() {
        let one: Items = vec![At {
            value: "a".to_owned(),
            line: 2,
            column: 3,
        }]
        .into();
        assert!(matches!(one, Items::One(_)));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].value, "a");
        let many: Items = ["a", "b"]
            .into_iter()
            .map(|v| At {
                value: v.to_owned(),
                ..At::default()
            })
            .collect();
        assert!(matches!(many, Items::Many(_)));
        let texts: Vec<&str> = many.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        assert!(Items::default().is_empty());
    }

    #[test]
    fn a_shared_list_reads_as_its_items_and_is_known_by_its_identity() {
        let items: Arc<[At<CompactString>]> = ["a", "b"]
            .into_iter()
            .map(|v| At {
                value: CompactString::from(v),
                line: 7,
                column: 2,
            })
            .collect();
        let one = Items::Shared(Arc::clone(&items));
        let two = Items::Shared(Arc::clone(&items));
        assert_eq!(one.len(), 2);
        assert_eq!((one[1].value.as_str(), one[1].line), ("b", 7));
        assert!(one.shared_id().is_some());
        assert_eq!(one.shared_id(), two.shared_id());
        let copy = Items::Shared(items.iter().cloned().collect());
        assert_ne!(copy.shared_id(), one.shared_id());
        let many: Items = items.to_vec().into();
        assert_eq!(many.shared_id(), None);
    }

    #[test]
    fn a_flow_stays_small() {
        // As large as with a `String` name, but a short name, selector or port
        // allocates nothing.
        assert_eq!(size_of::<At<RawFlow>>(), 296);
    }

    #[test]
    fn an_item_reads_as_a_string_reads() {
        // A policy's errors must not change with the representation of its text.
        let text: CompactString = serde_json::from_str("\"tcp/443\"").unwrap_or_default();
        assert_eq!(text, "tcp/443");
        assert!(!text.is_heap_allocated());
        let error = serde_json::from_str::<CompactString>("443")
            .map(|_| ())
            .unwrap_err();
        let expected = serde_json::from_str::<String>("443")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(error.to_string(), expected.to_string());
    }

    #[test]
    fn a_list_is_its_one_inline_item_and_a_tag() {
        assert_eq!(
            std::mem::size_of::<RawList>(),
            std::mem::size_of::<At<CompactString>>() + 8
        );
    }
}
