//! The parts of a `terraform show -json` document that the importer reads, parsed
//! straight from the text: the format version, the modules of the side asked for with
//! their resources' addresses, types and attribute values, and the configuration's
//! expressions. Every other section is skipped without building anything.
//!
//! A `serde_json::Value` of the whole document, from which the importer cloned each
//! resource's values, cost a tree of the document, the clones and the tree's drop; this
//! reads each resource's values once, where they are, and nothing else, into the
//! compact [`Value`] of `document/value.rs`.
//!
//! The resources are most of a plan, and are read on every core: a first pass reads
//! the document's frame and only finds each resource's text (`RawValue`), then the
//! resources are read from their texts in parallel, in order. Finding a text checks
//! less than reading it (a number out of range, a lone surrogate, nesting too deep), so
//! when any part fails, or might have failed in place, the document is read again
//! whole, one value after another, and that read's error is the one given: a malformed
//! plan fails exactly as it always did.
//!
//! Any field may hold any shape: where the importer expects a string, a list or an
//! object and finds something else, it reads nothing there, as `Value::get` and
//! `Value::as_str` would, and a key given twice keeps its last value, as a `Value` map
//! does. Only what a `Value` parse rejects (a syntax error, a number out of range)
//! rejects the file, with the same message.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::objects::Side;

mod value;

pub use value::Value;

/// A document, read for one side, its modules' resources each read into `R`.
#[derive(Debug, Default)]
pub struct Document<M = Module> {
    /// `format_version` when it is a string.
    pub format_version: Option<String>,
    /// Whether the document has a `planned_values` key, whatever its value.
    pub has_planned: bool,
    /// `planned_values.root_module`, for the planned side.
    pub planned: M,
    /// `values.root_module` (a state), for the planned side.
    pub values: M,
    /// `prior_state.values.root_module`, for the prior side.
    pub prior: M,
    /// `configuration.root_module`.
    pub configuration: ConfigModule,
}

/// A module of the values: its address and resources, and its children.
#[derive(Debug)]
pub struct Module<R = Resource> {
    /// `address` when it is a string.
    pub address: Option<String>,
    pub resources: Vec<R>,
    pub children: Vec<Module<R>>,
}

impl<R> Default for Module<R> {
    fn default() -> Self {
        Module {
            address: None,
            resources: Vec::new(),
            children: Vec::new(),
        }
    }
}

