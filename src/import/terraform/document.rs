//! The parts of a `terraform show -json` document that the importer reads, parsed
//! straight from the text: the format version, the modules of the side asked for with
//! their resources' addresses, types and attribute values, the configuration's
//! expressions, and, for a plan's planned side, which attributes its changes leave
//! unknown until apply (`after_unknown`). Every other section is skipped without
//! building anything.
//!
//! A `serde_json::Value` of the whole document, from which the importer cloned each
//! resource's values, cost a tree of the document, the clones and the tree's drop; this
//! reads each resource's values once, where they are, and nothing else, into the
//! compact [`Value`] of `document/value.rs`.
//!
//! Any field may hold any shape: where the importer expects a string, a list or an
//! object and finds something else, it reads nothing there, as `Value::get` and
//! `Value::as_str` would, and a key given twice keeps its last value, as a `Value` map
//! does. Only what a `Value` parse rejects (a syntax error, a number out of range)
//! rejects the file, with the same message.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

use super::objects::Side;

mod value;

pub use value::Value;

/// A document, read for one side.
#[derive(Debug, Default)]
pub struct Document {
    /// `format_version` when it is a string.
    pub format_version: Option<String>,
    /// Whether the document has a `planned_values` key, whatever its value.
    pub has_planned: bool,
    /// `planned_values.root_module`, for the planned side.
    pub planned: Module,
    /// `values.root_module` (a state), for the planned side.
    pub values: Module,
    /// `prior_state.values.root_module`, for the prior side.
    pub prior: Module,
    /// `configuration.root_module`.
    pub configuration: ConfigModule,
    /// For the planned side, each resource change that leaves some attribute unknown
    /// until apply: its address and the parts of `after_unknown` that are `true`.
    pub unknown: Vec<(String, Value)>,
}

/// A module of the values: its address and resources, and its children.
#[derive(Debug, Default)]
pub struct Module {
    /// `address` when it is a string.
    pub address: Option<String>,
    pub resources: Vec<Resource>,
    pub children: Vec<Module>,
}

impl Module {
    /// How many resources it and its children hold.
    pub fn count(&self) -> usize {
        self.resources.len() + self.children.iter().map(Module::count).sum::<usize>()
    }
}

/// A resource as the document gives it; the importer keeps only managed ones whose
/// address and type are strings.
#[derive(Debug, Default)]
pub struct Resource {
    pub address: Option<String>,
    pub kind: Option<String>,
    pub managed: bool,
    /// Its attributes, `Null` when absent.
    pub values: Value,
    /// Where its first key starts in memory, when the parser lent it from the text.
    first_key: Option<usize>,
}

impl Resource {
    /// The byte offset in `text` (the text parsed) of the brace that opens the
    /// resource's object, found from its first key: only white space lies between
    /// them. `None` when the key was not lent from the text (it held an escape).
    pub fn start(&self, text: &str) -> Option<usize> {
        let key = self.first_key?.checked_sub(text.as_ptr() as usize)?;
        // The key's opening quote, then white space back to the brace.
        let before = text.as_bytes().get(..key.checked_sub(1)?)?;
        let brace = before
            .iter()
            .rposition(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))?;
        (before.get(brace) == Some(&b'{')).then_some(brace)
    }
}

/// A module of the configuration: its resources' expressions and its calls.
#[derive(Debug, Default)]
pub struct ConfigModule {
    /// (address, expressions) of each resource that has both keys, in order.
    pub resources: Vec<(String, Value)>,
    /// Each module call's module, by name (sorted, as `Value` maps keep keys), `None`
    /// for a call without one.
    pub calls: BTreeMap<String, Option<ConfigModule>>,
}

impl Document {
    /// Parses a document; the error is serde_json's, for the caller to locate.
    pub fn read(text: &str, side: Side) -> Result<Document, serde_json::Error> {
        let mut parser = serde_json::Deserializer::from_str(text);
        let document = Loose(Sides {
            side,
            document: Document::default(),
        })
        .deserialize(&mut parser)?;
        parser.end()?;
        Ok(document.document)
    }
}

/// How a type reads each shape of JSON value. The defaults read nothing from it.
trait Shape<'de>: Sized {
    fn text(self, _text: Cow<'de, str>) -> Self {
        self
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(self)
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(self)
    }
}

/// Reads any JSON value into `T`, starting from the value it holds.
struct Loose<T>(T);

