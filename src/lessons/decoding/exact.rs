//! §3 "Exact vs beam": the log-probability of the best sequence beam search finds against the
//! beam width, next to the exact optimum — on the trellis of §1 (Viterbi) and on the model over a
//! short horizon (branch and bound over every sequence). The model's curve is computed off the
//! UI thread, or in pieces between frames without one (`CurveJob`).

use egui::Ui;
use egui_plot::{HLine, Line, LineStyle, Points};

use super::settings::{DecodingSettings, MAX_BEAM, MAX_HORIZON};
use super::{CurveJob, EXACT_BUDGET, ExactCurve, model_curve, spell, trellis_curve};
use crate::lessons::common::background::{Background, Steps};
use crate::lessons::lesson::{LessonContext, Section};
use crate::widgets::export::columns_csv;
use crate::widgets::file_dialog::FileDialog;
use crate::widgets::layout;
use crate::widgets::palette::{GREY, SERIES};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

type CurveKey = (Option<String>, String, usize);

/// The section.
#[derive(Default)]
pub struct ExactVsBeam {
    model: Background<CurveKey, Result<(ExactCurve, Vec<String>), String>>,
    dialog: Option<FileDialog>,
}

/// A whole number with thousands separators: 2313441 → "2,313,441".
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The first width whose best equals the optimum (to 1e-9), if any.
pub fn reaches(c: &ExactCurve) -> Option<usize> {
    let opt = c.exact.as_ref()?.best.log_prob;
    c.widths
        .iter()
        .zip(&c.found)
        .find(|(_, f)| **f >= opt - 1e-9)
        .map(|(w, _)| *w)
}

fn curve_figure(ui: &mut Ui, id: &str, c: &ExactCurve, color: egui::Color32) {
    let pts: Vec<[f64; 2]> = c
        .widths
        .iter()
        .zip(&c.found)
        .map(|(&w, &f)| [w as f64, f])
        .collect();
    let opt = c.exact.as_ref().map(|e| e.best.log_prob);
    let lo = c
        .found
        .iter()
        .copied()
        .chain(opt)
        .fold(f64::INFINITY, f64::min);
    let hi = c
        .found
        .iter()
        .copied()
        .chain(opt)
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.15).max(0.05);
    Figure::new(id)
        .x("beam width W", Scale::Index)
        .y("best log p found", Scale::Linear)
        .height((layout::remaining_height(ui) - 44.0).clamp(150.0, 480.0))
        .include_x(0.5)
        .include_x(c.widths.len() as f64 + 0.5)
        .include_y(lo - pad)
        .include_y(hi + pad)
        .legend(vec![
            entry("beam search's best", color, Mark::Points),
            entry("exact optimum", GREY, Mark::Dashed),
        ])
        .show(ui, |p| {
            p.line(
                Line::new("beam search's best", pts.clone())
                    .color(color)
                    .width(1.5),
            );
            p.points(
                Points::new("beam search's best ", pts)
                    .radius(4.5)
                    .color(color),
            );
            if let Some(o) = opt {
                p.hline(
                    HLine::new("exact optimum", o)
                        .color(GREY)
                        .style(LineStyle::dashed_loose())
                        .width(2.0),
                );
            }
        });
}