impl Module {
    /// The module with each resource turned into what `each` makes of it.
    fn map<R>(self, each: &impl Fn(Resource) -> R) -> Module<R> {
        Module {
            address: self.address,
            resources: self.resources.into_iter().map(each).collect(),
            children: (self.children.into_iter())
                .map(|child| child.map(each))
                .collect(),
        }
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

impl<R: Send> Document<Module<R>> {
    /// Parses a document, each resource read into what `each` makes of it, on every
    /// core; the error is serde_json's, for the caller to locate.
    pub fn read_each(
        text: &str,
        side: Side,
        each: impl Fn(Resource) -> R + Sync,
    ) -> Result<Self, serde_json::Error> {
        match read_in_parts(text, side, &each) {
            Some(document) => Ok(document),
            None => Ok(read_whole(text, side)?.map(&each)),
        }
    }
}

impl Document {
    /// Parses a document, its resources as they are.
    #[cfg(test)]
    pub fn read(text: &str, side: Side) -> Result<Document, serde_json::Error> {
        Document::read_each(text, side, |resource| resource)
    }

    /// The document with each resource turned into what `each` makes of it.
    pub(super) fn map<R>(self, each: &impl Fn(Resource) -> R) -> Document<Module<R>> {
        Document {
            format_version: self.format_version,
            has_planned: self.has_planned,
            planned: self.planned.map(each),
            values: self.values.map(each),
            prior: self.prior.map(each),
            configuration: self.configuration,
        }
    }
}

/// Parses a document one value after another, as a `Value` parse would.
pub(super) fn read_whole(text: &str, side: Side) -> Result<Document, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_str(text);
    let document = Loose(Sides {
        side,
        document: Document::default(),
    })
    .deserialize(&mut parser)?;
    parser.end()?;
    Ok(document.document)
}

/// Parses a document in two passes: its frame, which finds each resource's text, and
/// the resources from their texts, read on the other core as the frame's pass finds
/// them, and on both once it is over. `None` when anything fails, or when a resource
/// might nest too deep for the whole document: [`read_whole`] then says what.
pub(super) fn read_in_parts<R: Send>(
    text: &str,
    side: Side,
    each: &(impl Fn(Resource) -> R + Sync),
) -> Option<Document<Module<R>>> {
    let found = Arc::new(Found::default());
    let (frame, read) = rayon::join(
        || {
            let _sink = Sink::open(text, &found);
            let mut parser = serde_json::Deserializer::from_str(text);
            let frame = Loose(Sides {
                side,
                document: Document::<Outline>::default(),
            })
            .deserialize(&mut parser)
            .ok()?
            .document;
            parser.end().ok()?;
            Some(frame)
        },
        || found.read(text, each),
    );
    let frame = frame?;
    let mut read = read;
    let document = Document {
        format_version: frame.format_version,
        has_planned: frame.has_planned,
        planned: frame.planned.fill(&mut read, 0)?,
        values: frame.values.fill(&mut read, 0)?,
        prior: frame.prior.fill(&mut read, 0)?,
        configuration: frame.configuration,
    };
    // A text found but not kept (under a key given twice) is not in the document,
    // but the whole read would have failed where it fails: only all of them kept, each
    // read, will do.
    let kept = [&document.planned, &document.values, &document.prior]
        .iter()
        .map(|module| module.count())
        .sum::<usize>();
    (kept == read.len()).then_some(document)
}

/// The depth at which serde_json refuses to go deeper: it reads 127 nested lists and
/// objects, not 128.
const NESTING_LIMIT: usize = 128;

/// How many lists and objects at most hold the resources of a side's root module:
/// the document, `prior_state`, `values`, `root_module` and `resources`. Each level of
/// child modules adds two (`child_modules` and the module).
const FRAME_DEPTH: usize = 5;

/// How many texts the frame's pass finds before it hands them over.
const BATCH: usize = 256;

/// A module of the frame: the index of each of its resources' texts among those
/// found, not read yet.
type Outline = Module<usize>;

/// A resource read from its text, with how many lists and objects its text opens.
type Read<R> = Option<(R, usize)>;

/// The resource texts that the frame's pass has found so far (as offsets and
/// lengths in the text), and whether it is over, for the other core to read them as
/// they come.
#[derive(Default)]
struct Found {
    state: Mutex<FoundSoFar>,
    more: Condvar,
}

#[derive(Default)]
struct FoundSoFar {
    texts: Vec<(usize, usize)>,
    over: bool,
}

impl Found {
    /// Every text found, each read into what `each` makes of it, in the order found:
    /// one after another while the frame's pass goes on, the rest on every core once
    /// it is over. `None` for a text that does not read.
    fn read<R: Send>(&self, text: &str, each: &(impl Fn(Resource) -> R + Sync)) -> Vec<Read<R>> {
        let one = |&(start, length): &(usize, usize)| -> Read<R> {
            let part = text.get(start..start.checked_add(length)?)?;
            let brackets = memchr::memchr2_iter(b'{', b'[', part.as_bytes()).count();
            let mut parser = serde_json::Deserializer::from_str(part);
            let resource = Loose(Resource::default()).deserialize(&mut parser).ok()?;
            Some((each(resource), brackets))
        };
        let mut read = Vec::new();
        loop {
            let (texts, over) = {
                // A poisoned lock means the frame's pass panicked: nothing more comes.
                let Ok(mut state) = self.state.lock() else {
                    return read;
                };
                while state.texts.len() == read.len() && !state.over {
                    state = match self.more.wait(state) {
                        Ok(state) => state,
                        Err(_) => return read,
                    };
                }
                (state.texts[read.len()..].to_vec(), state.over)
            };
            if over {
                read.par_extend(texts.par_iter().map(one));
                return read;
            }
            read.extend(texts.iter().map(one));
        }
    }

    fn hand_over(&self, texts: &mut Vec<(usize, usize)>, over: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.texts.append(texts);
            state.over |= over;
        }
        self.more.notify_all();
    }
}

/// Where the frame's pass hands the texts it finds.
struct Open {
    /// The address of the text, from which each found text's offset is taken.
    base: usize,
    /// Texts found and not handed over yet.
    batch: Vec<(usize, usize)>,
    /// How many texts were found.
    count: usize,
    found: Arc<Found>,
}

thread_local! {
    /// The sink of the frame's pass on this thread, while one runs: the serde
    /// visitors that find the texts are built from nothing, so they find it here.
    static SINK: RefCell<Option<Open>> = const { RefCell::new(None) };
}

/// The frame's pass's sink on this thread, for as long as it lives: dropped, it hands
/// over what is left and says the pass is over, whatever ended it, so that the reader
/// never waits for nothing.
struct Sink;

