//! Perceptually uniform, colour-blind-safe colormaps.
//!
//! Both tables are matplotlib's, sampled at 33 evenly spaced points and interpolated linearly
//! (the error against the 256-entry tables is below one 8-bit step). Reference:
//! ```python
//! from matplotlib import colormaps; import numpy as np
//! for name in ['viridis', 'RdBu_r']:
//!     cols = (np.array([colormaps[name](x)[:3] for x in np.linspace(0, 1, 33)]) * 255).round()
//! ```

use egui::Color32;
use serde::{Deserialize, Serialize};

/// Which colormap a figure uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Colormap {
    /// Sequential (viridis): for probabilities, magnitudes and other one-signed data.
    #[default]
    Viridis,
    /// Diverging (red–blue, white at the centre): for signed data centred on zero.
    Diverging,
}

const VIRIDIS: [[u8; 3]; 33] = [
    [68, 1, 84],
    [71, 13, 96],
    [72, 24, 106],
    [72, 35, 116],
    [71, 45, 123],
    [69, 55, 129],
    [66, 64, 134],
    [62, 73, 137],
    [59, 82, 139],
    [55, 91, 141],
    [51, 99, 141],
    [47, 107, 142],
    [44, 114, 142],
    [41, 122, 142],
    [38, 130, 142],
    [35, 137, 142],
    [33, 145, 140],
    [31, 152, 139],
    [31, 160, 136],
    [34, 167, 133],
    [40, 174, 128],
    [50, 182, 122],
    [63, 188, 115],
    [78, 195, 107],
    [94, 201, 98],
    [112, 207, 87],
    [132, 212, 75],
    [152, 216, 62],
    [173, 220, 48],
    [194, 223, 35],
    [216, 226, 25],
    [236, 229, 27],
    [253, 231, 37],
];

const RDBU_R: [[u8; 3]; 33] = [
    [5, 48, 97],
    [14, 65, 121],
    [23, 82, 144],
    [31, 99, 168],
    [42, 113, 178],
    [52, 128, 185],
    [63, 142, 192],
    [82, 157, 200],
    [107, 172, 209],
    [132, 188, 217],
    [155, 201, 224],
    [174, 211, 230],
    [194, 221, 236],
    [212, 230, 241],
    [224, 236, 243],
    [236, 242, 245],
    [247, 246, 246],
    [249, 238, 231],
    [251, 229, 216],
    [253, 220, 201],
    [251, 204, 180],
    [248, 187, 158],
    [245, 170, 137],
    [238, 150, 119],
    [228, 128, 102],
    [219, 107, 85],
    [208, 85, 72],
    [197, 62, 61],
    [186, 40, 50],
    [171, 22, 42],
    [147, 14, 38],
    [124, 7, 34],
    [103, 0, 31],
];

impl Colormap {
    /// The colour at `t` in [0, 1] (clamped; NaN maps to 0).
    pub fn at(self, t: f32) -> Color32 {
        let table = match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Diverging => &RDBU_R,
        };
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let x = t * (table.len() - 1) as f32;
        let i = (x.floor() as usize).min(table.len() - 2);
        let f = x - i as f32;
        let (a, b) = (table[i], table[i + 1]);
        let mix = |k: usize| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * f).round() as u8;
        Color32::from_rgb(mix(0), mix(1), mix(2))
    }

    /// A text colour readable on top of `at(t)`.
    pub fn text_on(self, t: f32) -> Color32 {
        let c = self.at(t);
        let luma = 0.299 * c.r() as f32 + 0.587 * c.g() as f32 + 0.114 * c.b() as f32;
        if luma > 140.0 {
            Color32::BLACK
        } else {
            Color32::WHITE
        }
    }

    /// The natural value range for data with these finite extremes: the data range for a
    /// sequential map, a range symmetric about zero for the diverging map.
    pub fn range_for(self, lo: f32, hi: f32) -> (f32, f32) {
        match self {
            Colormap::Viridis => (lo, hi),
            Colormap::Diverging => {
                let m = lo.abs().max(hi.abs());
                (-m, m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_matplotlib() {
        assert_eq!(Colormap::Viridis.at(0.0), Color32::from_rgb(68, 1, 84));
        assert_eq!(Colormap::Viridis.at(1.0), Color32::from_rgb(253, 231, 37));
        assert_eq!(
            Colormap::Diverging.at(0.5),
            Color32::from_rgb(247, 246, 246)
        );
        assert_eq!(Colormap::Viridis.at(f32::NAN), Colormap::Viridis.at(0.0));
        assert_eq!(Colormap::Viridis.at(7.0), Colormap::Viridis.at(1.0));
    }

    #[test]
    fn viridis_lightness_increases_monotonically() {
        let luma = |c: Color32| 0.299 * c.r() as f32 + 0.587 * c.g() as f32 + 0.114 * c.b() as f32;
        let mut last = -1.0;
        for i in 0..=100 {
            let l = luma(Colormap::Viridis.at(i as f32 / 100.0));
            assert!(l >= last - 0.5, "lightness dips at {i}");
            last = l;
        }
    }

    #[test]
    fn diverging_range_is_symmetric() {
        assert_eq!(Colormap::Diverging.range_for(-1.0, 3.0), (-3.0, 3.0));
        assert_eq!(Colormap::Viridis.range_for(-1.0, 3.0), (-1.0, 3.0));
    }
}
