//! The prompt as the model sees it (token chips, unknown words, the cut to the context) and the
//! next-token distribution with Generate.

use egui::{Color32, RichText, Ui};

use super::Live;
use crate::math::readout::{generate_next, top_next};
use crate::train::Snapshot;

impl Live {
    pub(super) fn prompt(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            let l = ui.strong("Prompt");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.prompt)
                    .char_limit(super::settings::ranges::PROMPT_CHARS)
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
        });
        ui.horizontal_wrapped(|ui| {
            for (piece, unknown) in self.view.pieces.iter().zip(&self.view.unknown) {
                let (fill, text) = if *unknown {
                    (ui.visuals().error_fg_color, Color32::WHITE)
                } else {
                    (
                        ui.visuals().selection.bg_fill,
                        ui.visuals().strong_text_color(),
                    )
                };
                egui::Frame::new()
                    .fill(fill)
                    .corner_radius(6)
                    .inner_margin(egui::Margin::symmetric(6, 2))
                    .show(ui, |ui| {
                        ui.label(RichText::new(piece).color(text).size(15.0));
                    });
            }
        });
        let unknown: Vec<&str> = self
            .view
            .pieces
            .iter()
            .zip(&self.view.unknown)
            .filter(|(_, u)| **u)
            .map(|(p, _)| p.as_str())
            .collect();
        if !unknown.is_empty() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!(
                    "Not in the vocabulary: {} — the model skips these; the vocabulary has {} tokens (hover for the list).",
                    unknown.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", "),
                    snap.tokenizer.len()
                ),
            )
            .on_hover_text(snap.tokenizer.vocab().join(" "));
        }
        if self.view.cut > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "The prompt is longer than the context ({} tokens): the first {} are cut.",
                    snap.gpt.config.block_size, self.view.cut
                ),
            );
        }
    }

    pub(super) fn next_token(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.strong("Next token");
            let l = ui.label("temperature");
            let (lo, hi) = super::settings::ranges::TEMPERATURE;
            ui.add(egui::Slider::new(&mut self.settings.temperature, lo..=hi))
                .labelled_by(l.id);
        });
        if self.analysis.last_logits.is_empty() {
            ui.label("Type a prompt of known tokens.");
            return;
        }
        let top = top_next(
            &snap.tokenizer,
            &self.analysis.last_logits,
            self.settings.temperature,
            self.settings.top_k,
        );
        next_token_bars(ui, &top);
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut self.settings.greedy, true, "greedy");
            ui.radio_value(&mut self.settings.greedy, false, "sampled");
            if !self.settings.greedy {
                let l = ui.label("seed");
                ui.add(egui::DragValue::new(&mut self.settings.sample_seed))
                    .labelled_by(l.id);
            }
            if ui
                .button("Generate")
                .on_hover_text("Append the next token to the prompt")
                .clicked()
            {
                let next = generate_next(
                    &snap.tokenizer,
                    &self.analysis.last_logits,
                    self.settings.temperature,
                    self.settings.greedy,
                    self.settings.sample_seed,
                );
                if let Some(tok) = next {
                    self.settings.prompt = format!("{} {tok}", self.settings.prompt.trim_end());
                    self.settings.sample_seed = self.settings.sample_seed.wrapping_add(1);
                }
            }
        });
    }
}

/// The top next tokens as a bar list: token, bar, percentage — readable from the back row.
fn next_token_bars(ui: &mut Ui, top: &[(String, f32)]) {
    let font = egui::FontId::proportional(15.0);
    let text = ui.visuals().text_color();
    let bar_color = crate::widgets::Colormap::Viridis.at(0.6);
    let width = ui.available_width().clamp(200.0, 520.0);
    for (token, p) in top {
        let (rect, resp) = ui.allocate_exact_size(egui::vec2(width, 22.0), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let label_w = 90.0;
        painter.text(
            rect.left_center() + egui::vec2(label_w - 6.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            token,
            font.clone(),
            text,
        );
        let bar_max = rect.width() - label_w - 70.0;
        let bar = egui::Rect::from_min_size(
            rect.left_top() + egui::vec2(label_w, 3.0),
            egui::vec2((bar_max * p.clamp(0.0, 1.0)).max(1.0), rect.height() - 6.0),
        );
        painter.rect_filled(bar, 3.0, bar_color);
        painter.text(
            bar.right_center() + egui::vec2(6.0, 0.0),
            egui::Align2::LEFT_CENTER,
            format!("{:.1} %", 100.0 * p),
            font.clone(),
            text,
        );
        resp.on_hover_text(format!("p(next = \"{token}\") = {p:.4}"));
    }
}
