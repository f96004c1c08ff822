//! §1 "The lecture's demo": n Gaussian scores through softmax, then the same scores times a
//! factor (×100 in the lecture).

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart};

use super::fmt_scale;
use super::settings::SoftmaxSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::sharpness::{SoftmaxStats, gaussian_scores, softmax_stats};
use crate::widgets::Figure;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE};
use crate::widgets::plots::{Scale, labelled};

/// The section.
#[derive(Default)]
pub struct Demo;

fn stats_line(ui: &mut Ui, what: &str, s: &SoftmaxStats, n: usize) {
    ui.label(
        RichText::new(format!(
            "{what}: entropy {:.3} nats = {:.0} % of ln {n} · max weight {:.4} · effective tokens attended e^H = {:.2}",
            s.entropy,
            100.0 * s.entropy_fraction,
            s.max_weight,
            s.effective_tokens
        )),
    );
}

fn weight_bars(ui: &mut Ui, id: &str, name: &str, p: &[f32], color: Color32) {
    Figure::new(id)
        .x("score index i", Scale::Index)
        .y("weight p_i", Scale::Linear)
        .rows(ui, 1.6)
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |plot| {
            let bars = p
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    Bar::new(i as f64, f64::from(v))
                        .width(0.8)
                        .name(format!("p_{i} = {v:.4}"))
                })
                .collect();
            plot.bar_chart(BarChart::new(name, bars).color(color));
        });
}

impl Section<SoftmaxSettings> for Demo {
    fn title(&self) -> &'static str {
        "1. The lecture's demo"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut SoftmaxSettings, _ctx: &mut LessonContext) {
        ui.label("The lecture's demo: n Gaussian scores x through softmax, then the same vector multiplied by a factor. The softmax of x spreads its weight over several scores; multiplied by 100 the same scores put nearly all of it on the largest one.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "scores n", |ui| {
                ui.add(egui::Slider::new(&mut settings.n, 2..=64))
            });
            if ui
                .button("Reseed")
                .on_hover_text("Draw new Gaussian scores")
                .clicked()
            {
                settings.seed = settings.seed.wrapping_add(1);
            }
            ui.label(format!("seed {}", settings.seed));
            ui.separator();
            labelled(ui, "scale", |ui| {
                ui.add(egui::Slider::new(&mut settings.scale, 1.0..=100.0).logarithmic(true))
            });
            if ui.button("×1").clicked() {
                settings.scale = 1.0;
            }
            if ui
                .button("×100")
                .on_hover_text("The lecture's picture")
                .clicked()
            {
                settings.scale = 100.0;
            }
        });
        let x = gaussian_scores(settings.n, settings.seed);
        let scale = settings.scale as f32;
        let plain = softmax_stats(&x, 1.0);
        let sharp = softmax_stats(&x, scale);
        let n = settings.n;
        ui.columns(3, |cols| {
            cols[0].strong("The scores x_i ~ N(0, 1)");
            Figure::new("softmax_scores")
                .x("score index i", Scale::Index)
                .y("score x_i", Scale::Linear)
                .rows(&cols[0], 1.6)
                .show(&mut cols[0], |plot| {
                    let bars = x
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            Bar::new(i as f64, f64::from(v))
                                .width(0.8)
                                .name(format!("x_{i} = {v:.4}"))
                        })
                        .collect();
                    plot.bar_chart(BarChart::new("x", bars).color(GREY));
                });
            cols[1].strong("softmax(x)");
            weight_bars(&mut cols[1], "softmax_plain", "softmax(x)", &plain.p, BLUE);
            cols[2].strong(format!("softmax({} · x)", fmt_scale(f64::from(scale))));
            weight_bars(
                &mut cols[2],
                "softmax_scaled",
                "softmax(scale·x)",
                &sharp.p,
                ORANGE,
            );
        });
        stats_line(ui, "softmax(x)", &plain, n);
        stats_line(
            ui,
            &format!("softmax({}·x)", fmt_scale(f64::from(scale))),
            &sharp,
            n,
        );
        ui.label("Multiplying the scores by a constant is what an unscaled dot product does when the head size grows: the same ranking, but a far sharper distribution.");
    }

    fn csv(&mut self, s: &SoftmaxSettings) -> String {
        let x = gaussian_scores(s.n, s.seed);
        let plain = softmax_stats(&x, 1.0);
        let sharp = softmax_stats(&x, s.scale as f32);
        columns_csv(&[
            ("i", (0..s.n).map(|i| i as f64).collect()),
            ("x", x.iter().map(|&v| f64::from(v)).collect()),
            ("softmax", plain.p.iter().map(|&v| f64::from(v)).collect()),
            (
                "softmax_scaled",
                sharp.p.iter().map(|&v| f64::from(v)).collect(),
            ),
        ])
    }
}
