//! §2 "Beam search on our model": the bundled bears model (or a loaded checkpoint) continues a
//! prompt; the search tree step by step (kept hypotheses with their cumulative log-probability,
//! the best pruned candidates faded), the n-best list, greedy beside it, and length
//! normalisation. The search runs off the UI thread (`common::background`).

use egui::Ui;

use super::settings::{DecodingSettings, MAX_BEAM, MAX_LEN};
use super::{ModelSearch, SearchKey, language_model, model_search, spell};
use crate::lessons::common::background::Background;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::decoding::BeamResult;
use crate::widgets::export::columns_csv;
use crate::widgets::figure::legend_row;
use crate::widgets::file_dialog::{DialogMode, FileDialog};
use crate::widgets::palette::{BLUE, GREEN, ORANGE, readable_on};
use crate::widgets::paths::{NodeStyle, PathEdge, PathNode, path_diagram};
use crate::widgets::plots::labelled;
use crate::widgets::{Mark, entry};

/// Pruned candidates drawn per step (the best ones), at most.
const PRUNED_SHOWN: usize = 3;

/// The section: the search in the background, and the checkpoint dialog.
#[derive(Default)]
pub struct Beam {
    search: Background<SearchKey, Result<ModelSearch, String>>,
    dialog: Option<FileDialog>,
}

/// The model line: which model, and Load / bundled buttons. Shared with §3.
pub(super) fn model_line(ui: &mut Ui, s: &mut DecodingSettings, dialog: &mut Option<FileDialog>) {
    ui.horizontal_wrapped(|ui| {
        match language_model(s.checkpoint.as_deref()) {
            Ok(lm) => {
                let name = s
                    .checkpoint
                    .as_deref()
                    .map_or("the bundled bears model".to_owned(), |p| format!("\"{p}\""));
                ui.label(format!(
                    "Model: {name} — {} words, context {} tokens, {} layers.",
                    lm.1.len(),
                    lm.0.config.block_size,
                    lm.0.config.n_layer
                ));
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Model: {e}"));
            }
        }
        if ui
            .button("Load checkpoint…")
            .on_hover_text(
                "Decode with a model trained in the live lesson or by `attention-lab train`",
            )
            .clicked()
        {
            let here = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
            *dialog = Some(FileDialog::new(
                DialogMode::Load,
                here,
                String::new(),
                "safetensors",
            ));
        }
        if s.checkpoint.is_some() && ui.button("Bundled model").clicked() {
            s.checkpoint = None;
        }
    });
    if let Some(d) = dialog
        && let Some(choice) = d.show(ui.ctx())
    {
        if let Some(path) = choice {
            s.checkpoint = Some(path.display().to_string());
        }
        *dialog = None;
    }
}

