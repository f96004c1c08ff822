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
        ui.horizontal_wrapped(|ui| {
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
        ui.horizontal_wrapped(|ui| {
            ui.strong("Attention: rows = queries, columns = keys");
            ui.checkbox(&mut self.settings.show_scores, "pre-softmax scores")
                .on_hover_text("QKᵀ/√d before the softmax; masked (future) keys are −∞");
            ui.checkbox(&mut self.settings.head_average, "average over heads");
        });
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
        let mut clicked = None;
        egui::Grid::new("live_attention_grid")
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                for (l, layer) in maps.iter().enumerate() {
                    if self.settings.head_average {
                        let avg = average(layer);
                        ui.vertical(|ui| {
                            ui.label(format!("layer {} · mean of {} heads", l + 1, layer.len()));
                            let mut h = Heatmap::new(
                                format!("attention layer {} average", l + 1),
                                avg.view(),
                            )
                            .labels(Some(&labels), Some(&labels))
                            .axis_names("query", "key")
                            .colormap(cmap)
                            .causal(causal)
                            .max_size(egui::vec2(180.0, 180.0))
                            .colorbar(false);
                            if !self.settings.show_scores {
                                h = h.range(0.0, 1.0);
                            }
                            h.show(ui);
                        });
                    } else {
                        for (hh, map) in layer.iter().enumerate() {
                            ui.vertical(|ui| {
                                let sel = l == self.settings.selected_layer
                                    && hh == self.settings.selected_head;
                                let title = format!("layer {} head {}", l + 1, hh + 1);
                                ui.label(if sel {
                                    RichText::new(&title).strong()
                                } else {
                                    RichText::new(&title)
                                });
                                let mut h = Heatmap::new(format!("attention {title}"), map.view())
                                    .labels(Some(&labels), Some(&labels))
                                    .axis_names("query", "key")
                                    .colormap(cmap)
                                    .causal(causal)
                                    .max_size(egui::vec2(130.0, 130.0))
                                    .colorbar(false);
                                if !self.settings.show_scores {
                                    h = h.range(0.0, 1.0);
                                }
                                if h.show(ui).response.clicked() {
                                    clicked = Some((l, hh));
                                }
                            });
                        }
                    }
                    ui.end_row();
                }
            });
        if let Some((l, h)) = clicked {
            self.settings.selected_layer = l;
            self.settings.selected_head = h;
        }
        if !self.settings.head_average
            && let Some(map) = maps
                .get(self.settings.selected_layer)
                .and_then(|m| m.get(self.settings.selected_head))
        {
            ui.add_space(6.0);
            ui.strong(format!(
                "layer {} head {} (click a thumbnail to enlarge it)",
                self.settings.selected_layer + 1,
                self.settings.selected_head + 1
            ));
            let mut h = Heatmap::new("attention enlarged", map.view())
                .labels(Some(&labels), Some(&labels))
                .axis_names("query", "key")
                .colormap(cmap)
                .causal(causal)
                .max_size(egui::vec2(420.0, 420.0));
            if !self.settings.show_scores {
                h = h.range(0.0, 1.0);
            }
            h.show(ui);
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
