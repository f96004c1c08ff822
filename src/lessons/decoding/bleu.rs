//! §4 "BLEU": a candidate against references — every candidate n-gram (n = 1…4) marked matched
//! or not after clipping, each precision p_n, their geometric mean, the brevity penalty and the
//! score; then the BLEU of §2's greedy and beam outputs against a reference the user types.

use egui::{Color32, Ui};

use super::settings::DecodingSettings;
use super::{ModelSearch, SearchKey, model_search, spell};
use crate::lessons::common::background::Background;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::decoding::{Bleu, Smoothing, sentence_bleu, words};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, ORANGE, readable_on};

/// Candidate and references of the presets: (name, candidate, references).
pub const PRESETS: [(&str, &str, &str); 5] = [
    (
        "the the the …",
        "the the the the the the the",
        "the cat is on the mat\nthere is a cat on the mat",
    ),
    (
        "Papineni et al. 2002",
        "it is a guide to action which ensures that the military always obeys the commands of the party",
        "it is a guide to action that ensures that the military will forever heed party commands\nit is the guiding principle which guarantees the military forces always being under the command of the party\nit is the practical guide for the army always to heed the directions of the party",
    ),
    (
        "bears",
        "the bears won the match .",
        "the bears won the game .\nthe bears lost the game .",
    ),
    ("too short", "the bears won", "the bears won the game ."),
    (
        "no 4-gram match",
        "the bears won a game .",
        "the bears won the game .",
    ),
];

/// The section: the greedy and beam outputs of §2, searched in the background.
#[derive(Default)]
pub struct BleuSection {
    search: Background<SearchKey, Result<ModelSearch, String>>,
}

fn bleu_of(candidate: &str, references: &[String], smoothing: Smoothing) -> Bleu {
    let refs: Vec<Vec<String>> = references.iter().map(|r| words(r)).collect();
    sentence_bleu(&words(candidate), &refs, smoothing)
}

/// One row of n-gram chips: matched ones filled green, the others outlined.
fn chips(ui: &mut Ui, n: usize, candidate: &[String], b: &Bleu) {
    let (m, total) = b.counts[n - 1];
    let green = readable_on(GREEN, ui.visuals().panel_fill);
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!(
            "n = {n}:  p{n} = {m}/{} = {:.3}",
            total.max(1),
            b.precisions[n - 1]
        ));
        if total == 0 {
            ui.weak("(the candidate has no n-grams this long: p = 0)");
        }
        for (i, hit) in b.matched[n - 1].iter().enumerate() {
            let gram = candidate[i..i + n].join(" ");
            let (fill, text, hover) = if *hit {
                (
                    GREEN.gamma_multiply(0.35),
                    ui.visuals().strong_text_color(),
                    "matched (counted, within its clip)",
                )
            } else {
                (
                    Color32::TRANSPARENT,
                    ui.visuals().weak_text_color(),
                    "not matched, or more often than in any one reference (clipped)",
                )
            };
            egui::Frame::new()
                .fill(fill)
                .stroke(egui::Stroke::new(1.0, if *hit { green } else { text }))
                .corner_radius(4.0)
                .inner_margin(egui::Margin::symmetric(4, 1))
                .show(ui, |ui| {
                    ui.colored_label(text, gram);
                })
                .response
                .on_hover_text(hover);
        }
    });
}

/// The parts and the score, as a formula with numbers.
fn parts(ui: &mut Ui, b: &Bleu) {
    let logs: Vec<String> = b
        .precisions
        .iter()
        .map(|p| {
            if *p > 0.0 {
                format!("{:.3}", p.ln())
            } else {
                "−∞".into()
            }
        })
        .collect();
    let geo = if b.precisions.iter().all(|&p| p > 0.0) {
        format!(
            "{:.4}",
            (b.precisions.iter().map(|p| p.ln()).sum::<f64>() / 4.0).exp()
        )
    } else {
        "0".into()
    };
    ui.label(format!(
        "Geometric mean (p1 p2 p3 p4)^¼ = exp(¼ ({})) = {geo}",
        logs.join(" + ")
    ));
    ui.label(format!(
        "Brevity penalty: candidate c = {} words, closest reference r = {} → BP = {}",
        b.candidate_len,
        b.reference_len,
        if b.candidate_len == 0 {
            "0 (empty candidate)".to_owned()
        } else if b.candidate_len > b.reference_len {
            "1 (c > r)".to_owned()
        } else {
            format!(
                "exp(1 − {}/{}) = {:.4}",
                b.reference_len, b.candidate_len, b.brevity_penalty
            )
        }
    ));
}

