//! §1 "Greedy can lose": a hand-set Markov model (a first word, then the next word given the
//! current one) drawn as a trellis. Greedy takes the likeliest word at each step; the best
//! sequence (every path enumerated, and Viterbi's survivors) can start with a less likely word.

use egui::Ui;

use super::settings::{DecodingSettings, MAX_DEPTH};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::decoding::{Hypothesis, Trellis, enumerate, greedy, viterbi, viterbi_survivors};
use crate::widgets::export::columns_csv;
use crate::widgets::figure::legend_row;
use crate::widgets::palette::{BLUE, GREEN, ORANGE};
use crate::widgets::paths::{NodeStyle, PathEdge, PathNode, path_diagram};
use crate::widgets::plots::labelled;
use crate::widgets::{Mark, entry};

/// The section.
pub struct GreedyLoses;

/// "p₁ × p₂ × … = p": the factors of a path's probability.
pub fn factors(t: &Trellis, path: &[usize]) -> String {
    let start = t.start_probs();
    let next = t.next_probs();
    let mut parts = Vec::new();
    let mut prev: Option<usize> = None;
    for &w in path {
        let p = match prev {
            None => start[w],
            Some(r) => next[r][w],
        };
        parts.push(format!("{p:.2}"));
        prev = Some(w);
    }
    parts.join(" × ")
}

fn describe(t: &Trellis, h: &Hypothesis) -> String {
    format!(
        "{}   p = {} = {:.4}   (log p = {:.3})",
        t.spell(&h.tokens),
        factors(t, &h.tokens),
        h.log_prob.exp(),
        h.log_prob
    )
}

impl Section<DecodingSettings> for GreedyLoses {
    fn title(&self) -> &'static str {
        "1. Greedy can lose"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut DecodingSettings, _ctx: &mut LessonContext) {
        ui.label("A toy language model over three words, small enough to see whole: a probability for the first word, then a table of the next word given the current one (a Markov chain). Greedy decoding takes the likeliest word at every step and never looks back; the most probable sequence can start with a less likely word whose continuations are much surer. Edit the weights (each row is divided by its sum).");
        let mut t = s.trellis();
        let words = t.words.clone();
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "words per sequence", |ui| {
                ui.add(egui::Slider::new(&mut s.depth, 1..=MAX_DEPTH))
            });
            if ui.button("Lecture example").clicked() {
                let l = Trellis::lecture();
                s.trellis_start = l.start;
                s.trellis_next = l.next;
                s.depth = 3;
            }
        });
        let start_p = t.start_probs();
        let next_p = t.next_probs();
        egui::Grid::new("trellis weights")
            .striped(true)
            .spacing([18.0, 6.0])
            .show(ui, |ui| {
                ui.strong("weights → probability");
                for w in &words {
                    ui.strong(format!("next = {w}"));
                }
                ui.end_row();
                let row = |ui: &mut Ui, name: String, weights: &mut Vec<f64>, probs: &[f64]| {
                    let l = ui.label(&name);
                    for (j, (w, p)) in weights.iter_mut().zip(probs).enumerate() {
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::DragValue::new(w)
                                    .range(0.0..=1.0)
                                    .speed(0.01)
                                    .max_decimals(2),
                            )
                            .labelled_by(l.id)
                            .on_hover_text(format!("weight of \"{}\" {name}", words[j]));
                            ui.weak(format!("→ {p:.2}"));
                        });
                    }
                    ui.end_row();
                };
                row(ui, "first word".into(), &mut s.trellis_start, &start_p);
                for (i, w) in words.iter().enumerate() {
                    if let Some(r) = s.trellis_next.get_mut(i) {
                        row(ui, format!("after \"{w}\""), r, &next_p[i]);
                    }
                }
            });
        // A row of zeros is uniform (Trellis::normalised), so any edit is a valid model.
        let g = greedy(&mut t, s.depth);
        let best = viterbi(&t, s.depth);
        let all = enumerate(&mut t, s.depth);
        let exhaustive = all.first().cloned().unwrap_or(best.clone());
        ui.add_space(4.0);
        ui.colored_label(
            crate::widgets::palette::readable_on(BLUE, ui.visuals().panel_fill),
            format!("Greedy:          {}", describe(&t, &g)),
        );
        ui.colored_label(
            crate::widgets::palette::readable_on(ORANGE, ui.visuals().panel_fill),
            format!(
                "Best sequence: {}   — the best of all {} sequences; Viterbi finds the same keeping only {} survivors per step",
                describe(&t, &exhaustive),
                all.len(),
                words.len()
            ),
        );
        if exhaustive.log_prob > g.log_prob + 1e-12 {
            ui.strong(format!(
                "Greedy loses: the best sequence is {:.2} times as probable as greedy's (log p higher by {:.3}).",
                (exhaustive.log_prob - g.log_prob).exp(),
                exhaustive.log_prob - g.log_prob
            ));
        } else {
            ui.strong("With these weights greedy finds the best sequence.");
        }
        legend_row(
            ui,
            &[
                entry("greedy's path", BLUE, Mark::Line),
                entry("best sequence", ORANGE, Mark::Line),
                entry("on both", GREEN, Mark::Line),
            ],
        );
        let survivors = viterbi_survivors(&t, s.depth);
        let (nodes, edges, headers) =
            diagram(&t, s.depth, &g.tokens, &exhaustive.tokens, &survivors);
        let rows = words.len();
        let row_h =
            (crate::widgets::layout::remaining_height(ui) / (rows as f32 + 0.6)).clamp(44.0, 90.0);
        path_diagram(
            ui,
            "decoding trellis",
            &headers,
            rows,
            row_h,
            &nodes,
            &edges,
        );
    }

    fn csv(&mut self, s: &DecodingSettings) -> String {
        let mut t = s.trellis();
        let all = enumerate(&mut t, s.depth);
        let mut cols: Vec<(&str, Vec<f64>)> = Vec::new();
        let names = ["word_1", "word_2", "word_3", "word_4"];
        for (k, name) in names.iter().enumerate().take(s.depth) {
            cols.push((name, all.iter().map(|h| h.tokens[k] as f64).collect()));
        }
        cols.push(("log_prob", all.iter().map(|h| h.log_prob).collect()));
        columns_csv(&cols)
    }
}

