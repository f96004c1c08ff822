//! Word- and character-level tokenizers. The vocabulary is stored in the checkpoint.
//!
//! Text with a word or character outside the vocabulary is an error that lists every unknown
//! piece with its position (the GUI highlights them) — never a panic, never a silent drop.

use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokenizer {
    /// Char or word.
    pub kind: TokenizerKind,
    /// The tokens, in id order.
    pub vocab: Vec<String>,
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
    /// A tokenizer whose vocabulary is the sorted set of pieces of `text`.
    pub fn fit(kind: TokenizerKind, text: &str) -> Self {
        let mut vocab: Vec<String> = Self::pieces_of(kind, text);
        vocab.sort();
        vocab.dedup();
        Self { kind, vocab }
    }

    fn pieces_of(kind: TokenizerKind, text: &str) -> Vec<String> {
        match kind {
            TokenizerKind::Char => text.chars().map(String::from).collect(),
            TokenizerKind::Word => text.split_whitespace().map(str::to_lowercase).collect(),
        }
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
        self.vocab.iter().position(|v| v == piece)
    }

    /// Token ids of `text`, or every unknown piece.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, UnknownTokens> {
        let mut ids = Vec::new();
        let mut unknown = Vec::new();
        for (i, piece) in self.pieces(text).into_iter().enumerate() {
            match self.id(&piece) {
                Some(id) => ids.push(id),
                None => unknown.push((i, piece)),
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
        let t = Tokenizer::fit(TokenizerKind::Word, "i love bears . the bears won");
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
        let t = Tokenizer::fit(TokenizerKind::Char, "abc|cba.");
        let ids = t.encode("cab|").unwrap_or_default();
        assert_eq!(t.decode(&ids), "cab|");
        assert!(t.encode("abz").is_err());
    }
}
