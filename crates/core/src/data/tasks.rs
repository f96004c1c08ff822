//! Built-in tasks and user text: each becomes a token stream split into train and validation.
//!
//! - **bears**: a word-level corpus from a small grammar in which "bears" is an animal
//!   ("i love bears", "the bears sleep in winter"), a verb ("she bears the pain") and a team
//!   ("the bears won the game"): what follows "bears", and where attention must look to know it,
//!   depends on the context — the lecture's running example.
//! - **bears-sense**: the same sentences for an *encoder* (no causal mask): each "bears" is to be
//!   labelled with its sense — `bears:animal`, `bears:verb`, `bears:team` — from the whole
//!   sentence, words after it included; no other position is scored. To do it, the query of
//!   "bears" must find the word that tells its sense (love, pain, won or game): the lesson "From
//!   XXᵀ to Q, K, V" reads that attention off the bundled encoder.
//! - **reverse**, **sort**: character-level `abc|cba.` and `cab|abc.` — attention patterns that are
//!   easy to read (an anti-diagonal; a lookup of the next smallest letter).
//! - **text**: any UTF-8 file, character-level.
//!
//! Everything is generated from a seed or read from the user's file; nothing is downloaded.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::text::TextLoader;
use super::tokenizer::{Tokenizer, TokenizerKind};

/// Which data to train on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// The bears grammar (word-level).
    #[default]
    Bears,
    /// The bears grammar, each "bears" tagged with its sense (an encoder's task).
    #[serde(rename = "bears-sense")]
    BearsSense,
    /// Reverse a string of letters (character-level).
    Reverse,
    /// Sort a string of letters (character-level).
    Sort,
    /// A user's UTF-8 text file (character-level).
    Text,
}

impl Task {
    /// Parse a task name (the CLI's spelling).
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "bears" => Ok(Task::Bears),
            "bears-sense" => Ok(Task::BearsSense),
            "reverse" => Ok(Task::Reverse),
            "sort" => Ok(Task::Sort),
            "text" => Ok(Task::Text),
            _ => Err(format!(
                "unknown task \"{name}\"; valid tasks: bears, bears-sense, reverse, sort, text"
            )),
        }
    }
}

/// A token stream with its tokenizer, split 90 % / 10 % into train and validation.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The tokenizer (its vocabulary goes into the checkpoint).
    pub tokenizer: Tokenizer,
    /// Training tokens.
    pub train: Vec<usize>,
    /// Held-out tokens.
    pub val: Vec<usize>,
    /// Targets at the same positions as `train` and `val` (a tagging task: no shift), where
    /// [`IGNORE`] is not scored; `None`: the next token is the target.
    pub tags: Option<(Vec<usize>, Vec<usize>)>,
}

/// A target that is not scored.
pub use crate::model::loss::IGNORE;

/// The senses of "bears", in the order of the sentence pools, as the tags spell them.
pub const SENSE_TAGS: [&str; 3] = ["bears:animal", "bears:verb", "bears:team"];

/// Sentences about bears, by sense. Each entry: a template whose `{s}` is a subject.
const ANIMAL: &[&str] = &[
    "{s} love bears",
    "{s} saw bears in the forest",
    "the bears sleep in winter",
    "the bears eat honey",
    "the bears catch fish in the river",
    "{s} fear the bears in the forest",
    "the bears climb trees",
];
const VERB: &[&str] = &[
    "she bears the pain",
    "he bears the pain",
    "she bears the weight",
    "he bears the cost",
    "the bridge bears the weight",
    "she bears the burden",
    "he bears the burden",
];
const TEAM: &[&str] = &[
    "the bears won the game",
    "the bears lost the game",
    "the bears won the match",
    "the bears play tonight",
    "fans cheer for the bears",
    "{s} watch the bears play",
    "the bears scored in the game",
];
const SUBJECTS: &[&str] = &["i", "we", "they", "you"];

/// One bears sentence (with a final ".") and its sense (0 animal, 1 verb, 2 team).
fn bears_sentence(rng: &mut StdRng) -> (String, usize) {
    let sense = rng.random_range(0..3);
    let pool = match sense {
        0 => ANIMAL,
        1 => VERB,
        _ => TEAM,
    };
    let template = pool[rng.random_range(0..pool.len())];
    let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
    (format!("{} .", template.replace("{s}", subject)), sense)
}

