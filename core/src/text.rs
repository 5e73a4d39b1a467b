//! [`Text`]: bytes followed by a NUL, in a shared buffer. It is how a request body and the
//! statement parameters made from it move without copies: the front reads the body into a
//! buffer with room for the NUL, planning shares it, the wire frame points at it, and the
//! executor hands it to PostgreSQL's input function in place (input functions read a C
//! string). A leaf module: it knows nothing of HTTP or SQL.

use bytes::Bytes;
use std::borrow::Cow;

/// Bytes followed by one NUL (not counted in [`Text::as_bytes`]). Interior NULs are allowed
/// here (a binary body has them); whoever needs a C string checks with [`Text::has_nul`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(Bytes);

impl Text {
    /// `bytes` with its NUL; None if it does not end with one.
    pub fn from_nul_terminated(bytes: Bytes) -> Option<Text> {
        (bytes.last() == Some(&0)).then_some(Text(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..self.0.len() - 1]
    }

    /// The bytes and their NUL: a C string when [`Text::has_nul`] is false.
    pub fn with_nul(&self) -> &[u8] {
        &self.0
    }

    /// The shared buffer, NUL included (for writing it out without a copy).
    pub fn buffer(&self) -> &Bytes {
        &self.0
    }

    /// The bytes without the NUL, shared (a slice of the same buffer).
    pub fn to_bytes(&self) -> Bytes {
        self.0.slice(..self.0.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.0.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Does a NUL occur before the terminating one?
    pub fn has_nul(&self) -> bool {
        self.as_bytes().contains(&0)
    }

    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// Shared as is when the bytes are UTF-8, else a copy with U+FFFD for the invalid ones.
    pub fn into_utf8_lossy(self) -> Text {
        match String::from_utf8_lossy(self.as_bytes()) {
            Cow::Borrowed(_) => self,
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Bytes::from_static(b"\0"))
    }
}

impl From<Vec<u8>> for Text {
    fn from(mut v: Vec<u8>) -> Text {
        v.push(0);
        Text(Bytes::from(v))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.into_bytes())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from(s.as_bytes())
    }
}

impl From<&[u8]> for Text {
    fn from(b: &[u8]) -> Text {
        let mut v = Vec::with_capacity(b.len() + 1);
        v.extend_from_slice(b);
        Text::from(v)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nul_is_kept_out_of_the_bytes() {
        let t = Text::from("ab");
        assert_eq!(t.as_bytes(), b"ab");
        assert_eq!(t.with_nul(), b"ab\0");
        assert_eq!(t.len(), 2);
        assert!(!t.has_nul());
        assert!(Text::from(&b"a\0b"[..]).has_nul());
        assert!(Text::default().is_empty());
        assert_eq!(Text::from_nul_terminated(Bytes::from_static(b"x")), None);
        assert_eq!(Text::from_nul_terminated(Bytes::from_static(b"x\0")), Some(Text::from("x")));
    }

    #[test]
    fn utf8_is_shared_and_invalid_bytes_replaced() {
        let t = Text::from("é");
        let shared = t.clone().into_utf8_lossy();
        assert_eq!(shared.buffer().as_ptr(), t.buffer().as_ptr(), "no copy");
        assert_eq!(Text::from(&b"a\xffb"[..]).into_utf8_lossy(), "a\u{fffd}b");
    }
}
