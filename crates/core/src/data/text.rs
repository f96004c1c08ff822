//! A user's text file as a character-level dataset, built a slice at a time: a large file
//! shows its progress and can be cancelled (the GUI's Pause or a new Reset), and the browser,
//! which has no threads, can build it a few milliseconds per frame.
//!
//! Limits, each a one-line error: a regular file of at most [`MAX_TEXT_BYTES`], UTF-8, with at
//! least 2 · (context + 1) characters and at most `MAX_VOCAB` different ones.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;
use web_time::Instant;

use super::tasks::Dataset;
use super::tokenizer::{Tokenizer, TokenizerKind};

/// The largest text file read (16 MB: about 16 million characters of English, a few seconds of
/// work in all).
pub const MAX_TEXT_BYTES: u64 = 16 << 20;
/// Characters handled between two looks at the clock.
const CHUNK: usize = 1 << 18;

/// The text file being turned into a dataset.
pub struct TextLoader {
    name: String,
    text: String,
    /// Characters in the text.
    chars: usize,
    /// Byte offset reached in the current phase.
    pos: usize,
    phase: Phase,
}

enum Phase {
    /// Collecting the set of characters.
    Vocabulary(BTreeSet<char>),
    /// Turning characters into ids.
    Encoding {
        tokenizer: Tokenizer,
        ids: Vec<usize>,
        index: HashMap<char, usize>,
    },
}

impl TextLoader {
    /// Read and check the file (a regular file, the size cap, UTF-8, long enough for `context`).
    pub fn open(path: &Path, context: usize) -> Result<Self, String> {
        let name = path.display().to_string();
        let bytes = crate::files::read_regular(path, MAX_TEXT_BYTES).map_err(|e| {
            if e.contains("at most") {
                format!(
                    "{e}: use a shorter text (its first {} MB, say)",
                    MAX_TEXT_BYTES >> 20
                )
            } else {
                e
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{name} is not UTF-8 text (invalid byte at offset {}); save it as UTF-8 and try again",
                e.utf8_error().valid_up_to()
            )
        })?;
        let chars = text.chars().count();
        if chars == 0 {
            return Err(format!("{name} is empty"));
        }
        let need = 2 * (context + 1);
        if chars < need {
            return Err(format!(
                "{name} has {chars} characters; a context of {context} needs at least {need}"
            ));
        }
        Ok(Self {
            name,
            text,
            chars,
            pos: 0,
            phase: Phase::Vocabulary(BTreeSet::new()),
        })
    }

    /// How far it got, 0 … 1 (the two passes, vocabulary and encoding, half each).
    pub fn progress(&self) -> f32 {
        let pass = self.pos as f32 / self.text.len().max(1) as f32;
        match self.phase {
            Phase::Vocabulary(_) => 0.5 * pass,
            Phase::Encoding { .. } => 0.5 + 0.5 * pass,
        }
    }

    /// The file's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Work for about `budget`; the dataset once it is built.
    pub fn work(&mut self, budget: Duration) -> Result<Option<Dataset>, String> {
        let start = Instant::now();
        loop {
            let end = next_boundary(&self.text, self.pos + CHUNK);
            let chunk = &self.text[self.pos..end];
            match &mut self.phase {
                Phase::Vocabulary(set) => {
                    set.extend(chunk.chars());
                    self.pos = end;
                    if self.pos == self.text.len() {
                        let vocab: Vec<String> = set.iter().map(|c| c.to_string()).collect();
                        let tokenizer = Tokenizer::new(TokenizerKind::Char, vocab)
                            .map_err(|e| format!("{}: {e}", self.name))?;
                        let index = set.iter().enumerate().map(|(i, &c)| (c, i)).collect();
                        self.phase = Phase::Encoding {
                            tokenizer,
                            ids: Vec::with_capacity(self.chars),
                            index,
                        };
                        self.pos = 0;
                    }
                }
                Phase::Encoding {
                    tokenizer,
                    ids,
                    index,
                } => {
                    // Every character is in the index: it was built from this text.
                    ids.extend(chunk.chars().filter_map(|c| index.get(&c).copied()));
                    self.pos = end;
                    if self.pos == self.text.len() {
                        let ids = std::mem::take(ids);
                        return Ok(Some(Dataset::from_ids(tokenizer.clone(), ids)));
                    }
                }
            }
            if start.elapsed() >= budget {
                return Ok(None);
            }
        }
    }
}

/// The first char boundary of `text` at or after byte `i` (or its end).
fn next_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_built_in_slices_with_progress() {
        let p = std::env::temp_dir().join(format!("al-text-{}.txt", std::process::id()));
        let text = "héllo wörld, ünïcode 漢字 ".repeat(40_000);
        std::fs::write(&p, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut loader = TextLoader::open(&p, 16).unwrap_or_else(|e| panic!("{e}"));
        let mut slices = 0;
        let data = loop {
            slices += 1;
            match loader.work(Duration::ZERO) {
                Ok(Some(d)) => break d,
                Ok(None) => assert!((0.0..1.0).contains(&loader.progress())),
                Err(e) => panic!("{e}"),
            }
        };
        assert!(
            slices > 2,
            "a zero budget still makes progress, one chunk at a time"
        );
        assert_eq!(data.train.len() + data.val.len(), text.chars().count());
        assert_eq!(data.tokenizer.decode(&data.train[..5]), "héllo");
        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("{e}"));
    }
}