impl Sink {
    fn open(text: &str, found: &Arc<Found>) -> Sink {
        SINK.set(Some(Open {
            base: text.as_ptr() as usize,
            batch: Vec::new(),
            count: 0,
            found: Arc::clone(found),
        }));
        Sink
    }

    /// Records one text found, and gives its index among those found; `usize::MAX`
    /// when no pass is open, which no read fills.
    fn found(part: &str) -> usize {
        SINK.with_borrow_mut(|sink| {
            let Some(open) = sink else {
                return usize::MAX;
            };
            let offset = (part.as_ptr() as usize).wrapping_sub(open.base);
            open.batch.push((offset, part.len()));
            if open.batch.len() == BATCH {
                open.found.hand_over(&mut open.batch, false);
            }
            open.count += 1;
            open.count - 1
        })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut open) = SINK.take() {
            open.found.hand_over(&mut open.batch, true);
        }
    }
}

impl<R> Module<R> {
    /// How many resources it and its children hold.
    fn count(&self) -> usize {
        self.resources.len() + self.children.iter().map(Module::count).sum::<usize>()
    }
}

impl Module<usize> {
    /// The module, each resource taken from `read` by its index, its depth checked
    /// against the document's limit from `level`, the module's depth in child
    /// modules; `None` when one did not read or might be too deep.
    fn fill<R>(self, read: &mut [Read<R>], level: usize) -> Option<Module<R>> {
        let mut resources = Vec::with_capacity(self.resources.len());
        for index in self.resources {
            let (resource, brackets) = read.get_mut(index)?.take()?;
            // serde_json refuses a value nested 128 deep; a resource read alone starts
            // at the top. Its brackets bound its depth, and the frame's is bounded by
            // its module's: below the limit together, neither read can reach it.
            if brackets + FRAME_DEPTH + 2 * level >= NESTING_LIMIT {
                return None;
            }
            resources.push(resource);
        }
        let children = (self.children.into_iter())
            .map(|child| child.fill(read, level + 1))
            .collect::<Option<_>>()?;
        Some(Module {
            address: self.address,
            resources,
            children,
        })
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

/// The document's top level, reading the sections of one side, its modules as `M`.
struct Sides<M> {
    side: Side,
    document: Document<M>,
}

impl<'de, M: Shape<'de> + Default> Shape<'de> for Sides<M> {
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
                "prior_state" if !planned => {
                    document.prior = map
                        .next_value_seed(Loose(Under::new("values", || {
                            Under::new("root_module", M::default)
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
fn root<'de, M: Shape<'de> + Default, A: MapAccess<'de>>(map: &mut A) -> Result<M, A::Error> {
    Ok(map
        .next_value_seed(Loose(Under::new("root_module", M::default)))?
        .value)
}

impl<'de, R: Resources<'de>> Shape<'de> for Module<R> {
    fn map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "address" => self.address = text(&mut map)?.map(Cow::into_owned),
                "resources" => self.resources = R::list(&mut map)?,
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

/// How a module's `resources` are read: each into a [`Resource`], or each only found,
/// as its text.
trait Resources<'de>: Sized {
    fn list<A: MapAccess<'de>>(map: &mut A) -> Result<Vec<Self>, A::Error>;
}

impl<'de> Resources<'de> for Resource {
    fn list<A: MapAccess<'de>>(map: &mut A) -> Result<Vec<Self>, A::Error> {
        Ok(map.next_value_seed(Loose(List(Vec::new())))?.0)
    }
}

impl<'de> Resources<'de> for usize {
    fn list<A: MapAccess<'de>>(map: &mut A) -> Result<Vec<Self>, A::Error> {
        Ok(map.next_value_seed(Loose(Texts(Vec::new())))?.0)
    }
}

/// Each item of a list, found but not read: the index of its text among those that
/// the frame's pass found ([`Sink::found`]); any other shape is an empty list.
struct Texts(Vec<usize>);

impl<'de> Shape<'de> for Texts {
    fn seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self, A::Error> {
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            self.0.push(Sink::found(item.get()));
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
    use proptest::prelude::*;

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

    /// Each resource as the importer would see it: its module, address, type, mode,
    /// values and where its object starts, module by module.
    fn outline(text: &str, module: &Module) -> Vec<String> {
        let mut out = vec![format!("module {:?}", module.address)];
        for r in &module.resources {
            out.push(format!(
                "{:?} {:?} {:?} {} {} {:?}",
                module.address,
                r.address,
                r.kind,
                r.managed,
                r.values.to_json(),
                r.start(text)
            ));
        }
        for child in &module.children {
            out.extend(outline(text, child));
        }
        out
    }

    /// The document read in parts and read whole, each resource with its module's
    /// address, described for comparison.
    fn both_ways(text: &str, side: Side) -> (Option<Vec<String>>, Result<Vec<String>, String>) {
        let each = |resource| resource;
        let describe = |document: Document| {
            let mut out = vec![format!(
                "{:?} {} config {}",
                document.format_version,
                document.has_planned,
                document.configuration.resources.len()
            )];
            for module in [&document.planned, &document.values, &document.prior] {
                out.extend(outline(text, module));
            }
            out
        };
        let parts = read_in_parts(text, side, &each).map(describe);
        let whole = read_whole(text, side)
            .map(|document| describe(document.map(&each)))
            .map_err(|error| error.to_string());
        (parts, whole)
    }

    /// Reads in parts must give what the whole read gives, or give up.
    #[track_caller]
    fn same_in_parts(text: &str) -> bool {
        let mut read = false;
        for side in [Side::Planned, Side::Prior] {
            let (parts, whole) = both_ways(text, side);
            if let Some(parts) = parts {
                assert_eq!(Ok(parts), whole, "{text}");
                read = true;
            }
            let each = Document::read_each(text, side, |resource| resource);
            assert_eq!(
                each.map(|_| ()).map_err(|error| error.to_string()),
                whole.map(|_| ()),
                "{text}"
            );
        }
        read
    }

    const MODULES: &str = r#"{
  "format_version": "1.2", "terraform_version": "1.6.0",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_vpc.a", "mode": "managed", "type": "aws_vpc", "values": {"id": "vpc-1"}},
      {"mode": "data", "address": "data.aws_x.b", "type": "aws_x"},
      {"\u0061ddress": "aws_subnet.c", "mode": "managed", "type": "aws_subnet"},
      7, "x", [], null
    ],
    "child_modules": [
      {"address": "module.m", "resources": [
        {"address": "module.m.aws_vpc.d", "mode": "managed", "type": "aws_vpc",
         "values": {"tags": {"b": "1", "a": "2", "b": "3"}, "n": [1.5, -2, {"x": null}]}}
      ], "child_modules": [
        {"address": "module.m.module.n[\"k\"]", "resources": [
          {"address": "module.m.module.n[\"k\"].aws_vpc.e", "mode": "managed", "type": "aws_vpc"}
        ]}
      ]},
      {"address": "module.o", "resources": {"not": "a list"}}
    ]
  }},
  "values": {"root_module": {"resources": [
    {"address": "aws_vpc.state", "mode": "managed", "type": "aws_vpc"}
  ]}},
  "prior_state": {"values": {"root_module": {"resources": [
    {"address": "aws_vpc.old", "mode": "managed", "type": "aws_vpc", "values": {"id": "vpc-0"}}
  ], "child_modules": [{"address": "module.p", "resources": [
    {"address": "module.p.aws_vpc.f", "mode": "managed", "type": "aws_vpc"}
  ]}]}}},
  "configuration": {"root_module": {"resources": [
    {"address": "aws_vpc.a", "expressions": {"cidr_block": {"constant_value": "10.0.0.0/16"}}}
  ]}}
}"#;

