//! Lesson "Positional encodings: sinusoids as analog binary digits".
//!
//! Binary position digits flip fastest in the first column and an octave slower in each next one;
//! sinusoids whose frequency halves per column are their analog version — thresholded at 0 they
//! give the digits back. The vectors are added to the token embeddings, and without them the
//! transformer cannot tell order: shuffle the tokens and the outputs are the same rows shuffled.
//! Tables: `model::position`; the permutation demo runs `model::gpt` on a random encoder.

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, LineStyle, Plot, PlotPoints, Points, Text, VLine};
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::background::Cached;
use super::{Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::data::Tokenizer;
use crate::model::gpt::{Activations, Gpt, gpt_forward, prompt_attention};
use crate::model::position::{
    binary, binary_digits, bits_for, octave, similarity, sinusoidal, threshold,
};
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::widgets::export::matrix_csv;
use crate::widgets::plots::{hover, labelled, section_tabs};
use crate::widgets::{Colormap, Heatmap};

const SECTIONS: [&str; 5] = [
    "1. Tables",
    "2. Read a position",
    "3. Similarity",
    "4. Add or concatenate",
    "5. Order needs positions",
];
const COLORS: [Color32; 4] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
];

/// The lesson's persisted settings (also `attention-lab data positions --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PositionSettings {
    /// The open section (0…4).
    pub section: usize,
    /// Positions T (2…256).
    pub ctx: usize,
    /// Width d of the sinusoidal table (2…128, even).
    pub d: usize,
    /// The sinusoids' base (10…100000; 10000 in the paper).
    pub base: f64,
    /// The position read in section 2 (clamped to T − 1).
    pub position: usize,
    /// The prompt of sections 4 and 5 (words of the bears vocabulary).
    pub prompt: String,
    /// Seed of the shuffle and of the random encoder in section 5.
    pub seed: u64,
    /// The positional encoding compared against "none" in section 5.
    pub with: PosEncoding,
}

impl Default for PositionSettings {
    fn default() -> Self {
        Self {
            section: 0,
            ctx: 64,
            d: 32,
            base: 10_000.0,
            position: 5,
            prompt: "the bears won the game".into(),
            seed: 0,
            with: PosEncoding::Sinusoidal,
        }
    }
}

impl PositionSettings {
    fn validate(&self) -> Result<(), String> {
        if !(2..=256).contains(&self.ctx) {
            return Err(format!("ctx must be between 2 and 256, got {}", self.ctx));
        }
        if !(2..=128).contains(&self.d) || !self.d.is_multiple_of(2) {
            return Err(format!(
                "d must be an even number between 2 and 128, got {}",
                self.d
            ));
        }
        if !(self.base.is_finite() && (10.0..=100_000.0).contains(&self.base)) {
            return Err(format!(
                "base must be between 10 and 100000, got {}",
                self.base
            ));
        }
        if self.section > 4 {
            return Err("section must be 0…4".into());
        }
        if self.with == PosEncoding::None {
            return Err(
                "with must be learned, sinusoidal or binary (it is compared against none)".into(),
            );
        }
        Ok(())
    }
}

/// The tables at the current T, d, base.
struct Tables {
    key: (usize, usize, u64),
    version: u64,
    bits: usize,
    binary: Array2<f32>,
    binary_pm: Array2<f32>,
    sinusoidal: Array2<f32>,
    octave: Array2<f32>,
    thresholded: Array2<f32>,
    sim_sinusoidal: Array2<f32>,
    sim_binary: Array2<f32>,
    sim_octave: Array2<f32>,
}

fn tables(ctx: usize, d: usize, base: f64) -> Tables {
    let bits = bits_for(ctx);
    let sinusoidal = sinusoidal(ctx, d, base as f32);
    let binary_pm = binary(ctx, bits);
    let octave = octave(ctx, bits);
    Tables {
        key: (ctx, d, base.to_bits()),
        version: (ctx as u64) << 40 ^ (d as u64) << 32 ^ base.to_bits().rotate_left(7),
        bits,
        binary: binary_digits(ctx, bits),
        thresholded: threshold(&octave),
        sim_sinusoidal: similarity(&sinusoidal),
        sim_binary: similarity(&binary_pm),
        sim_octave: similarity(&octave),
        binary_pm,
        sinusoidal,
        octave,
    }
}