impl<'de, T: Shape<'de>> DeserializeSeed<'de> for Loose<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Shape<'de>> Visitor<'de> for Loose<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<T, E> {
        Ok(self.0)
    }

    fn visit_i64<E: Error>(self, _: i64) -> Result<T, E> {
        Ok(self.0)
    }

    fn visit_u64<E: Error>(self, _: u64) -> Result<T, E> {
        Ok(self.0)
    }

    fn visit_f64<E: Error>(self, _: f64) -> Result<T, E> {
        Ok(self.0)
    }

    fn visit_unit<E: Error>(self) -> Result<T, E> {
        Ok(self.0)
    }

    fn visit_borrowed_str<E: Error>(self, text: &'de str) -> Result<T, E> {
        Ok(self.0.text(Cow::Borrowed(text)))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        Ok(self.0.text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: Error>(self, text: String) -> Result<T, E> {
        Ok(self.0.text(Cow::Owned(text)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        self.0.map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        self.0.seq(seq)
    }
}

/// A value read for nothing, but parsed as a `Value` would parse it, so that the same
/// texts fail with the same errors: `IgnoredAny` lets a number out of range or a lone
/// surrogate escape through.
struct Skip;

impl<'de> Shape<'de> for Skip {}

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Loose(Skip).deserialize(deserializer)
    }
}

/// A key, borrowed from the text unless it holds an escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Key(Loose(Text(None))
            .deserialize(deserializer)?
            .0
            .unwrap_or_default()))
    }
}

/// A string, `None` for any other shape.
struct Text<'de>(Option<Cow<'de, str>>);

impl<'de> Shape<'de> for Text<'de> {
    fn text(self, text: Cow<'de, str>) -> Self {
        Text(Some(text))
    }
}

/// Reads one string-valued field.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
    Ok(map.next_value_seed(Loose(Text(None)))?.0)
}

/// The value under one key of an object, read from `fresh()`; any other key is
/// skipped.
struct Under<T> {
    key: &'static str,
    fresh: fn() -> T,
    value: T,
}

impl<T> Under<T> {
    fn new(key: &'static str, fresh: fn() -> T) -> Under<T> {
        Under {
            key,
            fresh,
            value: fresh(),
        }
    }
}

impl<'de, T: Shape<'de>> Shape<'de> for Under<T> {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            if key == self.key {
                self.value = map.next_value_seed(Loose((self.fresh)()))?;
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(self)
    }
}

/// A list of `T`; any other shape is an empty list.
struct List<T>(Vec<T>);

impl<'de, T: Shape<'de> + Default> Shape<'de> for List<T> {
    fn seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self, A::Error> {
        while let Some(item) = seq.next_element_seed(Loose(T::default()))? {
            self.0.push(item);
        }
        Ok(self)
    }
}

/// The document's top level, reading the sections of one side.
struct Sides {
    side: Side,
    document: Document,
}

