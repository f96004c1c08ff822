//! §2 "Read a position": the row r_p added to the token at position p, and each column read as
//! one "digit" over the positions.

use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Line, LineStyle, PlotPoints, Points, VLine};

use super::settings::PositionSettings;
use super::{TablesCache, maps, norm, size_controls, table_map, table_width};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::positions::tables;
use crate::widgets::export::matrix_csv;
use crate::widgets::layout::{FlowItem, flow};
use crate::widgets::palette::{GREY, SERIES as COLORS};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: the tables, cached by (T, d, base).
#[derive(Default)]
pub struct Read {
    tables: TablesCache,
}

impl Section<PositionSettings> for Read {
    fn title(&self) -> &'static str {
        "2. Read a position"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut PositionSettings, _ctx: &mut LessonContext) {
        ui.label("Pick a position p: its row r_p is the vector added to the token embedding x_p. Read down a column and you see one \"digit\" over positions: the sinusoids slow down column by column like the binary digits do.");
        size_controls(ui, settings);
        let max_p = settings.ctx - 1;
        ui.horizontal(|ui| {
            labelled(ui, "position p", |ui| {
                ui.add(egui::Slider::new(&mut settings.position, 0..=max_p))
            });
        });
        settings.position = settings.position.min(max_p);
        let t = self
            .tables
            .get((settings.ctx, settings.d, settings.base.to_bits()), |_| {
                tables(settings.ctx, settings.d, settings.base)
            });
        let p = settings.position;
        let bits: String = (0..t.bits)
            .rev()
            .map(|j| if (p >> j) & 1 == 1 { '1' } else { '0' })
            .collect();
        ui.label(RichText::new(format!("p = {p} = {bits}₂ (most significant bit on the left; the tables store bit 0 first). ‖r_p‖ of the sinusoidal row = √(d/2) = {:.3} for every p.", norm(t.sinusoidal.row(p)))));
        let height = crate::widgets::layout::plot_height(ui, 2.0);
        // (a)–(c), with the chosen row outlined ((d) is (a) again), then the row itself; on a
        // narrow window the row's figure goes below them.
        let table_maps = maps(t);
        let mut items: Vec<FlowItem<'_>> = table_maps
            .iter()
            .take(3)
            .map(|map| {
                let draw: Box<dyn FnOnce(&mut Ui)> =
                    Box::new(move |ui: &mut Ui| table_map(ui, map, height, t.version, Some(p)));
                // Narrower than on the tables' own page: here they only locate the row.
                (
                    table_width(map).min(if map.values.ncols() > 8 { 220.0 } else { 180.0 }),
                    draw,
                )
            })
            .collect();
        items.push((
            380.0,
            Box::new(move |ui: &mut Ui| {
                ui.strong(format!("r_{p}: the row added to x_{p}"));
                Figure::new("positions_row")
                    .x("dimension / bit index", Scale::Index)
                    .y("value", Scale::Linear)
                    .height(height)
                    .legend(vec![
                        entry("sinusoidal r_p", COLORS[0], Mark::Line),
                        entry("octave r_p", COLORS[1], Mark::Points),
                        entry("binary digits of p", COLORS[2], Mark::Bar),
                    ])
                    .include_y(-1.1)
                    .include_y(1.1)
                    .show(ui, |plot| {
                        let sin: PlotPoints = t
                            .sinusoidal
                            .row(p)
                            .iter()
                            .enumerate()
                            .map(|(j, &v)| [j as f64, f64::from(v)])
                            .collect();
                        plot.line(Line::new("sinusoidal r_p", sin).color(COLORS[0]).width(2.0));
                        let oct: PlotPoints = t
                            .octave
                            .row(p)
                            .iter()
                            .enumerate()
                            .map(|(j, &v)| [j as f64, f64::from(v)])
                            .collect();
                        plot.points(Points::new("octave r_p", oct).radius(4.0).color(COLORS[1]));
                        let bars = t
                            .binary
                            .row(p)
                            .iter()
                            .enumerate()
                            .map(|(j, &v)| Bar::new(j as f64, f64::from(v)).width(0.5))
                            .collect();
                        plot.bar_chart(BarChart::new("binary digits of p", bars).color(COLORS[2]));
                    });
            }),
        ));
        flow(ui, items);
        ui.columns(2, |cols| {
            cols[0].strong("Sinusoidal columns 0, 2, 4, 6 vs position (sin, falling frequency)");
            let legend = [0usize, 2, 4, 6]
                .iter()
                .enumerate()
                .filter(|(_, j)| **j < t.sinusoidal.ncols())
                .map(|(k, j)| entry(format!("column {j}"), COLORS[k], Mark::Line))
                .chain(std::iter::once(entry(format!("p = {p}"), GREY, Mark::Line)))
                .collect();
            Figure::new("positions_columns_sin")
                .x("position p", Scale::Index)
                .y("value", Scale::Linear)
                .rows(&cols[0], 2.0)
                .legend(legend)
                .show(&mut cols[0], |plot| {
                    for (k, j) in [0usize, 2, 4, 6].iter().enumerate() {
                        if *j < t.sinusoidal.ncols() {
                            let pts: PlotPoints = t
                                .sinusoidal
                                .column(*j)
                                .iter()
                                .enumerate()
                                .map(|(q, &v)| [q as f64, f64::from(v)])
                                .collect();
                            plot.line(Line::new(format!("column {j}"), pts).color(COLORS[k]));
                        }
                    }
                    plot.vline(VLine::new(format!("p = {p}"), p as f64).color(GREY));
                });
            cols[1].strong(
                "Octave sinusoids (lines) and binary digits as ±1 square waves (dashed), bits 0–3, each 3 below the last",
            );
            let mut legend: Vec<_> = COLORS
                .iter()
                .enumerate()
                .take(t.bits.min(4))
                .map(|(j, &c)| entry(format!("bit {j} (offset −{})", 3 * j), c, Mark::Line))
                .collect();
            legend.push(entry("binary digit as ±1", GREY, Mark::Dashed));
            Figure::new("positions_columns_oct")
                .x("position p", Scale::Index)
                .y("value (shifted)", Scale::Linear)
                .rows(&cols[1], 2.0)
                .legend(legend)
                .show(&mut cols[1], |plot| {
                    for (j, &color) in COLORS.iter().enumerate().take(t.bits.min(4)) {
                        let offset = -3.0 * j as f64;
                        let smooth: PlotPoints = (0..=(t.octave.nrows() - 1) * 8)
                            .map(|i| {
                                let q = i as f64 / 8.0;
                                [
                                    q,
                                    offset
                                        - (std::f64::consts::PI * (q + 0.5) / 2f64.powi(j as i32))
                                            .sin(),
                                ]
                            })
                            .collect();
                        plot.line(Line::new(format!("bit {j}"), smooth).color(color));
                        let square: PlotPoints = t
                            .binary_pm
                            .column(j)
                            .iter()
                            .enumerate()
                            .flat_map(|(q, &v)| {
                                [
                                    [q as f64 - 0.5, offset + f64::from(v)],
                                    [q as f64 + 0.5, offset + f64::from(v)],
                                ]
                            })
                            .collect();
                        plot.line(
                            Line::new(format!("bit {j}"), square)
                                .color(color)
                                .style(LineStyle::dashed_loose()),
                        );
                    }
                    plot.vline(VLine::new(format!("p = {p}"), p as f64).color(GREY));
                });
        });
    }

    fn csv(&mut self, s: &PositionSettings) -> String {
        let t = self.tables.get((s.ctx, s.d, s.base.to_bits()), |_| {
            tables(s.ctx, s.d, s.base)
        });
        let p = s.position.min(s.ctx - 1);
        matrix_csv(t.sinusoidal.slice(ndarray::s![p..p + 1, ..]), None, None)
    }
}