/// The whole vocabulary of the bears grammar (so every sentence it can make is encodable).
pub fn bears_vocabulary_text() -> String {
    let mut all = String::from(". ");
    for t in ANIMAL.iter().chain(VERB).chain(TEAM) {
        all.push_str(t);
        all.push(' ');
    }
    all.push_str(&SUBJECTS.join(" "));
    all.replace("{s}", "")
}

/// One `letters|answer.` example over the letters a–h.
fn letters_example(rng: &mut StdRng, max_len: usize, sort: bool) -> String {
    let len = rng.random_range(2..=max_len.max(2));
    let letters: Vec<char> = (0..len)
        .map(|_| (b'a' + rng.random_range(0..8u8)) as char)
        .collect();
    let mut answer = letters.clone();
    if sort {
        answer.sort_unstable();
    } else {
        answer.reverse();
    }
    format!(
        "{}|{}.",
        letters.iter().collect::<String>(),
        answer.iter().collect::<String>()
    )
}

/// How many built-in datasets [`Dataset::builtin_shared`] keeps.
const SHARED_KEPT: usize = 4;

/// The built-in datasets built last, newest last, by (task, seed, tokens, context).
type Kept = Vec<((Task, u64, usize, usize), Dataset)>;
static KEPT: std::sync::Mutex<Kept> = std::sync::Mutex::new(Vec::new());