impl<'de> Shape<'de> for Sides {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        let document = &mut self.document;
        let planned = self.side == Side::Planned;
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "format_version" => {
                    document.format_version = text(&mut map)?.map(Cow::into_owned);
                }
                "planned_values" if planned => {
                    document.has_planned = true;
                    document.planned = root(&mut map)?;
                }
                "planned_values" => {
                    document.has_planned = true;
                    map.next_value::<Skip>()?;
                }
                "values" if planned => document.values = root(&mut map)?,
                "resource_changes" if planned => {
                    let List(changes) = map.next_value_seed(Loose(List(Vec::new())))?;
                    document.unknown = (changes.into_iter())
                        .filter_map(|Change { address, unknown }| {
                            let unknown = unknown.into_unknown_parts();
                            Some((address?, unknown)).filter(|(_, unknown)| !unknown.is_null())
                        })
                        .collect();
                }
                "prior_state" if !planned => {
                    document.prior = map
                        .next_value_seed(Loose(Under::new("values", || {
                            Under::new("root_module", Module::default)
                        })))?
                        .value
                        .value;
                }
                "configuration" => {
                    document.configuration = map
                        .next_value_seed(Loose(Under::new("root_module", ConfigModule::default)))?
                        .value;
                }
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

/// The `root_module` of the value being read.
fn root<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Module, A::Error> {
    Ok(map
        .next_value_seed(Loose(Under::new("root_module", Module::default)))?
        .value)
}

impl<'de> Shape<'de> for Module {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "address" => self.address = text(&mut map)?.map(Cow::into_owned),
                "resources" => self.resources = map.next_value_seed(Loose(List(Vec::new())))?.0,
                "child_modules" => {
                    self.children = map.next_value_seed(Loose(List(Vec::new())))?.0;
                }
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

impl<'de> Shape<'de> for Resource {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        let mut first = true;
        while let Some(Key(key)) = map.next_key()? {
            if first && let Cow::Borrowed(key) = key {
                self.first_key = Some(key.as_ptr() as usize);
            }
            first = false;
            match &*key {
                "address" => self.address = text(&mut map)?.map(Cow::into_owned),
                "type" => self.kind = text(&mut map)?.map(Cow::into_owned),
                "mode" => self.managed = text(&mut map)?.is_some_and(|mode| mode == "managed"),
                "values" => self.values = map.next_value()?,
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

impl<'de> Shape<'de> for ConfigModule {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "resources" => {
                    let List(list) = map.next_value_seed(Loose(List(Vec::new())))?;
                    self.resources = list
                        .into_iter()
                        .filter_map(|ConfigResource(address, expressions)| {
                            Some((address?, expressions?))
                        })
                        .collect();
                }
                "module_calls" => {
                    self.calls = map.next_value_seed(Loose(Calls(BTreeMap::new())))?.0;
                }
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

/// A resource change: its address when a string, and its `change.after_unknown`.
#[derive(Default)]
struct Change {
    address: Option<String>,
    unknown: Value,
}

impl<'de> Shape<'de> for Change {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "address" => self.address = text(&mut map)?.map(Cow::into_owned),
                "change" => self.unknown = map.next_value_seed(Loose(AfterUnknown::default()))?.0,
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

/// A change's `after_unknown`, the rest of it skipped.
#[derive(Default)]
struct AfterUnknown(Value);

impl<'de> Shape<'de> for AfterUnknown {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            if key == "after_unknown" {
                self.0 = map.next_value()?;
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(self)
    }
}

/// A resource of the configuration: its address when a string, its expressions when
/// present, whatever their shape.
#[derive(Default)]
struct ConfigResource(Option<String>, Option<Value>);

impl<'de> Shape<'de> for ConfigResource {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "address" => self.0 = text(&mut map)?.map(Cow::into_owned),
                "expressions" => self.1 = Some(map.next_value()?),
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(self)
    }
}

/// `module_calls`: each call's module by name.
struct Calls(BTreeMap<String, Option<ConfigModule>>);

impl<'de> Shape<'de> for Calls {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            let Call(module) = map.next_value_seed(Loose(Call(None)))?;
            self.0.insert(name.into_owned(), module);
        }
        Ok(self)
    }
}

/// A module call: its `module` when present.
struct Call(Option<ConfigModule>);

impl<'de> Shape<'de> for Call {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            if key == "module" {
                self.0 = Some(map.next_value_seed(Loose(ConfigModule::default()))?);
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(module: &Module) -> Vec<String> {
        let mut out: Vec<String> = (module.resources.iter())
            .map(|r| format!("{:?} {:?} {}", r.address, r.kind, r.managed))
            .collect();
        for child in &module.children {
            out.extend(addresses(child).into_iter().map(|a| format!("child {a}")));
        }
        out
    }

    #[test]
    fn reads_the_side_asked_for_and_skips_the_rest() {
        let text = r#"{
          "format_version": "1.2", "terraform_version": "1.6.0",
          "resource_changes": [{"address": "aws_vpc.ignored"}],
          "planned_values": {"root_module": {"resources": [
            {"address": "aws_vpc.new", "mode": "managed", "type": "aws_vpc",
             "values": {"cidr_block": "10.0.0.0/16", "tags": {"a": "b"}}}
          ]}},
          "prior_state": {"values": {"root_module": {"child_modules": [
            {"address": "module.m[\"k\"]", "resources": [
              {"address": "module.m[\"k\"].aws_vpc.old", "mode": "managed", "type": "aws_vpc"}
            ]}
          ]}}}
        }"#;
        let planned = Document::read(text, Side::Planned).unwrap();
        assert_eq!(planned.format_version.as_deref(), Some("1.2"));
        assert!(planned.has_planned);
        assert_eq!(
            addresses(&planned.planned),
            [r#"Some("aws_vpc.new") Some("aws_vpc") true"#]
        );
        assert_eq!(
            planned.planned.resources[0].values.to_json(),
            serde_json::json!({"cidr_block": "10.0.0.0/16", "tags": {"a": "b"}})
        );
        assert!(addresses(&planned.prior).is_empty());

        let prior = Document::read(text, Side::Prior).unwrap();
        assert!(addresses(&prior.planned).is_empty());
        assert_eq!(
            prior.prior.children[0].address.as_deref(),
            Some(r#"module.m["k"]"#)
        );
        assert_eq!(
            addresses(&prior.prior),
            [r#"child Some("module.m[\"k\"].aws_vpc.old") Some("aws_vpc") true"#]
        );
        assert!(prior.prior.children[0].resources[0].values.is_null());
    }

    /// A plan's planned side keeps, of each change, the parts of `after_unknown` that
    /// are `true`; the prior side and changes with none keep nothing.
    #[test]
    fn reads_what_changes_leave_unknown_for_the_planned_side() {
        let text = r#"{
          "resource_changes": [
            {"address": "aws_instance.a", "change": {
              "before": {"x": 1}, "after": {"ami": "ami-1"},
              "after_unknown": {"id": true, "ami": false, "tags": {},
                "ipv6_addresses": [false, true], "network_interface": [{"x": false}],
                "root_block_device": [{"kms_key_id": true}]}}},
            {"address": "aws_instance.b", "change": {"after_unknown": {"id": false}}},
            {"change": {"after_unknown": {"id": true}}},
            {"address": "aws_instance.c", "change": {"after_unknown": true}},
            7
          ]
        }"#;
        let planned = Document::read(text, Side::Planned).unwrap();
        let unknown: Vec<(&str, serde_json::Value)> = (planned.unknown.iter())
            .map(|(address, unknown)| (address.as_str(), unknown.to_json()))
            .collect();
        assert_eq!(
            unknown,
            [
                (
                    "aws_instance.a",
                    serde_json::json!({"id": true, "ipv6_addresses": [null, true],
                        "root_block_device": [{"kms_key_id": true}]})
                ),
                ("aws_instance.c", serde_json::json!(true)),
            ]
        );
        assert!(
            Document::read(text, Side::Prior)
                .unwrap()
                .unknown
                .is_empty()
        );
    }

    /// Wrong shapes read as nothing, missing fields as absent; only syntax fails.
    #[test]
    fn wrong_shapes_read_as_nothing() {
        let text = r#"{
          "format_version": 1,
          "values": {"root_module": {"address": 7, "resources": [
            {"address": 3, "mode": "managed", "type": "aws_vpc"},
            {"address": "aws_vpc.a", "mode": ["managed"], "type": "aws_vpc"},
            {"address": "aws_vpc.b", "mode": "data", "type": {}},
            {"address": "aws_vpc.c", "mode": "managed", "type": "aws_vpc", "values": [1]},
            "not a resource", null, [],
            {"address": "aws_vpc.d", "mode": "managed", "type": "aws_vpc", "mode": "data"}
          ], "child_modules": {"not": "a list"}}},
          "configuration": {"root_module": {"resources": [
            {"address": "aws_vpc.c", "expressions": null},
            {"address": "aws_vpc.e"},
            {"expressions": {}}
          ], "module_calls": {"z": {"module": {}}, "a": {"source": "./a"}, "b": 5}}}
        }"#;
        let document = Document::read(text, Side::Planned).unwrap();
        assert_eq!(document.format_version, None);
        assert!(!document.has_planned);
        let module = &document.values;
        assert_eq!(module.address, None);
        assert!(module.children.is_empty());
        assert_eq!(
            addresses(module),
            [
                r#"None Some("aws_vpc") true"#,
                r#"Some("aws_vpc.a") Some("aws_vpc") false"#,
                r#"Some("aws_vpc.b") None false"#,
                r#"Some("aws_vpc.c") Some("aws_vpc") true"#,
                "None None false",
                "None None false",
                "None None false",
                // A key given twice keeps its last value, as a `Value` map does.
                r#"Some("aws_vpc.d") Some("aws_vpc") false"#,
            ]
        );
        assert_eq!(module.resources[3].values.to_json(), serde_json::json!([1]));
        let config = &document.configuration;
        let resources: Vec<(&str, bool)> = (config.resources.iter())
            .map(|(address, expressions)| (address.as_str(), expressions.is_null()))
            .collect();
        assert_eq!(resources, [("aws_vpc.c", true)]);
        let calls: Vec<(&str, bool)> = (config.calls.iter())
            .map(|(name, module)| (name.as_str(), module.is_some()))
            .collect();
        assert_eq!(calls, [("a", false), ("b", false), ("z", true)]);

        for text in ["[]", "7", "\"x\"", "null", "{}"] {
            let document = Document::read(text, Side::Planned).unwrap();
            assert!(document.format_version.is_none() && document.values.resources.is_empty());
        }
    }

    /// A syntax error reads as it would from a `Value` parse: same message, same place.
    #[test]
    fn syntax_errors_read_as_a_value_parse_gives_them() {
        for text in [
            "{\n  \"values\": {\"root_module\": [}\n}",
            "{} x",
            "",
            "{\"values\": {\"root_module\": {\"resources\": [{\"address\": \"a\",}]}}}",
            "{\"prior_state\": {\"values\": nul}}",
            "{\"configuration\": {\"root_module\": {\"module_calls\": {\"a\": {\"module\": [1 2]}}}}}",
            "{\"format_version\": \"1.0\"",
            "{\"resource_changes\": [1e999]}",
            "{\"resource_changes\": {\"a\": \"\\ud800\"}}",
            "{\"values\": {\"root_module\": {\"resources\": [{\"x\": -1e400}]}}}",
        ] {
            let ours = Document::read(text, Side::Planned).unwrap_err();
            let value = serde_json::from_str::<Value>(text).unwrap_err();
            assert_eq!(ours.to_string(), value.to_string(), "{text}");
        }
    }
}