impl Section<DecodingSettings> for BleuSection {
    fn title(&self) -> &'static str {
        "4. BLEU"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut DecodingSettings, _ctx: &mut LessonContext) {
        ui.label("BLEU (Papineni et al. 2002) is a precision: how many of the candidate's n-grams appear in a reference, each counted at most as often as it occurs in any one reference (clipping — so \"the the the …\" cannot score by repeating a common word). Sentence BLEU = BP · (p1 p2 p3 p4)^¼; the brevity penalty BP stands in for the recall a precision lacks. Unsmoothed, one p_n = 0 makes BLEU 0; ε-smoothing (Chen & Cherry 2014, method 1, as NLTK's) counts a zero as 0.1.");
        ui.horizontal_wrapped(|ui| {
            ui.label("Examples:");
            for (name, c, r) in PRESETS {
                if ui.button(name).clicked() {
                    s.candidate = c.into();
                    s.references = r.into();
                }
            }
        });
        egui::Grid::new("bleu inputs")
            .num_columns(2)
            .spacing([10.0, 6.0])
            .show(ui, |ui| {
                let l = ui.strong("Candidate");
                ui.add(
                    egui::TextEdit::singleline(&mut s.candidate)
                        .desired_width(ui.available_width().min(640.0))
                        .char_limit(2000),
                )
                .labelled_by(l.id);
                ui.end_row();
                let l = ui.strong("References (one per line)");
                ui.add(
                    egui::TextEdit::multiline(&mut s.references)
                        .desired_rows(2)
                        .desired_width(ui.available_width().min(640.0))
                        .char_limit(2000),
                )
                .labelled_by(l.id);
                ui.end_row();
            });
        ui.horizontal_wrapped(|ui| {
            ui.label("Smoothing:");
            ui.radio_value(&mut s.smoothing, Smoothing::None, "none (Papineni)");
            ui.radio_value(
                &mut s.smoothing,
                Smoothing::Epsilon,
                "ε = 0.1 for a zero count (Chen & Cherry method 1)",
            );
        });
        let refs = s.reference_list();
        if refs.is_empty() {
            ui.colored_label(ui.visuals().error_fg_color, "Type at least one reference.");
            return;
        }
        let cand = words(&s.candidate);
        let b = bleu_of(&s.candidate, &refs, s.smoothing);
        for n in 1..=4 {
            chips(ui, n, &cand, &b);
        }
        parts(ui, &b);
        ui.heading(format!("BLEU = {:.4}", b.bleu));
        ui.separator();
        ui.strong("Greedy vs beam search (§2's settings) against your reference");
        ui.horizontal(|ui| {
            let l = ui.label("Reference");
            ui.add(
                egui::TextEdit::singleline(&mut s.model_reference)
                    .desired_width(ui.available_width().min(480.0))
                    .char_limit(2000),
            )
            .labelled_by(l.id);
        });
        let (m, _) = self
            .search
            .get(&SearchKey::of(s), ui.ctx(), |k| model_search(&k));
        match m {
            None => {
                ui.label("Searching…");
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(m)) => {
                let reference = vec![s.model_reference.clone()];
                let prompt = m.prompt.join(" ");
                let bg = ui.visuals().panel_fill;
                let mut line = |name: &str, tokens: &[usize], color: Color32| {
                    let text = format!("{prompt} {}", spell(&m.vocab, tokens));
                    let b = bleu_of(&text, &reference, s.smoothing);
                    ui.colored_label(
                        readable_on(color, bg),
                        format!(
                            "{name}: \"{text}\"   BLEU = {:.4}   (p1…p4 = {:.2} {:.2} {:.2} {:.2}, BP = {:.3})",
                            b.bleu,
                            b.precisions[0],
                            b.precisions[1],
                            b.precisions[2],
                            b.precisions[3],
                            b.brevity_penalty
                        ),
                    );
                };
                line("Greedy", &m.greedy.tokens, BLUE);
                if let Some(best) = m.beam.best.first() {
                    line(&format!("Beam W = {}", s.beam), &best.hyp.tokens, ORANGE);
                }
                ui.weak(
                    "The prompt is part of each output, so the reference should start with it.",
                );
            }
        }
    }

    fn csv(&mut self, s: &DecodingSettings) -> String {
        let b = bleu_of(&s.candidate, &s.reference_list(), s.smoothing);
        columns_csv(&[
            ("n", vec![1.0, 2.0, 3.0, 4.0]),
            ("matched", b.counts.iter().map(|c| c.0 as f64).collect()),
            ("ngrams", b.counts.iter().map(|c| c.1 as f64).collect()),
            ("precision", b.precisions.to_vec()),
            ("brevity_penalty", vec![b.brevity_penalty; 4]),
            ("bleu", vec![b.bleu; 4]),
        ])
    }
}