/// The result of section 5: max |f(shuffled) − shuffled f| without and with positions.
#[derive(Debug, Clone)]
pub struct Permutation {
    /// The prompt's tokens, in order.
    pub tokens: Vec<String>,
    /// The shuffle: position i of the shuffled prompt holds token perm[i].
    pub perm: Vec<usize>,
    /// Without positions.
    pub max_diff_none: f32,
    /// With the chosen encoding.
    pub max_diff_with: f32,
    /// Layer-1 head-1 attention: [none original, none shuffled, with original, with shuffled].
    pub maps: [Array2<f32>; 4],
}

/// A seeded shuffle of 0…n−1 that moves something when n ≥ 2.
pub fn shuffle(n: usize, seed: u64) -> Vec<usize> {
    use rand::RngExt;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5_4FF1E);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
    if n >= 2 && perm.iter().enumerate().all(|(i, &p)| i == p) {
        perm.rotate_left(1);
    }
    perm
}

/// A random encoder (no causal mask) of the bears vocabulary with the given positions.
pub fn random_encoder(vocab: usize, pos: PosEncoding, seed: u64) -> Gpt {
    let config = GptConfig {
        vocab_size: vocab,
        n_layer: 2,
        n_head: 4,
        n_embd: 32,
        block_size: 16,
        pos_encoding: pos,
        attn_scale: true,
        causal: false,
        norm: NormKind::LayerNorm,
    };
    let mut gpt = Gpt::new(config, &mut StdRng::seed_from_u64(seed));
    // GPT-2's init gives positions std 0.02 like the tokens; make a learned table as large as the
    // fixed ones so that "with positions" is clearly visible.
    // Tokens and positions both at unit scale (like the sinusoidal table), so that neither drowns
    // the other after the LayerNorm.
    gpt.params.wte.mapv_inplace(|v| v * 50.0);
    if let Some(wpe) = gpt.params.wpe.as_mut() {
        wpe.mapv_inplace(|v| v * 50.0);
    }
    // At GPT-2's init every score is ≈ 0 and attention is uniform, which would hide the shuffle:
    // larger query/key weights give each head a pattern worth looking at.
    for block in &mut gpt.params.blocks {
        block.c_attn_w.mapv_inplace(|v| v * 12.0);
    }
    gpt
}

/// max over tokens and features of |f(shuffled ids)[i] − f(ids)[perm[i]]|, f = the final
/// normalised residual stream.
pub fn permutation_difference(gpt: &Gpt, ids: &[usize], perm: &[usize]) -> f32 {
    let shuffled: Vec<usize> = perm.iter().map(|&p| ids[p]).collect();
    let run = |ids: &[usize]| {
        let mut acts = Activations::default();
        gpt_forward(gpt, &mut acts, ids, None, 1, ids.len(), false);
        acts.lnf
    };
    let (a, b) = (run(ids), run(&shuffled));
    let mut max = 0.0_f32;
    for (i, &p) in perm.iter().enumerate() {
        for (x, y) in b.row(i).iter().zip(a.row(p).iter()) {
            max = max.max((x - y).abs());
        }
    }
    max
}

