//! §2 "Parameter-free attention": S = c·XXᵀ, A = softmax(S), X̂ = AX, and each token's move
//! x_i → x̂_i on the plane, with its helpers linked as thick as their weights. What the scale c
//! changes (how sharp) and what it cannot (the symmetry of S, the order within each row).

use egui::Ui;

use super::settings::AttentionSettings;
use super::view::{Dot, Link, Move, model_picker, plane, sentence_picker, token_color};
use super::{bears_at, embed, vocabulary};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::attention::{asymmetry, diagonal_wins, simple_attention};
use crate::widgets::export::matrix_csv;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap, Mark, entry, layout};

/// The section.
pub struct SimpleSection;

impl Section<AttentionSettings> for SimpleSection {
    fn title(&self) -> &'static str {
        "2. Attention without parameters"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut AttentionSettings, _ctx: &mut LessonContext) {
        ui.label("The simplest self-attention has no parameters: S = c·XXᵀ scores every token against every token (a dot product: how similar they are), softmax turns each row into weights in [0, 1] that sum to 1 — the tokens compete to help — and X′ = AX (the lecture's \"X hat\") moves token i to x′_i = Σ_j a_ij x_j, a blend of the others and of itself (\"self\").");
        sentence_picker(ui, s, true);
        ui.horizontal_wrapped(|ui| {
            model_picker(ui, s, true);
            labelled(ui, "scale c", |ui| {
                ui.add(egui::Slider::new(&mut s.scale, 0.05..=5.0).logarithmic(true))
            });
        });
        let vocab = match vocabulary(s.model) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let (words, x) = match embed(vocab, &s.sentence.text(&s.prompt)) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let a = simple_attention(&x, s.scale);
        let t = words.len();
        let focus = bears_at(&words).unwrap_or(0);
        let keep = a.weights[[focus, focus]];
        let helper = (0..t)
            .filter(|&j| j != focus)
            .max_by(|&p, &q| a.weights[[focus, p]].total_cmp(&a.weights[[focus, q]]));
        let helper = helper.map_or(String::new(), |j| {
            format!(
                ", its biggest helper \"{}\" {:.2}",
                words[j],
                a.weights[[focus, j]]
            )
        });
        ui.label(format!(
            "Why this is not enough: S is symmetric — max |S_ij − S_ji| = {} (exactly: x_i·x_j and x_j·x_i are the same products) — and nothing in it can learn: where x′_i lands is fixed by the embeddings. In {} of {t} rows the largest score is the token's own, ‖x_i‖². \"{}\" keeps {:.2} of its weight on itself{helper}. The scale c sharpens or flattens every row but cannot change the order within a row, nor the symmetry.",
            asymmetry(&a.scores),
            diagonal_wins(&a.scores),
            words[focus],
            keep
        ));
        let (min_s, max_s) = a
            .scores
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let lim = min_s.abs().max(max_s.abs()).max(1e-6);
        let side = layout::plot_height(ui, 1.3);
        layout::grid(ui, 3, 300.0, |ui, i| match i {
            0 => {
                ui.strong("S = c·XXᵀ (symmetric)");
                Heatmap::new("scores S = cXXᵀ", a.scores.view())
                    .labels(Some(&words), Some(&words))
                    .axis_names("token i", "token j")
                    .colormap(Colormap::Diverging)
                    .range(-lim, lim)
                    .decimals(2)
                    .max_size(egui::vec2(ui.available_width(), side))
                    .show(ui);
            }
            1 => {
                ui.strong("A = softmax(S), row by row");
                Heatmap::new("weights A = softmax(S)", a.weights.view())
                    .labels(Some(&words), Some(&words))
                    .axis_names("token i", "helper j")
                    .range(0.0, 1.0)
                    .decimals(2)
                    .max_size(egui::vec2(ui.available_width(), side))
                    .show(ui);
            }
            _ => {
                ui.strong(format!("Each token moves x_i → x′_i; \"{}\" lands on the filled dot, linked to its helpers", words[focus]));
                let xy = vocab.pca.project_rows(&x);
                let xy_hat = vocab.pca.project_rows(&a.x_hat);
                let links: Vec<Link> = (0..t)
                    .filter(|&j| j != focus)
                    .map(|j| Link {
                        name: format!(
                            "a({}, {}) = {:.3}",
                            words[focus],
                            words[j],
                            a.weights[[focus, j]]
                        ),
                        from: xy[focus],
                        to: xy[j],
                        weight: a.weights[[focus, j]],
                    })
                    .collect();
                let moves: Vec<Move> = (0..t)
                    .map(|i| Move {
                        name: format!("{}: x → x′", words[i]),
                        from: xy[i],
                        to: xy_hat[i],
                        color: token_color(i),
                    })
                    .collect();
                let mut dots: Vec<Dot> = (0..t)
                    .map(|i| Dot {
                        label: words[i].clone(),
                        xy: xy[i],
                        color: token_color(i),
                        filled: false,
                    })
                    .collect();
                dots.push(Dot {
                    label: String::new(),
                    xy: xy_hat[focus],
                    color: token_color(focus),
                    filled: true,
                });
                let [e1, e2] = vocab.pca.explained;
                let axes = [
                    format!("principal axis 1 ({:.0} %)", 100.0 * e1),
                    format!("principal axis 2 ({:.0} %)", 100.0 * e2),
                ];
                plane(
                    ui,
                    "attention_simple_plane",
                    [&axes[0], &axes[1]],
                    1.3,
                    &[],
                    &links,
                    &moves,
                    &dots,
                    vec![
                        entry("x_i (hollow) → x′_i", token_color(focus), Mark::Line),
                        entry(
                            "line width: weight a",
                            ui.visuals().text_color(),
                            Mark::Line,
                        ),
                    ],
                );
            }
        });
    }

    fn csv(&mut self, s: &AttentionSettings) -> String {
        let Ok(vocab) = vocabulary(s.model) else {
            return String::new();
        };
        match embed(vocab, &s.sentence.text(&s.prompt)) {
            Ok((words, x)) => {
                let a = simple_attention(&x, s.scale);
                matrix_csv(a.weights.view(), Some(&words), Some(&words))
            }
            Err(_) => String::new(),
        }
    }
}
