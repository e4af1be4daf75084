//! The attribute values of a plan's resources and its configuration's expressions, in
//! a compact form that reads as `serde_json::Value` reads: the same shapes, the same
//! `get`, `as_str`, `as_i64`…, the same numbers, an object's members walked in key
//! order, and of a key given twice the last kept.
//!
//! A `Value` of a 20,000-resource state cost a `BTreeMap` node and a `String` for
//! every key, and a `String` for every string, each allocated and freed one by one.
//! Here an object is one vector of members, and a key or a string of up to 24 bytes (ids,
//! CIDR blocks, ports' protocols, nearly every key) lives inline in a `CompactString`.
//! IAM policies, which the importer evaluates as `serde_json::Value` documents, are
//! converted with [`Value::to_json`].

use std::fmt;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// One JSON value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(CompactString),
    Array(Vec<Value>),
    Object(Object),
}

/// An object's members, each key once with the last value the text gives it, as a
/// `serde_json::Map` keeps it; `iter` gives them sorted, as a `serde_json::Map` would.
/// Sorting each object as it is read cost more than all the lookups; only tags are
/// walked in order. Members of up to 32 stay in the text's order, so `get` finds a
/// resource's `id`, its first key, without touching the others; a search from the
/// back for a repeated key touched them all, and took 1.5–4 ms more on a state of
/// 20,000 resources.
#[derive(Clone, Debug, Default)]
pub struct Object(Vec<(CompactString, Value)>);

impl Object {
    /// The value of member `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let found = self.0.iter().find(|(name, _)| name == key);
        found.map(|(_, value)| value)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let mut members: Vec<(&str, &Value)> = (self.0.iter())
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        members.into_iter()
    }
}

impl Value {
    /// The member `key` of an object; `None` for any other shape.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(object) => object.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(value) => Some(*value),
            _ => None,
        }
    }

    /// A number that is an integer within `i64`, as `serde_json::Value::as_i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(number) => number.as_i64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The parts of a tree of flags such as a plan's `after_unknown` that lead to
    /// `true`: an object keeps the members that do, an array every item (those that
    /// do not as `Null`, so that the others keep their places) when some item does,
    /// and anything that leads to no `true` is `Null`.
    pub fn into_unknown_parts(self) -> Value {
        match self {
            Value::Bool(true) => Value::Bool(true),
            Value::Array(items) => {
                let items: Vec<Value> = items.into_iter().map(Value::into_unknown_parts).collect();
                if items.iter().all(Value::is_null) {
                    Value::Null
                } else {
                    Value::Array(items)
                }
            }
            Value::Object(Object(members)) => {
                let members: Vec<(CompactString, Value)> = (members.into_iter())
                    .map(|(key, value)| (key, value.into_unknown_parts()))
                    .filter(|(_, value)| !value.is_null())
                    .collect();
                if members.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Object(members))
                }
            }
            _ => Value::Null,
        }
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Number(number) => serde_json::Value::Number(number.clone()),
            Value::String(text) => serde_json::Value::String(text.to_string()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(object) => serde_json::Value::Object(
                (object.iter())
                    .map(|(key, value)| (key.to_owned(), value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds a value as `serde_json::Value`'s own visitor does, shape for shape, so that
/// the same texts parse to the same values and fail with the same errors.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E: Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(text)))
    }

    fn visit_string<E: Error>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(text)))
    }

    fn visit_none<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(deserializer)
    }

    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key::<Key>()? {
            members.insert(key.0, map.next_value()?);
        }
        Ok(Value::Object(members.finish()))
    }
}

/// A key's bit in [`Members::seen`]: from its length and its first and last bytes, which
/// set apart the keys of a resource's attributes nearly always, and cost less to
/// read than a hash of the whole key.
fn bit_of(key: &str) -> u32 {
    let bytes = key.as_bytes();
    let edge = |byte: Option<&u8>| u32::from(byte.copied().unwrap_or(0));
    (bytes.len() as u32)
        .wrapping_mul(31)
        .wrapping_add(edge(bytes.first()).wrapping_mul(7))
        .wrapping_add(edge(bytes.last()))
        % 64
}

/// An object's members as they are read, each key kept once: a key given again takes
/// the new value where it first stood.
#[derive(Default)]
struct Members {
    list: Vec<(CompactString, Value)>,
    /// A bit for each key read, picked by [`bit_of`]: a new key is compared with the
    /// others only when its bit is taken, which in an object of ten keys is rare.
    seen: u64,
}

impl Members {
    /// How many members are checked as they come. Past that, the bits are mostly taken
    /// and each check would walk the list; the rest are sorted out once, at the end.
    const CHECKED: usize = 32;

    #[inline]
    fn insert(&mut self, key: CompactString, value: Value) {
        if self.list.len() < Self::CHECKED {
            let bit = 1u64 << bit_of(&key);
            if self.seen & bit != 0
                && let Some(member) = self.list.iter_mut().find(|(name, _)| *name == key)
            {
                member.1 = value;
                return;
            }
            self.seen |= bit;
        }
        self.list.push((key, value));
    }

    fn finish(mut self) -> Object {
        if self.list.len() > Self::CHECKED {
            // Stable, so that of the members of one key the last read comes last, and
            // it is the one kept.
            self.list.sort_by(|a, b| a.0.cmp(&b.0));
            self.list.dedup_by(|later, earlier| {
                let same = later.0 == earlier.0;
                if same {
                    std::mem::swap(earlier, later);
                }
                same
            });
        }
        Object(self.list)
    }
}