impl Section<DecodingSettings> for Beam {
    fn title(&self) -> &'static str {
        "2. Beam search on our model"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut DecodingSettings, _ctx: &mut LessonContext) {
        ui.label("Beam search keeps the W best partial sequences at every step and extends each by every word; a kept hypothesis ending in \".\" is complete (✓) and leaves the beam, which shrinks by one (Jurafsky & Martin). It approximates maximum-likelihood sequence estimation (MLSE). A modem's Viterbi decoder does MLSE exactly because its channel is a Markov model with few states; a transformer's state is its whole prefix. Width 1 is greedy.");
        model_line(ui, s, &mut self.dialog);
        ui.horizontal_wrapped(|ui| {
            let l = ui.strong("Prompt");
            ui.add(
                egui::TextEdit::singleline(&mut s.prompt)
                    .desired_width(260.0)
                    .char_limit(2000),
            )
            .labelled_by(l.id);
            labelled(ui, "beam width W", |ui| {
                ui.add(egui::Slider::new(&mut s.beam, 1..=MAX_BEAM))
            });
            labelled(ui, "max length", |ui| {
                ui.add(egui::Slider::new(&mut s.max_len, 1..=MAX_LEN))
            });
        });
        ui.horizontal_wrapped(|ui| {
            let mut on = s.length_alpha > 0.0;
            if ui
                .checkbox(&mut on, "length normalisation: score = log p / length^α")
                .changed()
            {
                s.length_alpha = if on { 1.0 } else { 0.0 };
            }
            ui.add_enabled_ui(on, |ui| {
                labelled(ui, "α", |ui| {
                    ui.add(egui::Slider::new(&mut s.length_alpha, 0.0..=2.0).step_by(0.05))
                });
            });
        });
        let key = SearchKey::of(s);
        let (result, fresh) = self.search.get(&key, ui.ctx(), |k| model_search(&k));
        let Some(result) = result else {
            ui.label("Searching…");
            return;
        };
        let m = match result {
            Ok(m) => m,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        if !fresh {
            ui.weak("Searching with the new settings…");
        }
        let steps = m.beam.steps.len().max(1);
        s.shown_steps = s.shown_steps.clamp(1, MAX_LEN);
        let shown = s.shown_steps.min(steps);
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(shown > 1, egui::Button::new("⏮ First step"))
                .clicked()
            {
                s.shown_steps = 1;
            }
            if ui
                .add_enabled(shown > 1, egui::Button::new("◀ Step back"))
                .clicked()
            {
                s.shown_steps = shown - 1;
            }
            if ui
                .add_enabled(shown < steps, egui::Button::new("Step ▶"))
                .clicked()
            {
                s.shown_steps = shown + 1;
            }
            if ui
                .add_enabled(shown < steps, egui::Button::new("All steps ⏭"))
                .clicked()
            {
                s.shown_steps = MAX_LEN;
            }
            ui.label(format!("showing step {shown} of {steps}"));
        });
        summary(ui, m, s.length_alpha);
        legend_row(
            ui,
            &[
                entry("kept hypothesis", ui.visuals().text_color(), Mark::Bar),
                entry(
                    "pruned (best few, faded)",
                    ui.visuals().weak_text_color(),
                    Mark::Bar,
                ),
                entry("greedy's path", BLUE, Mark::Line),
                entry("beam's best", ORANGE, Mark::Line),
                entry("both", GREEN, Mark::Line),
            ],
        );
        let (nodes, edges, headers, rows) = tree(m, shown, s.length_alpha);
        let row_h =
            (crate::widgets::layout::remaining_height(ui) / (rows as f32 + 0.6)).clamp(30.0, 56.0);
        path_diagram(
            ui,
            "beam search tree",
            &headers,
            rows,
            row_h,
            &nodes,
            &edges,
        );
        n_best(ui, m, s.length_alpha);
    }

    fn csv(&mut self, s: &DecodingSettings) -> String {
        match model_search(&SearchKey::of(s)) {
            Ok(m) => columns_csv(&[
                ("rank", (1..=m.beam.best.len()).map(|r| r as f64).collect()),
                (
                    "log_prob",
                    m.beam.best.iter().map(|n| n.hyp.log_prob).collect(),
                ),
                (
                    "length",
                    m.beam
                        .best
                        .iter()
                        .map(|n| n.hyp.tokens.len() as f64)
                        .collect(),
                ),
                ("score", m.beam.best.iter().map(|n| n.score).collect()),
            ]),
            Err(_) => String::new(),
        }
    }
}

/// Greedy beside the beam's best, in words and numbers.
fn summary(ui: &mut Ui, m: &ModelSearch, alpha: f64) {
    let bg = ui.visuals().panel_fill;
    let prompt = m.prompt.join(" ");
    ui.colored_label(
        readable_on(BLUE, bg),
        format!(
            "Greedy:  {prompt} ▸ {}   log p = {:.3}   (p = {:.4})",
            spell(&m.vocab, &m.greedy.tokens),
            m.greedy.log_prob,
            m.greedy.log_prob.exp()
        ),
    );
    let Some(best) = m.beam.best.first() else {
        return;
    };
    let score = if alpha > 0.0 {
        format!(
            "   score = log p / {}^{alpha:.2} = {:.3}",
            best.hyp.tokens.len(),
            best.score
        )
    } else {
        String::new()
    };
    ui.colored_label(
        readable_on(ORANGE, bg),
        format!(
            "Beam's best:  {prompt} ▸ {}   log p = {:.3}   (p = {:.4}){score}",
            spell(&m.vocab, &best.hyp.tokens),
            best.hyp.log_prob,
            best.hyp.log_prob.exp()
        ),
    );
    let diff = best.hyp.log_prob - m.greedy.log_prob;
    if best.hyp.tokens == m.greedy.tokens {
        ui.label("Here the beam's best is greedy's sequence.");
    } else if diff > 0.0 {
        ui.label(format!(
            "The beam's best is {:.2} times as probable as greedy's sequence.",
            diff.exp()
        ));
    } else {
        ui.label(format!(
            "The beam's best has the higher score but is {:.2} times less probable than greedy's: length normalisation favours the longer sequence.",
            (-diff).exp()
        ));
    }
}