impl Dataset {
    /// [`Dataset::builtin`], built once and copied while it is among the last `SHARED_KEPT`
    /// asked for: a lesson's compare runs (four of one task and seed, made one a frame in the
    /// browser) and a run restarted with other settings share one build. The copy is the same
    /// value, so a run repeats bit for bit either way. Measured (native release build, its
    /// unit test, 2026-12-02): 5 000 bears tokens built in 1.1 ms, copied in 0.04 ms (a run
    /// takes 60 000).
    pub fn builtin_shared(
        task: &Task,
        seed: u64,
        tokens: usize,
        context: usize,
    ) -> Result<Self, String> {
        let key = (task.clone(), seed, tokens, context);
        let lock = || {
            KEPT.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, d)) = lock().iter().find(|(k, _)| *k == key) {
            return Ok(d.clone());
        }
        // Built outside the lock: two threads asking at once build it twice, the same value.
        let d = Self::builtin(task, seed, tokens, context)?;
        let mut kept = lock();
        if !kept.iter().any(|(k, _)| *k == key) {
            kept.push((key, d.clone()));
            let extra = kept.len().saturating_sub(SHARED_KEPT);
            kept.drain(..extra);
        }
        Ok(d)
    }

    /// Generate a built-in task's corpus (about `tokens` tokens) from `seed`.
    /// `context` bounds the example length of reverse/sort (an example fits in one window).
    pub fn builtin(task: &Task, seed: u64, tokens: usize, context: usize) -> Result<Self, String> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xDA7A);
        match task {
            Task::Bears => {
                let tokenizer = Tokenizer::fit(TokenizerKind::Word, &bears_vocabulary_text())?;
                let (mut text, mut words) = (String::new(), 0);
                while words < tokens {
                    let (sentence, _) = bears_sentence(&mut rng);
                    words += sentence.split_whitespace().count();
                    text.push_str(&sentence);
                    text.push(' ');
                }
                Self::from_text(tokenizer, &text)
            }
            Task::BearsSense => {
                let vocab = format!("{} {}", bears_vocabulary_text(), SENSE_TAGS.join(" "));
                let tokenizer = Tokenizer::fit(TokenizerKind::Word, &vocab)?;
                let bears = tokenizer
                    .id("bears")
                    .ok_or("the grammar has no \"bears\"")?;
                let tag_ids = SENSE_TAGS
                    .iter()
                    .map(|t| tokenizer.id(t).ok_or(format!("no tag {t}")))
                    .collect::<Result<Vec<_>, _>>()?;
                let (mut ids, mut tags) = (Vec::new(), Vec::new());
                while ids.len() < tokens {
                    let (sentence, sense) = bears_sentence(&mut rng);
                    for id in tokenizer.encode(&sentence).map_err(|e| e.to_string())? {
                        ids.push(id);
                        tags.push(if id == bears { tag_ids[sense] } else { IGNORE });
                    }
                }
                let split = ids.len() * 9 / 10;
                let (val, val_tags) = (ids.split_off(split), tags.split_off(split));
                Ok(Self {
                    tokenizer,
                    train: ids,
                    val,
                    tags: Some((tags, val_tags)),
                })
            }
            Task::Reverse | Task::Sort => {
                let tokenizer = Tokenizer::fit(TokenizerKind::Char, "abcdefgh|.")?;
                let max_len = ((context.saturating_sub(2)) / 2).clamp(2, 8);
                let mut text = String::new();
                while text.len() < tokens {
                    text.push_str(&letters_example(&mut rng, max_len, *task == Task::Sort));
                }
                Self::from_text(tokenizer, &text)
            }
            Task::Text => Err("the text task needs a file: use Dataset::from_file".into()),
        }
    }

    /// A character-level dataset from a user's file, built in one go ([`TextLoader`] builds
    /// it a slice at a time). A file that is not a regular file, larger than
    /// `MAX_TEXT_BYTES`, not UTF-8, empty or too short (fewer than 2 · (context + 1)
    /// characters) is an error that says so.
    pub fn from_file(path: &std::path::Path, context: usize) -> Result<Self, String> {
        let mut loader = TextLoader::open(path, context)?;
        loop {
            if let Some(data) = loader.work(std::time::Duration::from_secs(3600))? {
                return Ok(data);
            }
        }
    }

    fn from_text(tokenizer: Tokenizer, text: &str) -> Result<Self, String> {
        let ids = tokenizer.encode(text).map_err(|e| e.to_string())?;
        Ok(Self::from_ids(tokenizer, ids))
    }

    /// Token ids split 90 % / 10 % into train and validation.
    pub fn from_ids(tokenizer: Tokenizer, mut ids: Vec<usize>) -> Self {
        let split = ids.len() * 9 / 10;
        let val = ids.split_off(split);
        Self {
            tokenizer,
            train: ids,
            val,
            tags: None,
        }
    }

    /// A batch of `b` random windows of length `t` (inputs) and the same shifted by one (targets),
    /// written into the given buffers (B·T each).
    pub fn batch(
        &self,
        val: bool,
        rng: &mut StdRng,
        b: usize,
        t: usize,
        inputs: &mut Vec<usize>,
        targets: &mut Vec<usize>,
    ) {
        let data = if val { &self.val } else { &self.train };
        let tags = self
            .tags
            .as_ref()
            .map(|(train, held)| if val { held } else { train });
        inputs.clear();
        targets.clear();
        let max_start = data.len().saturating_sub(t + 1).max(1);
        for _ in 0..b {
            let start = rng.random_range(0..max_start);
            for i in 0..t {
                inputs.push(data.get(start + i).copied().unwrap_or(0));
                targets.push(match tags {
                    // A tagging task: the tag of this very position.
                    Some(tags) => tags.get(start + i).copied().unwrap_or(IGNORE),
                    None => data.get(start + i + 1).copied().unwrap_or(0),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_dataset_is_the_one_built_and_only_the_last_few_are_kept() {
        let same = |a: &Dataset, b: &Dataset| a.train == b.train && a.val == b.val;
        let built = Dataset::builtin(&Task::Bears, 7, 5000, 16).unwrap_or_else(|e| panic!("{e}"));
        let t = std::time::Instant::now();
        let first = Dataset::builtin_shared(&Task::Bears, 7, 5000, 16);
        let build = t.elapsed();
        let t = std::time::Instant::now();
        let again = Dataset::builtin_shared(&Task::Bears, 7, 5000, 16);
        let copy = t.elapsed();
        let (first, again) = (
            first.unwrap_or_else(|e| panic!("{e}")),
            again.unwrap_or_else(|e| panic!("{e}")),
        );
        assert!(same(&built, &first) && same(&built, &again));
        assert_eq!(built.tokenizer.len(), again.tokenizer.len());
        // Printed, not asserted (timings belong in benchmarks): what sharing saves.
        println!("built in {build:?}, copied in {copy:?}");
        // Other keys get their own data; after SHARED_KEPT others, it is built anew (the same).
        let other =
            Dataset::builtin_shared(&Task::Bears, 8, 5000, 16).unwrap_or_else(|e| panic!("{e}"));
        assert!(!same(&built, &other));
        for seed in 100..100 + SHARED_KEPT as u64 {
            Dataset::builtin_shared(&Task::Sort, seed, 500, 16).unwrap_or_else(|e| panic!("{e}"));
        }
        let kept = KEPT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(kept.len() <= SHARED_KEPT);
        assert!(!kept.iter().any(|((_, seed, _, _), _)| *seed == 7));
    }

    #[test]
    fn bears_has_the_three_senses() {
        let d = Dataset::builtin(&Task::Bears, 0, 3000, 16).unwrap_or_else(|e| panic!("{e}"));
        let text = d.tokenizer.decode(&d.train);
        assert!(text.contains("love bears"));
        assert!(text.contains("she bears the"));
        assert!(text.contains("the bears won the"));
        assert!(d.val.len() >= 250);
    }

    #[test]
    fn bears_sense_tags_every_bears_with_its_sentences_sense() {
        let d = Dataset::builtin(&Task::BearsSense, 0, 3000, 16).unwrap_or_else(|e| panic!("{e}"));
        let Some((tags, _)) = &d.tags else {
            panic!("no tags")
        };
        let bears = d.tokenizer.id("bears").unwrap_or(usize::MAX);
        let mut seen = [0usize; 3];
        for (i, (&id, &tag)) in d.train.iter().zip(tags).enumerate() {
            if id != bears {
                assert_eq!(tag, IGNORE);
                continue;
            }
            // The sentence around it: back to the previous "." and on to the next.
            let dot = d.tokenizer.id(".").unwrap_or(usize::MAX);
            let from = d.train[..i]
                .iter()
                .rposition(|&x| x == dot)
                .map_or(0, |p| p + 1);
            let to = d.train[i..]
                .iter()
                .position(|&x| x == dot)
                .map_or(d.train.len(), |p| i + p);
            let sentence = d.tokenizer.decode(&d.train[from..to]);
            let sense = SENSE_TAGS
                .iter()
                .position(|t| d.tokenizer.id(t) == Some(tag))
                .unwrap_or(9);
            let pool = [ANIMAL, VERB, TEAM][sense];
            let matches = pool.iter().any(|t| {
                SUBJECTS
                    .iter()
                    .any(|s| t.replace("{s}", s).trim() == sentence.trim())
            });
            assert!(matches, "\"{sentence}\" tagged {}", SENSE_TAGS[sense]);
            seen[sense] += 1;
        }
        assert!(seen.iter().all(|&n| n > 20), "{seen:?}");
        // Targets in a batch are the tags of the same positions.
        let mut rng = StdRng::seed_from_u64(2);
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        d.batch(false, &mut rng, 4, 16, &mut inputs, &mut targets);
        for (&i, &t) in inputs.iter().zip(&targets) {
            assert_eq!(t != IGNORE, i == bears);
        }
    }

    #[test]
    fn reverse_and_sort_examples_are_right() {
        let mut rng = StdRng::seed_from_u64(1);
        let e = letters_example(&mut rng, 5, false);
        let (a, b) = e.trim_end_matches('.').split_once('|').unwrap_or_default();
        assert_eq!(a.chars().rev().collect::<String>(), b);
        let e = letters_example(&mut rng, 5, true);
        let (a, b) = e.trim_end_matches('.').split_once('|').unwrap_or_default();
        let mut s: Vec<char> = a.chars().collect();
        s.sort_unstable();
        assert_eq!(s.into_iter().collect::<String>(), b);
    }

    #[test]
    fn bad_text_files_are_refused_with_a_reason() {
        let dir = std::env::temp_dir();
        let p = dir.join(format!("al-bad-{}.txt", std::process::id()));
        std::fs::write(&p, [0xff, 0xfe, 0x00]).unwrap_or(());
        assert!(
            Dataset::from_file(&p, 8)
                .err()
                .unwrap_or_default()
                .contains("not UTF-8")
        );
        std::fs::write(&p, "").unwrap_or(());
        assert!(
            Dataset::from_file(&p, 8)
                .err()
                .unwrap_or_default()
                .contains("empty")
        );
        std::fs::write(&p, "short").unwrap_or(());
        assert!(
            Dataset::from_file(&p, 8)
                .err()
                .unwrap_or_default()
                .contains("at least 18")
        );
        let _ = std::fs::remove_file(&p);
    }
}
