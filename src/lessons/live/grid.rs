//! The attention maps of every layer × head for the prompt (weights or pre-softmax scores, per
//! head or averaged), a replay of how they formed during training, and one map enlarged.

use egui::{RichText, Ui};
use ndarray::Array2;

use super::Live;
use crate::train::Snapshot;
use crate::widgets::{Colormap, Heatmap};

impl Live {
    pub(super) fn attention_grid(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let frames = &snap.probe.1;
        let probe_matches = snap.probe.0 == self.view.ids && !frames.is_empty();
        ui.add(
            egui::Label::new(RichText::new(
                "Attention of every layer × head: rows = queries, columns = keys, in the prompt's order. Click a map to enlarge it.",
            ).strong())
            .wrap(),
        );
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.settings.show_scores, "pre-softmax scores")
                .on_hover_text("QKᵀ/√d before the softmax; masked (future) keys are −∞");
            ui.checkbox(&mut self.settings.head_average, "average over heads");
            ui.add_enabled(
                probe_matches,
                egui::Checkbox::new(&mut self.settings.replay, "replay training"),
            )
            .on_hover_text("Show the attention recorded every few steps while the model trained");
            if probe_matches && self.settings.replay {
                let last = frames.len() - 1;
                self.settings.replay_frame = self.settings.replay_frame.min(last);
                let l = ui.label("recorded frame");
                ui.add(
                    egui::Slider::new(&mut self.settings.replay_frame, 0..=last).show_value(false),
                )
                .labelled_by(l.id);
                ui.label(format!(
                    "step {} (recorded)",
                    frames[self.settings.replay_frame].step
                ));
            }
        });
        let replayed = (probe_matches && self.settings.replay && !self.settings.show_scores)
            .then(|| {
                frames
                    .get(self.settings.replay_frame)
                    .map(|f| f.attention.clone())
            })
            .flatten();
        let maps = match &replayed {
            Some(r) => r,
            None if self.settings.show_scores => &self.analysis.scores,
            None => &self.analysis.attention,
        };
        if maps.is_empty() {
            return;
        }
        let labels = self.view.labels.clone();
        let cmap = if self.settings.show_scores {
            Colormap::Diverging
        } else {
            Colormap::Viridis
        };
        let causal = !self.settings.show_scores && snap.gpt.config.causal;
        let weights = !self.settings.show_scores;
        // The colour range every map shares (weights 0–1; scores: the finite range of all).
        let (lo, hi) = if weights {
            (0.0, 1.0)
        } else {
            let m = maps
                .iter()
                .flatten()
                .flat_map(|m| m.iter())
                .filter(|v| v.is_finite())
                .fold(0.0_f32, |a, v| a.max(v.abs()));
            (-m.max(1e-6), m.max(1e-6))
        };
        let layers = maps.len();
        let heads = if self.settings.head_average {
            1
        } else {
            maps[0].len()
        };
        // The maps take what is left of the screen below this point.
        let height = crate::widgets::layout::remaining_height(ui).max(160.0);
        if self.settings.enlarged && !self.settings.head_average {
            if ui.button("◀ All heads").clicked() {
                self.settings.enlarged = false;
            }
            let (l, h) = (self.settings.selected_layer, self.settings.selected_head);
            let Some(map) = maps.get(l).and_then(|m| m.get(h)) else {
                self.settings.enlarged = false;
                return;
            };
            ui.strong(format!("layer {} head {}", l + 1, h + 1));
            let side = ui.available_width().min(height - 40.0).max(200.0);
            let mut hm = Heatmap::new("attention enlarged", map.view())
                .labels(Some(&labels), Some(&labels))
                .axis_names("query", "key")
                .colormap(cmap)
                .causal(causal)
                .max_cell(120.0)
                .max_size(egui::vec2(side, side));
            hm = hm.range(lo, hi);
            hm.show(ui);
            return;
        }
        // Thumbnails: as large as the space allows, one row per layer, one shared colour bar.
        let bar = crate::widgets::heatmap::colorbar_width(ui, lo, hi, 3)
            + 2.0 * ui.spacing().item_spacing.x;
        let gap = 10.0;
        let title = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let by_width = (ui.available_width() - bar - gap * heads as f32) / heads as f32;
        let by_height = (height - 8.0) / layers as f32 - title - gap;
        let side = by_width.min(by_height).clamp(48.0, 360.0);
        let mut clicked = None;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                for (l, layer) in maps.iter().enumerate() {
                    ui.horizontal_top(|ui| {
                        if self.settings.head_average {
                            let avg = average(layer);
                            ui.vertical(|ui| {
                                ui.label(format!(
                                    "layer {} · mean of {} heads",
                                    l + 1,
                                    layer.len()
                                ));
                                Heatmap::new(
                                    format!("attention layer {} average", l + 1),
                                    avg.view(),
                                )
                                .labels(Some(&labels), Some(&labels))
                                .axis_names("query", "key")
                                .colormap(cmap)
                                .causal(causal)
                                .range(lo, hi)
                                .hide_axis_labels()
                                .colorbar(false)
                                .max_size(egui::vec2(side, side))
                                .show(ui);
                            });
                        } else {
                            for (hh, map) in layer.iter().enumerate() {
                                ui.vertical(|ui| {
                                    let title = format!("layer {} head {}", l + 1, hh + 1);
                                    // A title never wider than its map (it would widen the
                                    // column): "L1 H2" when "layer 1 head 2" does not fit.
                                    let font = egui::TextStyle::Body.resolve(ui.style());
                                    let wide = ui
                                        .painter()
                                        .layout_no_wrap(title.clone(), font, egui::Color32::WHITE)
                                        .size()
                                        .x;
                                    let shown = if wide <= side {
                                        title.clone()
                                    } else {
                                        format!("L{} H{}", l + 1, hh + 1)
                                    };
                                    ui.label(RichText::new(shown));
                                    let r = Heatmap::new(format!("attention {title}"), map.view())
                                        .labels(Some(&labels), Some(&labels))
                                        .axis_names("query", "key")
                                        .colormap(cmap)
                                        .causal(causal)
                                        .range(lo, hi)
                                        .hide_axis_labels()
                                        .colorbar(false)
                                        .max_size(egui::vec2(side, side))
                                        .show(ui);
                                    if r.response.clicked() {
                                        clicked = Some((l, hh));
                                    }
                                });
                            }
                        }
                    });
                }
            });
            let name = if weights {
                "attention weight"
            } else {
                "score QKᵀ/√d"
            };
            crate::widgets::heatmap::colorbar(
                ui,
                name,
                cmap,
                lo,
                hi,
                (side * layers as f32).min(height - 60.0),
            );
        });
        if let Some((l, h)) = clicked {
            self.settings.selected_layer = l;
            self.settings.selected_head = h;
            self.settings.enlarged = true;
        }
    }
}

fn average(maps: &[Array2<f32>]) -> Array2<f32> {
    let mut out = maps
        .first()
        .map(|m| Array2::zeros(m.dim()))
        .unwrap_or_else(|| Array2::zeros((0, 0)));
    for m in maps {
        out += m;
    }
    out / maps.len().max(1) as f32
}