fn permutation(tokenizer: &Tokenizer, s: &PositionSettings) -> Result<Permutation, String> {
    let ids = tokenizer.encode(&s.prompt).map_err(|e| {
        format!(
            "not in the bears vocabulary: {}",
            e.unknown
                .iter()
                .map(|(_, w)| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    if ids.len() < 2 {
        return Err("type at least two words to shuffle".into());
    }
    let ids: Vec<usize> = ids.into_iter().take(16).collect();
    let perm = shuffle(ids.len(), s.seed);
    let shuffled: Vec<usize> = perm.iter().map(|&p| ids[p]).collect();
    let none = random_encoder(tokenizer.len(), PosEncoding::None, s.seed);
    let with = random_encoder(tokenizer.len(), s.with, s.seed);
    let first = |gpt: &Gpt, ids: &[usize]| {
        prompt_attention(gpt, ids)
            .first()
            .and_then(|l| l.first())
            .cloned()
            .unwrap_or_default()
    };
    Ok(Permutation {
        tokens: ids.iter().map(|&i| tokenizer.vocab[i].clone()).collect(),
        max_diff_none: permutation_difference(&none, &ids, &perm),
        max_diff_with: permutation_difference(&with, &ids, &perm),
        maps: [
            first(&none, &ids),
            first(&none, &shuffled),
            first(&with, &ids),
            first(&with, &shuffled),
        ],
        perm,
    })
}

/// The bears model: its learned positions and token embeddings.
struct Pretrained {
    tokenizer: Tokenizer,
    wpe: Array2<f32>,
    wte: Array2<f32>,
}

fn load_pretrained() -> Result<Pretrained, String> {
    let (gpt, tokenizer) = crate::pretrained::bears()?;
    let wpe = gpt
        .params
        .wpe
        .clone()
        .ok_or("the bundled model has no learned positions")?;
    let wte = gpt.params.wte.clone();
    Ok(Pretrained {
        tokenizer,
        wpe,
        wte,
    })
}

/// One token of the projection: word, position, e(token) and e(token) + r_p in 2-D.
type Projected = (String, usize, [f64; 2], [f64; 2]);

/// Project e(token) and e(token) + r_p of every prompt token on the top two principal axes of
/// all of those points together (PCA through nalgebra's symmetric eigen-decomposition).
fn project_prompt(pre: &Pretrained, ids: &[usize]) -> Vec<Projected> {
    let ids: Vec<usize> = ids.iter().copied().take(pre.wpe.nrows()).collect();
    let c = pre.wte.ncols();
    let mut points = Array2::<f64>::zeros((2 * ids.len(), c));
    for (p, &id) in ids.iter().enumerate() {
        for k in 0..c {
            let e = f64::from(pre.wte[[id, k]]);
            points[[2 * p, k]] = e;
            points[[2 * p + 1, k]] = e + f64::from(pre.wpe[[p, k]]);
        }
    }
    let Some(mean) = points.mean_axis(ndarray::Axis(0)) else {
        return Vec::new();
    };
    let centred = &points - &mean;
    let cov = centred.t().dot(&centred);
    let eig = SymmetricEigen::new(DMatrix::from_fn(c, c, |r, k| cov[[r, k]]));
    let mut order: Vec<usize> = (0..c).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let axis = |i: usize, row: usize| -> f64 {
        (0..c)
            .map(|k| centred[[row, k]] * eig.eigenvectors[(k, order[i])])
            .sum()
    };
    ids.iter()
        .enumerate()
        .map(|(p, &id)| {
            (
                pre.tokenizer.vocab.get(id).cloned().unwrap_or_default(),
                p,
                [axis(0, 2 * p), axis(1, 2 * p)],
                [axis(0, 2 * p + 1), axis(1, 2 * p + 1)],
            )
        })
        .collect()
}

/// Parameters of one pre-norm block of width c (attention 4c² + 4c, MLP 8c² + 5c, two norms 4c).
fn block_params(c: usize) -> usize {
    12 * c * c + 13 * c
}

/// The lesson.
#[derive(Default)]
pub struct PositionsLesson {
    settings: PositionSettings,
    tables: Option<Tables>,
    pretrained: Option<Result<Pretrained, String>>,
    /// Section 5, by (prompt, seed, encoding).
    perm: Cached<(String, u64, PosEncoding), Result<Permutation, String>>,
    sim_learned: Option<Array2<f32>>,
    /// The prompt's projection, cached by prompt.
    projection: Cached<String, Vec<Projected>>,
}

fn norm(row: ndarray::ArrayView1<'_, f32>) -> f32 {
    row.dot(&row).sqrt()
}

impl PositionsLesson {
    fn ensure(&mut self) {
        let s = &self.settings;
        let key = (s.ctx, s.d, s.base.to_bits());
        if self.tables.as_ref().is_none_or(|t| t.key != key) {
            self.tables = Some(tables(s.ctx, s.d, s.base));
        }
        if self.pretrained.is_none() {
            let p = load_pretrained();
            self.sim_learned = p.as_ref().ok().map(|p| similarity(&p.wpe));
            self.pretrained = Some(p);
        }
    }

    fn tables_ui(&mut self, ui: &mut Ui) {
        ui.label("Rows are positions p = 0…T−1, columns are dimensions. (a) writes p in binary, least significant bit first: column 0 flips every step, column 1 every 2 steps, column j every 2^j — each column an octave lower. (c) replaces each square wave by a sinusoid of the same period; (d) thresholds (c) at 0 and gets (a) back exactly. (b) is the Transformer's formula, whose frequencies fall geometrically too, but by base^(2/d) per pair of columns instead of 2.");
        self.size_controls(ui);
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "base", |ui| {
                ui.add(
                    egui::Slider::new(&mut self.settings.base, 10.0..=100_000.0).logarithmic(true),
                )
            });
            if ui.button("10000 (paper)").clicked() {
                self.settings.base = 10_000.0;
            }
        });
        self.ensure();
        let (Some(t), Some(pre)) = (&self.tables, &self.pretrained) else {
            return;
        };
        let same = t.thresholded == t.binary;
        ui.label(
            RichText::new(if same {
                format!("(d) = (a) at all {} positions: the thresholded octave sinusoids are exactly the binary digits.", self.settings.ctx)
            } else {
                "(d) differs from (a) — this should never happen.".to_owned()
            })
            .size(15.0)
            .color(if same { COLORS[2] } else { ui.visuals().error_fg_color }),
        );
        let height = 440.0;
        ui.horizontal_top(|ui| {
            for map in t.maps() {
                table_map(ui, &map, height, t.version, None);
            }
            match pre {
                Ok(p) => {
                    let lim = p.wpe.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
                    ui.vertical(|ui| {
                        ui.strong("(e) learned (bears model)");
                        Heatmap::new("(e) learned (bears model)", p.wpe.view())
                            .axis_names("position", "dim")
                            .colormap(Colormap::Diverging)
                            .range(-lim, lim)
                            .max_size(egui::vec2(ui.available_width().clamp(200.0, 420.0), height))
                            .colorbar(false)
                            .version(1)
                            .show(ui);
                        ui.label(format!(
                            "{} positions × {} dims: the context of the bundled model",
                            p.wpe.nrows(),
                            p.wpe.ncols()
                        ));
                    });
                }
                Err(e) => {
                    ui.label(format!(
                        "(e) learned: the bundled model could not be loaded ({e})."
                    ));
                }
            }
        });
    }

    fn size_controls(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "positions T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.ctx, 2..=256).logarithmic(true))
            });
            labelled(ui, "width d", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.d, 2..=128).step_by(2.0))
            });
        });
        if !self.settings.d.is_multiple_of(2) {
            self.settings.d += 1;
        }
    }

    fn read_ui(&mut self, ui: &mut Ui) {
        ui.label("Pick a position p: its row r_p is the vector added to the token embedding x_p. Read down a column and you see one \"digit\" over positions: the sinusoids slow down column by column like the binary digits do.");
        self.size_controls(ui);
        let max_p = self.settings.ctx - 1;
        ui.horizontal(|ui| {
            labelled(ui, "position p", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.position, 0..=max_p))
            });
        });
        self.settings.position = self.settings.position.min(max_p);
        self.ensure();
        let Some(t) = &self.tables else { return };
        let p = self.settings.position;
        let bits: String = (0..t.bits)
            .rev()
            .map(|j| if (p >> j) & 1 == 1 { '1' } else { '0' })
            .collect();
        ui.label(RichText::new(format!("p = {p} = {bits}₂ (most significant bit on the left; the tables store bit 0 first). ‖r_p‖ of the sinusoidal row = √(d/2) = {:.3} for every p.", norm(t.sinusoidal.row(p)))).size(15.0));
        ui.horizontal_top(|ui| {
            // (a)–(c), with the chosen row outlined ((d) is (a) again).
            for map in t.maps().iter().take(3) {
                table_map(ui, map, 250.0, t.version, Some(p));
            }
            ui.vertical(|ui| {
                ui.strong(format!("r_{p}: the row added to x_{p}"));
                Plot::new("positions_row")
                    .width(420.0)
                    .height(250.0)
                    .x_axis_label("dimension / bit index")
                    .y_axis_label("value")
                    .label_formatter(hover("index", "value"))
                    .legend(Legend::default())
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
            });
        });
        ui.columns(2, |cols| {
            cols[0].strong("Sinusoidal columns 0, 2, 4, 6 vs position (sin, falling frequency)");
            Plot::new("positions_columns_sin")
                .height(220.0)
                .x_axis_label("position p")
                .y_axis_label("value")
                .label_formatter(hover("p", "value"))
                .legend(Legend::default())
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
                    plot.vline(VLine::new("p", p as f64).color(Color32::GRAY));
                });
            cols[1].strong(
                "Octave sinusoids (lines) and binary digits as ±1 square waves (dashed), bits 0–3",
            );
            Plot::new("positions_columns_oct")
                .height(220.0)
                .x_axis_label("position p")
                .y_axis_label("value")
                .label_formatter(hover("p", "value"))
                .legend(Legend::default())
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
                    plot.vline(VLine::new("p", p as f64).color(Color32::GRAY));
                });
        });
    }

    fn similarity_ui(&mut self, ui: &mut Ui) {
        ui.label("r_i · r_j for every pair of positions. Sinusoids: the similarity depends mostly on the distance i − j (bands parallel to the diagonal), so attention can learn relative offsets. Binary (as ±1): r_i·r_j = bits − 2·Hamming(i, j), a blocky fractal — positions that differ in one high bit look alike.");
        self.size_controls(ui);
        self.ensure();
        let (Some(t), Some(pre)) = (&self.tables, &self.pretrained) else {
            return;
        };
        // Every row's self-similarity ‖r_p‖² is the largest value: d/2 (sinusoidal), bits (binary).
        let d = self.settings.d as f32 / 2.0;
        let b = t.bits as f32;
        let side = ((ui.available_width() - 60.0) / 4.0 - 50.0).clamp(150.0, 330.0);
        let size = egui::vec2(side, side);
        ui.horizontal_top(|ui| {
            sim_map(
                ui,
                "similarity: sinusoidal",
                &t.sim_sinusoidal,
                d,
                t.version,
                size,
            );
            sim_map(
                ui,
                "similarity: binary ±1",
                &t.sim_binary,
                b,
                t.version,
                size,
            );
            let lim = t.sim_octave.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            sim_map(
                ui,
                "similarity: octave",
                &t.sim_octave,
                lim,
                t.version,
                size,
            );
            if let (Ok(_), Some(l)) = (pre, &self.sim_learned) {
                let lim = l.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
                sim_map(ui, "similarity: learned (bears)", l, lim, 1, size);
            }
        });
        let p = self.settings.position.min(self.settings.ctx - 1);
        ui.horizontal(|ui| {
            let max_p = self.settings.ctx - 1;
            labelled(ui, "position p", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.position, 0..=max_p))
            });
        });
        ui.strong(format!(
            "Row p = {p}: r_p · r_j against j, normalised by the largest value"
        ));
        Plot::new("positions_similarity_row")
            .height(200.0)
            .x_axis_label("position j")
            .y_axis_label("r_p·r_j / max")
            .label_formatter(hover("j", "similarity"))
            .legend(Legend::default())
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
                plot.vline(VLine::new("p", p as f64).color(Color32::GRAY));
            });
    }

    fn add_ui(&mut self, ui: &mut Ui) {
        ui.label("Positions are added to the token embeddings, x_p = e(token) + r_p, not concatenated. Adding keeps the width: every matrix of every layer stays C × C. It disturbs the context-free vector only as much as r_p is large compared with e — and in a wide space the two can live in nearly orthogonal directions.");
        self.ensure();
        let Some(Ok(pre)) = &self.pretrained else {
            ui.label(
                "The bundled bears model could not be loaded, so there is nothing to measure here.",
            );
            return;
        };
        let c = pre.wte.ncols();
        let v = pre.wte.nrows();
        let t = pre.wpe.nrows();
        let tok_norms: Vec<f32> = pre.wte.outer_iter().map(norm).collect();
        let pos_norms: Vec<f32> = pre.wpe.outer_iter().map(norm).collect();
        let mean_tok = tok_norms.iter().sum::<f32>() / tok_norms.len().max(1) as f32;
        let mean_pos = pos_norms.iter().sum::<f32>() / pos_norms.len().max(1) as f32;
        let added = block_params(c);
        let concat = block_params(2 * c);
        ui.label(RichText::new(format!(
            "Bears model: C = {c}. Mean ‖e(token)‖ = {mean_tok:.3} over {v} tokens; mean ‖r_p‖ (learned) = {mean_pos:.3} over {t} positions; a sinusoidal row has ‖r_p‖ = √(C/2) = {:.2}. Concatenating a {c}-wide position vector would make every block {c} → {}: {added} → {concat} parameters per block (×{:.1}), and attention and MLP cost grow by the same factor.",
            (c as f32 / 2.0).sqrt(),
            2 * c,
            concat as f64 / added as f64
        )).size(15.0));
        ui.horizontal(|ui| {
            let l = ui.strong("Prompt");
            ui.add(egui::TextEdit::singleline(&mut self.settings.prompt).desired_width(300.0))
                .labelled_by(l.id);
        });
        let ids = pre.tokenizer.encode(&self.settings.prompt);
        let projected: &[Projected] = match &ids {
            Ok(ids) => self
                .projection
                .get(self.settings.prompt.clone(), |_| project_prompt(pre, ids)),
            Err(_) => &[],
        };
        ui.columns(2, |cols| {
            cols[0].strong("Norms: learned positions vs token embeddings");
            Plot::new("positions_norms")
                .height(300.0)
                .x_axis_label("position p (tokens: sorted by norm)")
                .y_axis_label("Euclidean norm")
                .label_formatter(hover("index", "norm"))
                .legend(Legend::default())
                .include_y(0.0)
                .show(&mut cols[0], |plot| {
                    let pts: PlotPoints = pos_norms.iter().enumerate().map(|(p, &n)| [p as f64, f64::from(n)]).collect();
                    plot.line(Line::new("‖r_p‖ learned", pts).color(COLORS[1]).width(2.0));
                    let mut sorted = tok_norms.clone();
                    sorted.sort_by(f32::total_cmp);
                    let scale = (t.max(2) - 1) as f64 / (sorted.len().max(2) - 1) as f64;
                    let pts: PlotPoints = sorted.iter().enumerate().map(|(i, &n)| [i as f64 * scale, f64::from(n)]).collect();
                    plot.points(Points::new("‖e(token)‖, all tokens", pts).radius(2.5).color(COLORS[0]));
                });
            cols[1].strong("Tokens before (○) and after (●) adding r_p, projected on the top 2 principal axes of these points");
            match &ids {
                Err(e) => {
                    cols[1].colored_label(
                        cols[1].visuals().error_fg_color,
                        format!("Not in the bears vocabulary: {}", e.unknown.iter().map(|(_, w)| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")),
                    );
                }
                Ok(_) => {
                    Plot::new("positions_projection")
                        .height(300.0)
                        .data_aspect(1.0)
                        .x_axis_label("principal axis 1")
                        .y_axis_label("principal axis 2")
                        .label_formatter(hover("axis 1", "axis 2"))
                        .show(&mut cols[1], |plot| {
                            for (word, p, a, b) in projected {
                                let color = COLORS[p % COLORS.len()];
                                plot.line(Line::new(format!("{word} @ {p}"), vec![*a, *b]).color(color));
                                plot.points(Points::new(format!("e({word})"), vec![*a]).radius(5.0).filled(false).color(color));
                                plot.points(Points::new(format!("e({word}) + r_{p}"), vec![*b]).radius(5.0).color(color));
                                plot.text(
                                    Text::new(format!("{word}{p}"), (*b).into(), format!(" {word} @{p}"))
                                        .color(color)
                                        .anchor(egui::Align2::LEFT_BOTTOM),
                                );
                            }
                        });
                }
            }
        });
    }

    fn order_ui(&mut self, ui: &mut Ui) {
        ui.label("Self-attention with no positions is permutation-equivariant: shuffle the input tokens and every output row is the same as before, just shuffled. The model literally cannot tell \"the bears won the game\" from \"game the won bears the\". Add positions and it can. (This uses a random encoder, i.e. no causal mask: the mask itself orders the tokens, so a decoder gets some order even without positions.)");
        ui.horizontal_wrapped(|ui| {
            let l = ui.strong("Prompt");
            ui.add(egui::TextEdit::singleline(&mut self.settings.prompt).desired_width(300.0))
                .labelled_by(l.id);
            if ui
                .button("Shuffle")
                .on_hover_text("A new shuffle and a new random model")
                .clicked()
            {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
            ui.label("compare against:");
            for (p, name) in [
                (PosEncoding::Sinusoidal, "sinusoidal"),
                (PosEncoding::Learned, "learned"),
                (PosEncoding::Binary, "binary"),
            ] {
                ui.selectable_value(&mut self.settings.with, p, name);
            }
        });
        self.ensure();
        let Some(Ok(pre)) = &self.pretrained else {
            ui.label("The bundled bears model (its vocabulary) could not be loaded.");
            return;
        };
        let s = &self.settings;
        let result = self.perm.get((s.prompt.clone(), s.seed, s.with), |_| {
            permutation(&pre.tokenizer, s)
        });
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let shuffled: Vec<String> = r.perm.iter().map(|&p| r.tokens[p].clone()).collect();
        ui.label(
            RichText::new(format!(
                "original: {}    shuffled: {}",
                r.tokens.join(" "),
                shuffled.join(" ")
            ))
            .size(16.0),
        );
        let ok = |v: f32| if v < 1e-4 { COLORS[2] } else { COLORS[1] };
        ui.label(RichText::new(format!("no positions: max |f(shuffled) − shuffled f(original)| = {:.2e} — the same rows, shuffled (only float rounding).", r.max_diff_none)).size(16.0).color(ok(r.max_diff_none)));
        ui.label(
            RichText::new(format!(
                "with {} positions: {:.3} — the outputs change, order is visible.",
                pos_name(self.settings.with),
                r.max_diff_with
            ))
            .size(16.0)
            .color(ok(r.max_diff_with)),
        );
        ui.label("Layer 1, head 1 attention. Without positions the shuffled map is the original with its rows and columns shuffled the same way.");
        let side = ((ui.available_width() - 40.0) / 4.0 - 70.0).clamp(120.0, 260.0);
        let size = egui::vec2(side, side);
        ui.horizontal_top(|ui| {
            let titles = [
                "no positions, original",
                "no positions, shuffled",
                "with positions, original",
                "with positions, shuffled",
            ];
            for (k, m) in r.maps.iter().enumerate() {
                let labels = if k % 2 == 0 { &r.tokens } else { &shuffled };
                ui.vertical(|ui| {
                    ui.strong(titles[k]);
                    Heatmap::new(format!("attention: {}", titles[k]), m.view())
                        .labels(Some(labels), Some(labels))
                        .axis_names("query", "key")
                        .range(0.0, 1.0)
                        .max_size(size)
                        .colorbar(false)
                        .show(ui);
                });
            }
        });
    }
}

fn pos_name(p: PosEncoding) -> &'static str {
    match p {
        PosEncoding::Learned => "learned (random init)",
        PosEncoding::Sinusoidal => "sinusoidal",
        PosEncoding::Binary => "binary",
        PosEncoding::None => "no",
    }
}

/// One positions × dimensions table as drawn: its title, values, colour range and map, and what
/// its columns are.
struct TableMap<'a> {
    title: &'static str,
    values: &'a Array2<f32>,
    range: (f32, f32),
    colormap: Colormap,
    col_name: &'static str,
}