/// A key, read as a string only, as `serde_json::Value` reads its keys.
struct Key(CompactString);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string key")
            }

            fn visit_str<E: Error>(self, text: &str) -> Result<Key, E> {
                Ok(Key(CompactString::from(text)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Reads `text` both ways and checks that they agree in every reading.
    #[track_caller]
    fn agree(text: &str) {
        let ours = serde_json::from_str::<Value>(text);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(ours.to_json(), theirs, "{text}");
                same_reads(&ours, &theirs);
            }
            (Err(ours), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string()),
            (ours, theirs) => panic!("{text}: ours {ours:?}, serde_json's {theirs:?}"),
        }
    }

    /// Every accessor the importer uses answers alike, at every depth.
    fn same_reads(ours: &Value, theirs: &serde_json::Value) {
        assert_eq!(ours.as_str(), theirs.as_str());
        assert_eq!(ours.as_bool(), theirs.as_bool());
        assert_eq!(ours.as_i64(), theirs.as_i64());
        assert_eq!(ours.is_null(), theirs.is_null());
        assert_eq!(
            ours.as_array().map(Vec::len),
            theirs.as_array().map(Vec::len)
        );
        if let (Value::Number(ours), serde_json::Value::Number(theirs)) = (ours, theirs) {
            assert_eq!(ours.to_string(), theirs.to_string());
        }
        if let (Some(ours), Some(theirs)) = (ours.as_array(), theirs.as_array()) {
            ours.iter().zip(theirs).for_each(|(o, t)| same_reads(o, t));
        }
        assert_eq!(ours.as_object().is_some(), theirs.as_object().is_some());
        if let (Some(ours), Some(theirs)) = (ours.as_object(), theirs.as_object()) {
            let keys: Vec<&str> = ours.iter().map(|(key, _)| key).collect();
            let expected: Vec<&str> = theirs.keys().map(String::as_str).collect();
            assert_eq!(keys, expected);
            assert_eq!(ours.is_empty(), theirs.is_empty());
            for (key, value) in theirs {
                let mine = ours.get(key).expect("every key is found");
                same_reads(mine, value);
            }
            for absent in ["", "id", "zz", "cidr_blocks"] {
                if !theirs.contains_key(absent) {
                    assert!(ours.get(absent).is_none());
                }
            }
        }
        for key in ["id", "a", "type", "ingress", ""] {
            assert_eq!(ours.get(key).is_some(), theirs.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"b": 1, "a": [true, null, "x"], "b": "twice", "c": {"d": -2, "e": 1.5}}"#,
            r#"{"id": "sg-0123456789abcdef0123456789", "from_port": 18446744073709551615}"#,
            r#"{"n": [1e3, -0.0, 9223372036854775807, -9223372036854775808, 2.0]}"#,
            r#"{"z": 1, "y": 2, "x": 3, "y": 4, "z": 5, "\u0061": "escaped key"}"#,
            r#"{"tags": {"Name": "web", "Env": "prod\n\"quoted\"", "": ""}}"#,
            r#"[{}, [], "", 0]"#,
            "null",
        ] {
            agree(text);
        }
    }

    /// Past the members checked as they come, repeated keys are sorted out at the end,
    /// the last value kept wherever the first stood.
    #[test]
    fn keeps_the_last_of_a_key_in_objects_of_any_size() {
        for size in [2, 31, 32, 33, 40, 100] {
            let mut members: Vec<String> = (0..size).map(|i| format!("\"k{i}\": {i}")).collect();
            // Repeats before, at and past the checked members, of keys from both sides.
            for (at, key) in [(1, 0), (size / 2, 1), (size, size - 1), (size + 1, 0)] {
                let at = at.min(members.len());
                members.insert(at, format!("\"k{key}\": \"again {at}\""));
            }
            agree(&format!("{{{}}}", members.join(", ")));
        }
    }

    /// Every text a `serde_json::Value` parse rejects is rejected with its message.
    #[test]
    fn rejects_what_serde_json_rejects() {
        for text in [
            "[1e999]",
            "{\"a\": -1e400}",
            "{\"a\": \"\\ud800\"}",
            "{\"\\udc00\": 1}",
            "{\"a\": [1 2]}",
            "{\"a\": 1,}",
            "{1: 2}",
            "[\"\\x\"]",
            "",
        ] {
            let ours = serde_json::from_str::<Value>(text).unwrap_err();
            let theirs = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
    }

    /// JSON texts shaped like a resource's values: the keys the importer reads and a
    /// few more, repeated keys, nested blocks, and any scalar anywhere.
    fn json() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "id",
            "type",
            "self",
            "egress",
            "ingress",
            "protocol",
            "from_port",
            "to_port",
            "cidr_blocks",
            "tags",
            "tags_all",
            "a\\u0062",
            "Name",
            "",
            "zz",
            "route",
        ])
        .prop_map(|key| format!("\"{key}\""));
        let scalar = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            "[a-z0-9./:-]{0,30}".prop_map(|s| format!("\"{s}\"")),
            Just("\"\\u00e9\\n\"".to_owned()),
        ];
        scalar.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                prop::collection::vec((key.clone(), inner), 0..8).prop_map(|members| {
                    let members: Vec<String> = (members.into_iter())
                        .map(|(key, value)| format!("{key}: {value}"))
                        .collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn reads_generated_values_as_serde_json_does(text in json()) {
            agree(&text);
        }

        /// A text cut anywhere fails, or reads, as a `serde_json::Value` parse does.
        #[test]
        fn reads_cut_values_as_serde_json_does(text in json(), cut in any::<prop::sample::Index>()) {
            // The texts are ASCII: any byte is a place to cut.
            agree(&text[..cut.index(text.len() + 1)]);
        }
    }
}