    /// Read in parts, a plan gives what it gives read whole: every side, child
    /// modules at every level, wrong shapes, an escaped first key, a key given twice.
    #[test]
    fn a_plan_read_in_parts_is_the_plan_read_whole() {
        assert!(same_in_parts(MODULES));
        let (parts, _) = both_ways(MODULES, Side::Planned);
        let parts = parts.unwrap();
        assert!(
            parts
                .iter()
                .any(|line| line.contains("module.m.module.n[\\\"k\\\"].aws_vpc.e"))
        );
        assert!(parts.iter().any(|line| line.contains("aws_vpc.state")));
        let (prior, _) = both_ways(MODULES, Side::Prior);
        assert!(
            prior
                .unwrap()
                .iter()
                .any(|line| line.contains("module.p.aws_vpc.f"))
        );
    }

    /// A resource that fails in the middle of the plan: the parts give up, and the
    /// error is the whole read's, at the same place.
    #[test]
    fn a_resource_that_fails_fails_as_the_whole_read_does() {
        let broken = [
            ("\"id\": \"vpc-1\"", "\"id\": \"vpc-1\" \"x\": 1"),
            ("\"id\": \"vpc-1\"", "\"id\": 1e999"),
            ("\"id\": \"vpc-1\"", "\"id\": \"\\ud800\""),
            ("\"id\": \"vpc-1\"", "\"id\": [1,]"),
            ("\"n\": [1.5,", "\"n\": [-1e400,"),
            // A bad resource under a key given twice is checked all the same.
            (
                "\"resources\": {\"not\": \"a list\"}",
                "\"resources\": [{\"a\": 1e999}], \"resources\": []",
            ),
        ];
        for (from, to) in broken {
            let text = MODULES.replacen(from, to, 1);
            assert_ne!(text, MODULES);
            for side in [Side::Planned, Side::Prior] {
                let (parts, _) = both_ways(&text, side);
                assert!(parts.is_none(), "{to}");
            }
            same_in_parts(&text);
            let ours = Document::read(&text, Side::Planned).unwrap_err();
            let value = serde_json::from_str::<Value>(&text).unwrap_err();
            assert_eq!(ours.to_string(), value.to_string(), "{to}");
            assert_eq!((ours.line(), ours.column()), (value.line(), value.column()));
        }
    }