impl Section<DecodingSettings> for ExactVsBeam {
    fn title(&self) -> &'static str {
        "3. Exact vs beam"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut DecodingSettings, _ctx: &mut LessonContext) {
        ui.label("How wide must the beam be? For each width W, the log-probability of the best sequence beam search returns (no length normalisation: this is the likelihood MLSE maximises), against the exact optimum. A wider beam usually finds a sequence at least as good, but not always (beam search is not monotone in W); the optimum is certain only when nothing is pruned before the last step.");
        super::beam::model_line(ui, s, &mut self.dialog);
        ui.horizontal_wrapped(|ui| {
            let l = ui.strong("Prompt");
            ui.add(
                egui::TextEdit::singleline(&mut s.prompt)
                    .desired_width(220.0)
                    .char_limit(2000),
            )
            .labelled_by(l.id);
            labelled(ui, "model horizon (tokens)", |ui| {
                ui.add(egui::Slider::new(&mut s.horizon, 1..=MAX_HORIZON))
            });
            labelled(ui, "trellis words", |ui| {
                ui.add(egui::Slider::new(
                    &mut s.depth,
                    1..=super::settings::MAX_DEPTH,
                ))
            });
        });
        let trellis = trellis_curve(s);
        let key: CurveKey = (s.checkpoint.clone(), s.prompt.clone(), s.horizon);
        // In pieces (the exact search a few prefixes at a time, then a width at a time), so
        // that without a thread the page keeps drawing.
        let (model, fresh) = self
            .model
            .get_in_steps(&key, ui.ctx(), |(c, p, h)| -> Steps<_> {
                match CurveJob::new(c.as_deref(), &p, h, MAX_BEAM) {
                    Ok(mut job) => Box::new(move || job.advance().map(Ok)),
                    Err(e) => {
                        let mut e = Some(Err(e));
                        Box::new(move || e.take())
                    }
                }
            });
        layout::grid(ui, 2, 360.0, |ui, i| {
            if i == 0 {
                let t = s.trellis();
                let v = t.words.len();
                ui.strong(format!("The trellis of §1 ({} words)", s.depth));
                if let Some(e) = &trellis.exact {
                    ui.label(format!(
                        "Optimum {} (log p = {:.3}), by Viterbi. A width of V^(n−1) = {} or more never prunes before the last step.",
                        t.spell(&e.best.tokens),
                        e.best.log_prob,
                        v.pow(s.depth.saturating_sub(1) as u32)
                    ));
                }
                ui.label(match reaches(&trellis) {
                    Some(1) => "Greedy (W = 1) already finds it.".to_owned(),
                    Some(w) => {
                        format!("Beam search finds it from W = {w}; narrower beams miss it.")
                    }
                    None => "No width shown finds it.".to_owned(),
                });
                curve_figure(ui, "decoding_exact_trellis", &trellis, SERIES[0]);
            } else {
                ui.strong(format!("The model, {} tokens after the prompt", s.horizon));
                match model {
                    None => {
                        ui.label("Searching every sequence…");
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    Some(Ok((c, vocab))) => {
                        if !fresh {
                            ui.weak("Recomputing for the new settings…");
                        }
                        match &c.exact {
                            Some(e) => ui.label(format!(
                                "Optimum \"{}\" (log p = {:.3}), exact by branch and bound: {} prefixes through the model instead of every one of up to {} sequences.",
                                spell(vocab, &e.best.tokens),
                                e.best.log_prob,
                                e.calls,
                                thousands(e.sequences)
                            )),
                            None => ui.label(format!(
                                "Not enumerable here: the exact search needed more than {EXACT_BUDGET} prefixes. Shorten the horizon."
                            )),
                        };
                        ui.label(match reaches(c) {
                            Some(1) => "Greedy (W = 1) already finds it.".to_owned(),
                            Some(w) => format!("Beam search finds it from W = {w}."),
                            None if c.exact.is_some() => {
                                format!("No width up to {MAX_BEAM} finds it.")
                            }
                            None => String::new(),
                        });
                        curve_figure(ui, "decoding_exact_model", c, SERIES[1]);
                    }
                }
            }
        });
    }

    fn csv(&mut self, s: &DecodingSettings) -> String {
        let t = trellis_curve(s);
        let mut found = vec![f64::NAN; MAX_BEAM.max(t.widths.len())];
        if let Ok((m, _)) = model_curve(s.checkpoint.as_deref(), &s.prompt, s.horizon, MAX_BEAM) {
            for (i, f) in m.found.iter().enumerate() {
                found[i] = *f;
            }
        }
        let n = found.len();
        let mut trellis = vec![f64::NAN; n];
        for (i, f) in t.found.iter().enumerate() {
            trellis[i] = *f;
        }
        columns_csv(&[
            ("beam_width", (1..=n).map(|w| w as f64).collect()),
            ("trellis_best_log_prob", trellis),
            ("model_best_log_prob", found),
        ])
    }
}