/// The trellis as nodes and edges: a start node, then every word at every step; every
/// transition drawn as thick as its probability; greedy's and the best path in colour.
fn diagram(
    t: &Trellis,
    depth: usize,
    greedy: &[usize],
    best: &[usize],
    survivors: &[Vec<Hypothesis>],
) -> (Vec<PathNode>, Vec<PathEdge>, Vec<String>) {
    let v = t.words.len();
    let start = t.start_probs();
    let next = t.next_probs();
    let mut headers = vec!["start".to_owned()];
    headers.extend((1..=depth).map(|k| format!("word {k}")));
    let mut nodes = vec![PathNode {
        col: 0,
        row: v / 2,
        label: "⟨start⟩".into(),
        sub: String::new(),
        hover: "Before the first word.".into(),
        style: NodeStyle::Kept,
        outline: None,
    }];
    let index = |step: usize, w: usize| 1 + step * v + w;
    let on = |path: &[usize], step: usize, w: usize| path.get(step) == Some(&w);
    for (step, column) in survivors.iter().enumerate().take(depth) {
        for (w, sv) in column.iter().enumerate() {
            let color = match (on(greedy, step, w), on(best, step, w)) {
                (true, true) => Some(GREEN),
                (true, false) => Some(BLUE),
                (false, true) => Some(ORANGE),
                _ => None,
            };
            nodes.push(PathNode {
                col: step + 1,
                row: w,
                label: t.words[w].clone(),
                sub: format!("best p {:.3}", sv.log_prob.exp()),
                hover: format!(
                    "Word {} = \"{}\". The most probable path ending here (Viterbi's survivor): {} with p = {:.4}, log p = {:.4}.",
                    step + 1,
                    t.words[w],
                    t.spell(&sv.tokens),
                    sv.log_prob.exp(),
                    sv.log_prob
                ),
                style: NodeStyle::Kept,
                outline: color,
            });
        }
    }
    let mut edges = Vec::new();
    let path_color = |step: usize, from: Option<usize>, to: usize| {
        let on_path = |path: &[usize]| {
            on(path, step, to) && from.is_none_or(|f| step > 0 && on(path, step - 1, f))
        };
        match (on_path(greedy), on_path(best)) {
            (true, true) => Some(GREEN),
            (true, false) => Some(BLUE),
            (false, true) => Some(ORANGE),
            _ => None,
        }
    };
    for (w, &p) in start.iter().enumerate() {
        let color = path_color(0, None, w);
        edges.push(PathEdge {
            from: 0,
            to: index(0, w),
            width: if color.is_some() {
                4.0
            } else {
                0.5 + 4.0 * p as f32
            },
            color,
            faded: false,
        });
    }
    for step in 1..depth {
        for (r, row) in next.iter().enumerate() {
            for (w, &p) in row.iter().enumerate() {
                let color = path_color(step, Some(r), w);
                edges.push(PathEdge {
                    from: index(step - 1, r),
                    to: index(step, w),
                    width: if color.is_some() {
                        4.0
                    } else {
                        0.5 + 4.0 * p as f32
                    },
                    color,
                    faded: color.is_none(),
                });
            }
        }
    }
    // Coloured edges last, on top.
    edges.sort_by_key(|e| e.color.is_some());
    (nodes, edges, headers)
}
