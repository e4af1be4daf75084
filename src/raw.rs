//! The policy files as written: serde types that mirror the YAML and JSON keys one to one.
//!
//! Nothing here validates or interprets a value beyond its shape; `resolve` turns these
//! into the model and nothing past it sees them. Every value that a later error or a
//! witness must point at is `Spanned`, so that it keeps its line and column.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One policy file. Every key is optional and holds a list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub version: Option<Spanned<String>>,
    pub environments: Option<Vec<Spanned<RawEntity>>>,
    pub accounts: Option<Vec<Spanned<RawAccount>>>,
    pub segments: Option<Vec<Spanned<RawEntity>>>,
    pub assets: Option<Vec<Spanned<RawEntity>>>,
    pub credentials: Option<Vec<Spanned<RawCredential>>>,
    pub flows: Option<Vec<Spanned<RawFlow>>>,
    pub invariants: Option<Vec<Spanned<RawInvariant>>>,
    pub exceptions: Option<Vec<Spanned<RawException>>>,
}

/// An environment, segment or asset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    pub name: Spanned<String>,
    #[serde(rename = "in")]
    pub parent: Option<Spanned<String>>,
    pub cidrs: Option<Vec<Spanned<String>>>,
    pub tags: Option<Vec<Spanned<String>>>,
    pub description: Option<String>,
    pub owner: Option<String>,
}

/// An account: an entity that also names its provider and the provider's id for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub name: Spanned<String>,
    #[serde(rename = "in")]
    pub parent: Option<Spanned<String>>,
    pub cidrs: Option<Vec<Spanned<String>>>,
    pub tags: Option<Vec<Spanned<String>>>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub provider: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub name: Option<Spanned<String>>,
    pub from: Spanned<RawSelectors>,
    pub to: Spanned<RawSelectors>,
    pub ports: Option<Spanned<RawList>>,
    pub auth: Option<Spanned<RawList>>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub name: Spanned<String>,
    pub held_by: Option<Spanned<RawSelectors>>,
    pub leaked: Option<bool>,
    pub status: Option<Spanned<String>>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub rotated: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvariant {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub severity: Option<Spanned<String>>,
    pub references: Option<Vec<String>>,
    pub forbid: Option<Spanned<RawEnds>>,
    pub require: Option<Spanned<RawEnds>>,
    pub through: Option<Spanned<RawThrough>>,
}

/// The body of `forbid` and `require`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnds {
    pub from: Spanned<RawSelectors>,
    pub to: Spanned<RawSelectors>,
    pub ports: Option<Spanned<RawList>>,
    pub direct: Option<bool>,
}

/// The body of `through`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThrough {
    pub from: Spanned<RawSelectors>,
    pub to: Spanned<RawSelectors>,
    pub via: Spanned<RawSelectors>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawException {
    pub invariant: Spanned<String>,
    pub reason: String,
    pub owner: String,
    pub expires: Spanned<String>,
    pub path: Option<Vec<Spanned<String>>>,
}

/// A selector or a list of selectors, as `from`, `to`, `via` and `held_by` take them.
pub type RawSelectors = RawList;

/// A scalar or a list of scalars. A lone scalar keeps the location of its wrapper only,
/// so its item carries no location of its own; `resolve` falls back to the wrapper's.
#[derive(Debug, Default)]
pub struct RawList(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for RawList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = RawList;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawList, E> {
                Ok(RawList(vec![Spanned::new(
                    v.to_owned(),
                    serde_saphyr::Location::UNKNOWN,
                    serde_saphyr::Location::UNKNOWN,
                )]))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawList, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawList, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(RawList(items))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}
