//! §3 "Similarity": r_i · r_j for every pair of positions, for each encoding.

use egui::Ui;
use egui_plot::{Line, PlotPoints, VLine};
use ndarray::Array2;

use super::settings::PositionSettings;
use super::{TablesCache, sim_map, size_controls};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::positions::{similarity, tables, toeplitz_deviation};
use crate::pretrained::bears_shared;
use crate::widgets::export::matrix_csv;
use crate::widgets::palette::{GREY, SERIES as COLORS};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: the tables, cached by (T, d, base), and the learned table's similarity.
#[derive(Default)]
pub struct Similarity {
    tables: TablesCache,
    learned: Option<Option<Array2<f32>>>,
}

impl Section<PositionSettings> for Similarity {
    fn title(&self) -> &'static str {
        "3. Similarity"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut PositionSettings, _ctx: &mut LessonContext) {
        ui.label("r_i · r_j for every pair of positions. Sinusoids: each frequency has a sine and a cosine, and sin a sin b + cos a cos b = cos(a − b), so r_i·r_j = Σ_k cos(ω_k (i − j)) depends only on the distance i − j, exactly — a Toeplitz matrix, constant along every diagonal — so attention can learn relative offsets. Binary (as ±1): r_i·r_j = bits − 2·Hamming(i, j), a blocky fractal — positions that differ in one high bit look alike.");
        size_controls(ui, settings);
        let t = self
            .tables
            .get((settings.ctx, settings.d, settings.base.to_bits()), |_| {
                tables(settings.ctx, settings.d, settings.base)
            });
        ui.label(format!(
            "Toeplitz check, max |r_i·r_j − r_0·r_|i−j|| over all pairs: sinusoidal {:.1e} (float32 rounding), binary ±1 {}.",
            toeplitz_deviation(&t.sim_sinusoidal),
            toeplitz_deviation(&t.sim_binary)
        ));
        let learned = self.learned.get_or_insert_with(|| {
            bears_shared()
                .ok()
                .and_then(|(m, _)| m.params.wpe.as_ref())
                .map(similarity)
        });
        // Every row's self-similarity ‖r_p‖² is the largest value: d/2 (sinusoidal), bits (binary).
        let d = settings.d as f32 / 2.0;
        let b = t.bits as f32;
        // Four maps, each with its colour bar (their scales differ), as many to a row as fit.
        let lim_oct = t.sim_octave.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        let mut maps: Vec<(&str, &Array2<f32>, f32, u64)> = vec![
            ("similarity: sinusoidal", &t.sim_sinusoidal, d, t.version),
            ("similarity: binary ±1", &t.sim_binary, b, t.version),
            ("similarity: octave", &t.sim_octave, lim_oct, t.version),
        ];
        if let Some(l) = learned.as_ref() {
            let lim = l.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            maps.push(("similarity: learned (bears)", l, lim, 1));
        }
        let height = crate::widgets::layout::plot_height(ui, 1.5).min(360.0);
        crate::widgets::layout::grid(ui, maps.len(), 260.0, |ui, i| {
            let (title, m, lim, version) = maps[i];
            let size = egui::vec2(ui.available_width(), height);
            sim_map(ui, title, m, lim, version, size);
        });
        let p = settings.position.min(settings.ctx - 1);
        ui.horizontal(|ui| {
            let max_p = settings.ctx - 1;
            labelled(ui, "position p", |ui| {
                ui.add(egui::Slider::new(&mut settings.position, 0..=max_p))
            });
        });
        ui.strong(format!(
            "Row p = {p}: r_p · r_j against j, normalised by the largest value"
        ));
        Figure::new("positions_similarity_row")
            .x("position j", Scale::Index)
            .y("r_p·r_j / max", Scale::Linear)
            .rows(ui, 2.0)
            .legend(vec![
                entry("sinusoidal", COLORS[0], Mark::Line),
                entry("binary ±1", COLORS[1], Mark::Line),
                entry(format!("p = {p}"), GREY, Mark::Line),
            ])
            .show(ui, |plot| {
                for (k, (name, m, scale)) in [
                    ("sinusoidal", &t.sim_sinusoidal, d),
                    ("binary ±1", &t.sim_binary, b),
                ]
                .into_iter()
                .enumerate()
                {
                    let pts: PlotPoints = m
                        .row(p)
                        .iter()
                        .enumerate()
                        .map(|(j, &v)| [j as f64, f64::from(v / scale)])
                        .collect();
                    plot.line(Line::new(name, pts).color(COLORS[k]).width(2.0));
                }
                plot.vline(VLine::new("p", p as f64).color(GREY));
            });
    }

    fn csv(&mut self, s: &PositionSettings) -> String {
        let t = self.tables.get((s.ctx, s.d, s.base.to_bits()), |_| {
            tables(s.ctx, s.d, s.base)
        });
        let labels: Vec<String> = (0..s.ctx).map(|p| p.to_string()).collect();
        matrix_csv(t.sim_sinusoidal.view(), Some(&labels), Some(&labels))
    }
}
