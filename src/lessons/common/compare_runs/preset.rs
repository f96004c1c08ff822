//! The switches compared runs differ in: each preset is a list of (label, configuration), all
//! from one base configuration and its seed.

use serde::{Deserialize, Serialize};

use crate::model::{NormKind, PosEncoding};
use crate::train::TrainConfig;

/// Which switch the runs differ in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Preset {
    /// Scores divided by √(head size), or not (head size 64, where it matters).
    #[default]
    Scaling,
    /// LayerNorm, BatchNorm, RMSNorm, none.
    Norms,
    /// Learned, sinusoidal, binary, no positions.
    Positions,
    /// Skip connections and norms, each on or off (the depth is the base's).
    Residuals,
}

impl Preset {
    /// Every preset, for pickers.
    pub const ALL: [Preset; 4] = [
        Preset::Scaling,
        Preset::Norms,
        Preset::Positions,
        Preset::Residuals,
    ];

    /// What the picker says.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Scaling => "1/√d scaling on vs off",
            Preset::Norms => "LayerNorm vs BatchNorm vs RMSNorm vs none",
            Preset::Positions => "learned vs sinusoidal vs binary vs no positions",
            Preset::Residuals => "skip connections and LayerNorm, each on or off",
        }
    }

    /// The runs: (label, configuration), all from `base` and its seed.
    pub fn runs(self, base: &TrainConfig) -> Vec<(String, TrainConfig)> {
        let with = |label: &str, f: &dyn Fn(&mut TrainConfig)| {
            let mut c = base.clone();
            f(&mut c);
            (label.to_owned(), c)
        };
        match self {
            Preset::Scaling => {
                // Head size 64: unscaled scores have variance 64 and the softmax saturates.
                let wide = |c: &mut TrainConfig| {
                    c.model.n_embd = 128;
                    c.model.n_head = 2;
                };
                vec![
                    with("scaled 1/√64", &|c| {
                        wide(c);
                        c.model.attn_scale = true;
                    }),
                    with("unscaled", &|c| {
                        wide(c);
                        c.model.attn_scale = false;
                    }),
                ]
            }
            Preset::Norms => [
                ("LayerNorm", NormKind::LayerNorm),
                ("BatchNorm", NormKind::BatchNorm),
                ("RMSNorm", NormKind::RmsNorm),
                ("no norm", NormKind::None),
            ]
            .iter()
            .map(|(l, n)| with(l, &|c| c.model.norm = *n))
            .collect(),
            Preset::Positions => [
                ("learned", PosEncoding::Learned),
                ("sinusoidal", PosEncoding::Sinusoidal),
                ("binary", PosEncoding::Binary),
                ("no positions", PosEncoding::None),
            ]
            .iter()
            .map(|(l, p)| with(l, &|c| c.model.pos_encoding = *p))
            .collect(),
            Preset::Residuals => [
                ("skips + LayerNorm", true, NormKind::LayerNorm),
                ("skips, no norm", true, NormKind::None),
                ("no skips + LayerNorm", false, NormKind::LayerNorm),
                ("no skips, no norm", false, NormKind::None),
            ]
            .iter()
            .map(|(l, r, n)| {
                with(l, &|c| {
                    c.model.residual = *r;
                    c.model.norm = *n;
                })
            })
            .collect(),
        }
    }
}
