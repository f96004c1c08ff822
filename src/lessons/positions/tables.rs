//! §1 "Tables": binary digits, Vaswani sinusoids, octave sinusoids and their threshold (which is
//! the binary digits again), and the bears model's learned table.

use egui::{RichText, Ui};

use super::settings::PositionSettings;
use super::{TablesCache, maps, size_controls, table_map, table_width};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::positions::tables;
use crate::pretrained::bears_shared;
use crate::widgets::export::matrix_csv;
use crate::widgets::layout::{FlowItem, flow};
use crate::widgets::palette::GREEN;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap};

/// The section: the tables, cached by (T, d, base).
#[derive(Default)]
pub struct TablesSection {
    tables: TablesCache,
}

impl Section<PositionSettings> for TablesSection {
    fn title(&self) -> &'static str {
        "1. Tables"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut PositionSettings, _ctx: &mut LessonContext) {
        ui.label("Rows are positions p = 0…T−1, columns are dimensions. (a) writes p in binary, least significant bit first: column 0 flips every step, column 1 every 2 steps, column j every 2^j — each column an octave lower. (c) replaces each square wave by a sinusoid of the same period; (d) thresholds (c) at 0 and gets (a) back exactly. (b) is the Transformer's formula, whose frequencies fall geometrically too, but by base^(2/d) per pair of columns instead of 2.");
        size_controls(ui, settings);
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "base", |ui| {
                ui.add(egui::Slider::new(&mut settings.base, 10.0..=100_000.0).logarithmic(true))
            });
            if ui.button("10000 (paper)").clicked() {
                settings.base = 10_000.0;
            }
        });
        let t = self
            .tables
            .get((settings.ctx, settings.d, settings.base.to_bits()), |_| {
                tables(settings.ctx, settings.d, settings.base)
            });
        let pre = bears_shared();
        let same = t.thresholded == t.binary;
        ui.label(
            RichText::new(if same {
                format!("(d) = (a) at all {} positions: the thresholded octave sinusoids are exactly the binary digits.", settings.ctx)
            } else {
                "(d) differs from (a) — this should never happen.".to_owned()
            })
            .color(if same { crate::widgets::palette::text(ui, GREEN) } else { ui.visuals().error_fg_color }),
        );
        // The tables wrap onto a second row on a narrow window.
        let height = crate::widgets::layout::plot_height(ui, 1.0);
        let mut items: Vec<FlowItem<'_>> = maps(t)
            .into_iter()
            .map(|map| {
                let w = table_width(&map);
                let draw: Box<dyn FnOnce(&mut Ui)> =
                    Box::new(move |ui: &mut Ui| table_map(ui, &map, height, t.version, None));
                (w, draw)
            })
            .collect();
        items.push((
            440.0,
            Box::new(move |ui: &mut Ui| match pre {
                Ok((model, _)) => {
                    let Some(wpe) = &model.params.wpe else {
                        ui.label("(e) learned: the bundled model has no learned position table.");
                        return;
                    };
                    let lim = wpe.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
                    ui.vertical(|ui| {
                        ui.strong("(e) learned (bears model)");
                        Heatmap::new("(e) learned (bears model)", wpe.view())
                            .axis_names("position", "dim")
                            .colormap(Colormap::Diverging)
                            .range(-lim, lim)
                            .max_size(egui::vec2(440.0, height))
                            .version(1)
                            .show(ui);
                        ui.label(format!(
                            "{} positions × {} dims: the context of the bundled model",
                            wpe.nrows(),
                            wpe.ncols()
                        ));
                    });
                }
                Err(e) => {
                    ui.label(format!(
                        "(e) learned: the bundled model could not be loaded ({e})."
                    ));
                }
            }),
        ));
        flow(ui, items);
    }

    fn csv(&mut self, s: &PositionSettings) -> String {
        let t = self.tables.get((s.ctx, s.d, s.base.to_bits()), |_| {
            tables(s.ctx, s.d, s.base)
        });
        let labels: Vec<String> = (0..s.ctx).map(|p| p.to_string()).collect();
        matrix_csv(t.sinusoidal.view(), Some(&labels), None)
    }
}
