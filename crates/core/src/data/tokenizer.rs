//! Word- and character-level tokenizers. The vocabulary is stored in the checkpoint.
//!
//! Text with a word or character outside the vocabulary is an error that lists every unknown
//! piece with its position (the GUI highlights them) — never a panic, never a silent drop.
//! Lookups go through a hash map (a text of millions of characters encodes in a fraction of a
//! second, whatever the size of its vocabulary). A tokenizer read from a file is checked: a
//! vocabulary of unique, non-empty pieces of its kind, at most [`MAX_VOCAB`] of them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::config::limits::MAX_VOCAB;

/// How text is cut into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// One token per character.
    Char,
    /// One token per whitespace-separated word, lowercased.
    Word,
}

/// A tokenizer: its kind and vocabulary (token id = index).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "TokenizerFile", into = "TokenizerFile")]
pub struct Tokenizer {
    /// Char or word.
    pub kind: TokenizerKind,
    /// The tokens, in id order.
    vocab: Vec<String>,
    /// piece → id.
    index: HashMap<String, usize>,
}

impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.vocab == other.vocab
    }
}

impl Eq for Tokenizer {}

/// A tokenizer as stored in a checkpoint's metadata.
#[derive(Serialize, Deserialize)]
struct TokenizerFile {
    kind: TokenizerKind,
    vocab: Vec<String>,
}

impl TryFrom<TokenizerFile> for Tokenizer {
    type Error = String;

    fn try_from(f: TokenizerFile) -> Result<Self, String> {
        Tokenizer::new(f.kind, f.vocab)
    }
}

impl From<Tokenizer> for TokenizerFile {
    fn from(t: Tokenizer) -> Self {
        Self {
            kind: t.kind,
            vocab: t.vocab,
        }
    }
}

/// Pieces of a text that are not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTokens {
    /// (index of the piece in the text, the piece).
    pub unknown: Vec<(usize, String)>,
}

impl std::fmt::Display for UnknownTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self
            .unknown
            .iter()
            .map(|(_, s)| format!("\"{s}\""))
            .collect();
        write!(
            f,
            "not in the vocabulary: {} (nothing was dropped; use only known tokens)",
            list.join(", ")
        )
    }
}

impl Tokenizer {
    /// A tokenizer of this vocabulary, checked: at least one piece and at most [`MAX_VOCAB`],
    /// none empty or repeated, a character tokenizer's pieces single characters and a word
    /// tokenizer's free of white space.
    pub fn new(kind: TokenizerKind, vocab: Vec<String>) -> Result<Self, String> {
        if vocab.is_empty() || vocab.len() > MAX_VOCAB {
            return Err(format!(
                "the tokenizer has {} tokens (between 1 and {MAX_VOCAB} are allowed)",
                vocab.len()
            ));
        }
        let mut index = HashMap::with_capacity(vocab.len());
        for (id, piece) in vocab.iter().enumerate() {
            let fits = match kind {
                TokenizerKind::Char => piece.chars().count() == 1,
                TokenizerKind::Word => !piece.is_empty() && !piece.contains(char::is_whitespace),
            };
            if !fits {
                return Err(format!(
                    "token {id} ({:?}) is not a single {}",
                    piece.chars().take(20).collect::<String>(),
                    if kind == TokenizerKind::Char {
                        "character"
                    } else {
                        "word"
                    }
                ));
            }
            if index.insert(piece.clone(), id).is_some() {
                return Err(format!(
                    "the token {piece:?} appears twice in the vocabulary"
                ));
            }
        }
        Ok(Self { kind, vocab, index })
    }

    /// A tokenizer whose vocabulary is the sorted set of pieces of `text` (which must have at
    /// least one piece and at most [`MAX_VOCAB`] different ones).
    pub fn fit(kind: TokenizerKind, text: &str) -> Result<Self, String> {
        let mut set = std::collections::BTreeSet::new();
        match kind {
            TokenizerKind::Char => set.extend(text.chars().map(String::from)),
            TokenizerKind::Word => set.extend(text.split_whitespace().map(str::to_lowercase)),
        }
        if set.len() > MAX_VOCAB {
            return Err(format!(
                "the text has {} different {}s; at most {MAX_VOCAB} fit a model here",
                set.len(),
                if kind == TokenizerKind::Char {
                    "character"
                } else {
                    "word"
                }
            ));
        }
        Self::new(kind, set.into_iter().collect())
    }