impl Tables {
    /// Tables (a)–(d) of section 1, in order.
    fn maps(&self) -> [TableMap<'_>; 4] {
        let map = |title, values, range, colormap, col_name| TableMap {
            title,
            values,
            range,
            colormap,
            col_name,
        };
        [
            map(
                "(a) binary digits",
                &self.binary,
                (0.0, 1.0),
                Colormap::Viridis,
                "bit",
            ),
            map(
                "(b) sinusoidal (Vaswani)",
                &self.sinusoidal,
                (-1.0, 1.0),
                Colormap::Diverging,
                "dim",
            ),
            map(
                "(c) octave sinusoids",
                &self.octave,
                (-1.0, 1.0),
                Colormap::Diverging,
                "bit",
            ),
            map(
                "(d) (c) thresholded at 0",
                &self.thresholded,
                (0.0, 1.0),
                Colormap::Viridis,
                "bit",
            ),
        ]
    }
}

fn table_map(ui: &mut Ui, map: &TableMap<'_>, height: f32, version: u64, row: Option<usize>) {
    ui.vertical(|ui| {
        ui.strong(map.title);
        let width = (map.values.ncols() as f32 * 12.0).clamp(90.0, 260.0);
        Heatmap::new(map.title, map.values.view())
            .axis_names("position", map.col_name)
            .colormap(map.colormap)
            .range(map.range.0, map.range.1)
            .max_size(egui::vec2(width, height))
            .colorbar(false)
            .highlight_row(row)
            .version(version)
            .show(ui);
    });
}

