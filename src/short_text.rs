//! A string that keeps up to 22 bytes inline: what the raw form holds for a list item,
//! so that a million flows parse without a small allocation per selector and port.
//!
//! Nearly every item a policy writes (`host-1234`, `tcp/5432`, `tag:web`) is short;
//! a `String` for each costs a 32-byte allocation besides its own 24 bytes, and at
//! scale those allocations are most of what parsing leaves behind. `ShortText` is the
//! size of a `String` and allocates only for longer text.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

const INLINE: usize = 22;

#[derive(Clone, PartialEq, Eq)]
pub enum ShortText {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl ShortText {
    pub fn as_str(&self) -> &str {
        match self {
            // Built only from a whole `&str` of at most `INLINE` bytes, so always valid.
            ShortText::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            ShortText::Heap(text) => text,
        }
    }
}

impl Default for ShortText {
    fn default() -> Self {
        ShortText::from("")
    }
}

impl From<&str> for ShortText {
    fn from(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                ShortText::Inline { len, bytes }
            }
            _ => ShortText::Heap(text.into()),
        }
    }
}

impl From<String> for ShortText {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            ShortText::from(text.as_str())
        } else {
            ShortText::Heap(text.into_boxed_str())
        }
    }
}

impl Deref for ShortText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for ShortText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ShortText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads what `String` reads, with the same message for anything else, so that a
/// policy's errors do not change with the representation.
impl<'de> Deserialize<'de> for ShortText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = ShortText;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ShortText, E> {
                Ok(ShortText::from(v))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<ShortText, E> {
                Ok(ShortText::from(v))
            }

            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ShortText, E> {
                match std::str::from_utf8(v) {
                    Ok(text) => Ok(ShortText::from(text)),
                    Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
                }
            }
        }

        deserializer.deserialize_string(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_on_the_heap() {
        let short = ShortText::from("host-1234");
        assert!(matches!(short, ShortText::Inline { .. }));
        assert_eq!(short.as_str(), "host-1234");
        let edge = "é".repeat(11);
        assert!(matches!(
            ShortText::from(edge.as_str()),
            ShortText::Inline { .. }
        ));
        assert_eq!(ShortText::from(edge.as_str()).as_str(), edge);
        let long = "x".repeat(INLINE + 1);
        assert!(matches!(ShortText::from(long.clone()), ShortText::Heap(_)));
        assert_eq!(ShortText::from(long.clone()).as_str(), long);
        assert_eq!(ShortText::default().as_str(), "");
    }

    #[test]
    fn is_the_size_of_a_string() {
        assert_eq!(size_of::<ShortText>(), size_of::<String>());
    }

    #[test]
    fn reads_as_a_string_reads() {
        let text: ShortText = serde_json::from_str("\"tcp/443\"").unwrap_or_default();
        assert_eq!(text, "tcp/443");
        let error = serde_json::from_str::<ShortText>("443")
            .map(|_| ())
            .unwrap_err();
        let expected = serde_json::from_str::<String>("443")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(error.to_string(), expected.to_string());
    }
}