/// The search tree up to `shown` steps: nodes, edges, column headers, rows.
fn tree(
    m: &ModelSearch,
    shown: usize,
    alpha: f64,
) -> (Vec<PathNode>, Vec<PathEdge>, Vec<String>, usize) {
    let r: &BeamResult = &m.beam;
    let best_tokens = r
        .best
        .first()
        .map(|n| n.hyp.tokens.clone())
        .unwrap_or_default();
    let greedy = &m.greedy.tokens;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut headers = Vec::new();
    let mut rows = 1;
    let mut prev_kept: Vec<usize> = Vec::new();
    let prefix_of = |path: &[usize], t: &[usize]| t.len() <= path.len() && path[..t.len()] == *t;
    for (k, step) in r.steps.iter().take(shown).enumerate() {
        headers.push(format!("token {}", k + 1));
        let mut kept_here = Vec::new();
        let shown_pruned = step.pruned.iter().take(PRUNED_SHOWN);
        for (row, (node, kept)) in step
            .kept
            .iter()
            .map(|n| (n, true))
            .chain(shown_pruned.map(|n| (n, false)))
            .enumerate()
        {
            let t = &node.hyp.tokens;
            let on_best = prefix_of(&best_tokens, t);
            let on_greedy = prefix_of(greedy, t);
            let outline = match (on_greedy, on_best) {
                (true, true) => Some(GREEN),
                (true, false) => Some(BLUE),
                (false, true) => Some(ORANGE),
                _ => None,
            }
            .filter(|_| kept);
            let word = t
                .last()
                .map_or("", |&w| m.vocab.get(w).map_or("?", String::as_str));
            let label = if node.hyp.done && kept {
                format!("{word} ✓")
            } else {
                word.to_owned()
            };
            let number = if alpha > 0.0 {
                node.score
            } else {
                node.hyp.log_prob
            };
            let state = match (kept, node.hyp.done) {
                (false, _) => "pruned",
                (true, true) => {
                    "kept and complete (ends with \".\"): it leaves the beam, which shrinks by one"
                }
                (true, false) => "kept: extended at the next step",
            };
            let index = nodes.len();
            nodes.push(PathNode {
                col: k,
                row,
                label,
                sub: format!("{number:.2}"),
                hover: format!(
                    "{} ▸ {}\nlog p = {:.4} (p = {:.5}), length {}, score log p / length^{alpha:.2} = {:.4}\n{state}",
                    m.prompt.join(" "),
                    spell(&m.vocab, t),
                    node.hyp.log_prob,
                    node.hyp.log_prob.exp(),
                    t.len(),
                    node.score
                ),
                style: if kept { NodeStyle::Kept } else { NodeStyle::Pruned },
                outline,
            });
            if let Some(&parent) = node.parent.and_then(|p| prev_kept.get(p)) {
                edges.push(PathEdge {
                    from: parent,
                    to: index,
                    color: outline,
                    width: if outline.is_some() { 3.5 } else { 1.2 },
                    faded: !kept,
                });
            }
            if kept && !node.hyp.done {
                kept_here.push(index);
            }
            rows = rows.max(row + 1);
        }
        prev_kept = kept_here;
    }
    edges.sort_by_key(|e| (!e.faded, e.color.is_some()));
    (nodes, edges, headers, rows)
}

/// The final n-best list.
fn n_best(ui: &mut Ui, m: &ModelSearch, alpha: f64) {
    ui.add_space(6.0);
    ui.strong(format!(
        "The final {} hypotheses, best score first ({} prefixes sent through the model)",
        m.beam.best.len(),
        m.beam.calls
    ));
    egui::Grid::new("n-best list")
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for h in ["rank", "continuation", "log p", "p", "length", "score"] {
                ui.strong(h);
            }
            ui.end_row();
            for (i, n) in m.beam.best.iter().enumerate() {
                ui.label(format!("{}", i + 1));
                ui.label(format!(
                    "{}{}",
                    spell(&m.vocab, &n.hyp.tokens),
                    if n.hyp.done { "" } else { "  (unfinished)" }
                ));
                ui.label(format!("{:.3}", n.hyp.log_prob));
                ui.label(format!("{:.4}", n.hyp.log_prob.exp()));
                ui.label(format!("{}", n.hyp.tokens.len()));
                ui.label(if alpha > 0.0 {
                    format!("{:.3}", n.score)
                } else {
                    format!("{:.3} (= log p)", n.score)
                });
                ui.end_row();
            }
        });
}