    /// A resource nested too deep for the whole document, though not for itself
    /// alone, fails as the whole read fails; one that only might be too deep is read
    /// whole, and read.
    #[test]
    fn nesting_counts_from_the_top_of_the_document() {
        let nested = |depth: usize| {
            let values = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            MODULES.replacen("\"id\": \"vpc-1\"", &format!("\"id\": {values}"), 1)
        };
        for depth in [100, 118, 121, 122, 123, 124, 130] {
            let text = nested(depth);
            let whole = read_whole(&text, Side::Planned);
            let each = Document::read_each(&text, Side::Planned, |resource| resource);
            assert_eq!(
                each.map(|_| ()).map_err(|error| error.to_string()),
                whole.map(|_| ()).map_err(|error| error.to_string()),
                "{depth}"
            );
            same_in_parts(&text);
        }
        assert!(read_whole(&nested(124), Side::Planned).is_err());
        assert!(read_whole(&nested(100), Side::Planned).is_ok());
    }

    /// Plans of modules and resources, each resource's values any JSON text, cut
    /// anywhere or not.
    fn plan() -> impl Strategy<Value = String> {
        let values = prop_oneof![
            Just("{}".to_owned()),
            Just("null".to_owned()),
            Just("{\"id\": \"sg-1\", \"ingress\": [{\"from_port\": 22}]}".to_owned()),
            Just("{\"a\": 1e999}".to_owned()),
            Just("{\"a\": \"\\ud800\"}".to_owned()),
            Just("[1 2]".to_owned()),
            Just("{\"tags\": {\"b\": 1, \"b\": 2}}".to_owned()),
            "[a-z0-9]{0,8}".prop_map(|s| format!("\"{s}\"")),
        ];
        let resource = (0..4usize, values, any::<bool>()).prop_map(|(n, values, managed)| {
            let mode = if managed { "managed" } else { "data" };
            format!(
                "{{\"address\": \"aws_vpc.r{n}\", \"mode\": \"{mode}\", \"type\": \"aws_vpc\", \"values\": {values}}}"
            )
        });
        let leaf = prop::collection::vec(resource, 0..4).prop_map(|resources| {
            format!(
                "{{\"address\": \"module.m\", \"resources\": [{}]}}",
                resources.join(",\n")
            )
        });
        let module = leaf.prop_recursive(3, 12, 3, |inner| {
            (inner.clone(), prop::collection::vec(inner, 0..3)).prop_map(|(module, children)| {
                let open = module.trim_end_matches('}');
                format!("{open}, \"child_modules\": [{}]}}", children.join(", "))
            })
        });
        (module.clone(), module, any::<bool>()).prop_map(|(planned, prior, state)| {
            let section = if state { "values" } else { "planned_values" };
            format!(
                "{{\"format_version\": \"1.0\",\n \"{section}\": {{\"root_module\": {planned}}},\n \"prior_state\": {{\"values\": {{\"root_module\": {prior}}}}}}}"
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Read in parts or whole, a generated plan reads the same, or fails the same.
        #[test]
        fn generated_plans_read_in_parts_as_whole(text in plan(), cut in any::<prop::sample::Index>(), whole in any::<bool>()) {
            let text = if whole { text.clone() } else { text[..cut.index(text.len() + 1)].to_owned() };
            same_in_parts(&text);
        }
    }
}