fn sim_map(ui: &mut Ui, title: &str, m: &Array2<f32>, lim: f32, version: u64, size: egui::Vec2) {
    ui.vertical(|ui| {
        ui.strong(title);
        Heatmap::new(title, m.view())
            .axis_names("position i", "position j")
            .colormap(Colormap::Diverging)
            .range(-lim, lim)
            .max_size(size)
            .colorbar(false)
            .version(version)
            .show(ui);
    });
}

impl Lesson for PositionsLesson {
    fn id(&self) -> &'static str {
        "positions"
    }

    fn title(&self) -> &'static str {
        "Positional encodings: sinusoids as analog binary digits"
    }

    fn summary(&self) -> &'static str {
        "Binary position digits flip an octave slower in each column; sinusoids are their analog version. They are added to the tokens — and without them attention cannot tell order."
    }

    fn ui(&mut self, ui: &mut Ui, _ctx: &mut LessonContext) {
        section_tabs(ui, &mut self.settings.section, &SECTIONS);
        match self.settings.section {
            1 => self.read_ui(ui),
            2 => self.similarity_ui(ui),
            3 => self.add_ui(ui),
            4 => self.order_ui(ui),
            _ => self.tables_ui(ui),
        }
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }

    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: PositionSettings = settings_from_json(settings)?;
        s.validate()?;
        self.settings = s;
        Ok(())
    }

    fn data(&self) -> Value {
        let s = &self.settings;
        let t = tables(s.ctx, s.d, s.base);
        let rows =
            |a: &Array2<f32>| -> Vec<Vec<f32>> { a.outer_iter().map(|r| r.to_vec()).collect() };
        let pre = load_pretrained();
        let perm = pre
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| permutation(&p.tokenizer, s));
        json!({
            "settings": self.settings(),
            "bits": t.bits,
            "binary": rows(&t.binary),
            "sinusoidal": rows(&t.sinusoidal),
            "octave": rows(&t.octave),
            "octave_thresholded": rows(&t.thresholded),
            "octave_thresholded_equals_binary": t.thresholded == t.binary,
            "similarity_sinusoidal": rows(&t.sim_sinusoidal),
            "similarity_binary": rows(&t.sim_binary),
            "learned": pre.as_ref().map(|p| rows(&p.wpe)).ok(),
            "permutation": match perm {
                Ok(r) => json!({
                    "tokens": r.tokens,
                    "perm": r.perm,
                    "max_diff_no_positions": r.max_diff_none,
                    "max_diff_with_positions": r.max_diff_with,
                    "with": s.with,
                }),
                Err(e) => json!({"error": e}),
            },
        })
    }

    fn csv(&self) -> String {
        let s = &self.settings;
        let t = tables(s.ctx, s.d, s.base);
        let labels: Vec<String> = (0..s.ctx).map(|p| p.to_string()).collect();
        match s.section {
            2 => matrix_csv(t.sim_sinusoidal.view(), Some(&labels), Some(&labels)),
            1 => matrix_csv(
                t.sinusoidal.slice(ndarray::s![
                    s.position.min(s.ctx - 1)..s.position.min(s.ctx - 1) + 1,
                    ..
                ]),
                None,
                None,
            ),
            _ => matrix_csv(t.sinusoidal.view(), Some(&labels), None),
        }
    }
}