    fn pieces_of(kind: TokenizerKind, text: &str) -> Vec<String> {
        match kind {
            TokenizerKind::Char => text.chars().map(String::from).collect(),
            TokenizerKind::Word => text.split_whitespace().map(str::to_lowercase).collect(),
        }
    }

    /// The tokens, in id order.
    pub fn vocab(&self) -> &[String] {
        &self.vocab
    }

    /// The pieces `text` is cut into (known or not), e.g. for token chips.
    pub fn pieces(&self, text: &str) -> Vec<String> {
        Self::pieces_of(self.kind, text)
    }

    /// Vocabulary size.
    pub fn len(&self) -> usize {
        self.vocab.len()
    }

    /// Is the vocabulary empty?
    pub fn is_empty(&self) -> bool {
        self.vocab.is_empty()
    }

    /// The id of a piece.
    pub fn id(&self, piece: &str) -> Option<usize> {
        self.index.get(piece).copied()
    }

    /// Token ids of `text`, or every unknown piece.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, UnknownTokens> {
        let mut ids = Vec::new();
        let mut unknown = Vec::new();
        let mut take = |i: usize, piece: &str| match self.id(piece) {
            Some(id) => ids.push(id),
            // At most a page of them: enough to show, bounded for a huge foreign text.
            None if unknown.len() < 1000 => unknown.push((i, piece.to_owned())),
            None => {}
        };
        match self.kind {
            TokenizerKind::Char => {
                let mut buf = [0u8; 4];
                for (i, c) in text.chars().enumerate() {
                    take(i, c.encode_utf8(&mut buf));
                }
            }
            TokenizerKind::Word => {
                for (i, w) in text.split_whitespace().enumerate() {
                    take(i, &w.to_lowercase());
                }
            }
        }
        if unknown.is_empty() {
            Ok(ids)
        } else {
            Err(UnknownTokens { unknown })
        }
    }

    /// The text of one token id; an out-of-range id is "�".
    pub fn word(&self, id: usize) -> String {
        self.vocab
            .get(id)
            .map_or_else(|| "\u{fffd}".to_owned(), Clone::clone)
    }

    /// The text of token ids (words joined by spaces); out-of-range ids become "�".
    pub fn decode(&self, ids: &[usize]) -> String {
        let pieces = ids
            .iter()
            .map(|&i| self.vocab.get(i).map(String::as_str).unwrap_or("\u{fffd}"));
        match self.kind {
            TokenizerKind::Char => pieces.collect(),
            TokenizerKind::Word => pieces.collect::<Vec<_>>().join(" "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknowns_are_listed() {
        let t = Tokenizer::fit(TokenizerKind::Word, "i love bears . the bears won")
            .unwrap_or_else(|e| panic!("{e}"));
        let ids = t.encode("I love bears").unwrap_or_default();
        assert_eq!(t.decode(&ids), "i love bears");
        let err = t.encode("i love honey and bears");
        assert_eq!(
            err,
            Err(UnknownTokens {
                unknown: vec![(2, "honey".into()), (3, "and".into())]
            })
        );
    }

    #[test]
    fn chars_round_trip() {
        let t = Tokenizer::fit(TokenizerKind::Char, "abc|cba.").unwrap_or_else(|e| panic!("{e}"));
        let ids = t.encode("cab|").unwrap_or_default();
        assert_eq!(t.decode(&ids), "cab|");
        assert!(t.encode("abz").is_err());
    }

    #[test]
    fn a_vocabulary_read_from_a_file_is_checked() {
        let word = |v: &[&str]| {
            Tokenizer::new(TokenizerKind::Word, v.iter().map(|s| (*s).into()).collect())
        };
        assert!(word(&["a", "b"]).is_ok());
        assert!(word(&[]).unwrap_err().contains("between 1"));
        assert!(word(&["a", "a"]).unwrap_err().contains("twice"));
        assert!(word(&["a b"]).unwrap_err().contains("single word"));
        assert!(Tokenizer::new(TokenizerKind::Char, vec!["ab".into()]).is_err());
        let json = r#"{"kind":"word","vocab":["x","x"]}"#;
        assert!(serde_json::from_str::<Tokenizer>(json).is_err());
        let big: Vec<String> = (0..=MAX_VOCAB).map(|i| i.to_string()).collect();
        assert!(Tokenizer::new(TokenizerKind::Word, big).is_err());
    }
}
