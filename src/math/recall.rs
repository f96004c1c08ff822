//! The recall task, trained: can a recurrent network carry a symbol across k steps of noise?
//!
//! Task (after Hochreiter & Schmidhuber 1997, §5's long-time-lag experiments): at t = 0 one of
//! S symbols is shown (one-hot on S input channels); for t = 1 … k the symbol channels carry
//! Gaussian noise N(0, 0.5²); at t = k + 1 a cue channel is 1 and the network must output the
//! symbol: logits = W_y h_{k+2} + b_y, cross-entropy. Chance accuracy is 1/S.
//!
//! Two cells of the same hidden size n, z_t = [h_{t−1}; x_t]:
//!   tanh RNN (Elman 1990):  h_t = tanh(W z_t + b)
//!   LSTM (with a forget gate, Gers et al. 2000): [i f g o] = W z_t + b,
//!     c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),  h_t = σ(o) ⊙ tanh(c_t);  the forget bias starts
//!     at 3 (σ(3) ≈ 0.95: at first the cell keeps 95 % of its content per step; Gers, Schmidhuber
//!     & Cummins 2000 start it positive). Measured with seed 0, n = 16: with it the LSTM learns
//!     k = 20 within 300 steps and k = 50 within 1200; the RNN stays near chance from k = 20.
//! Both trained with the engine's AdamW ([`FlatAdamW`], global-norm clipping at 1), a fresh
//! batch of 32 sequences per step from a seeded generator: the same seed gives the same run.
//! The backward passes (BPTT) are checked against finite differences in `tests/rnn.rs`.

use ndarray::{Array2, ArrayView2, Axis, concatenate, s};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::stats::randn;
use crate::model::optim::{AdamWConfig, FlatAdamW};

/// Symbols S of the recall task.
pub const SYMBOLS: usize = 4;
/// Input channels: the S symbols and the cue.
pub const INPUTS: usize = SYMBOLS + 1;
/// Noise on the symbol channels during the delay (standard deviation).
pub const NOISE: f64 = 0.5;
/// Sequences per training step.
pub const BATCH: usize = 32;
/// Sequences of the fixed evaluation set.
pub const EVAL: usize = 256;

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// h_t = tanh(W z_t + b).
    Rnn,
    /// The LSTM with a forget gate.
    Lstm,
}

impl Cell {
    /// Rows of W: n for the RNN, 4n for the LSTM's four gates.
    fn rows(self, n: usize) -> usize {
        match self {
            Cell::Rnn => n,
            Cell::Lstm => 4 * n,
        }
    }
}

/// A batch of recall sequences: inputs x (T, B, D) as T matrices (B, D), and the symbols.
#[derive(Debug, Clone)]
pub struct Batch {
    /// One (B, D) matrix per step t = 0 … k + 1.
    pub xs: Vec<Array2<f32>>,
    /// The symbol of each sequence.
    pub targets: Vec<usize>,
}

/// `b` recall sequences with delay k from `rng`.
pub fn recall_batch(k: usize, b: usize, rng: &mut StdRng) -> Batch {
    let targets: Vec<usize> = (0..b).map(|_| rng.random_range(0..SYMBOLS)).collect();
    let mut xs = Vec::with_capacity(k + 2);
    let mut first = Array2::zeros((b, INPUTS));
    for (r, &t) in targets.iter().enumerate() {
        first[(r, t)] = 1.0;
    }
    xs.push(first);
    for _ in 0..k {
        let mut x = Array2::zeros((b, INPUTS));
        for r in 0..b {
            for c in 0..SYMBOLS {
                x[(r, c)] = (NOISE * randn(rng)) as f32;
            }
        }
        xs.push(x);
    }
    let mut cue = Array2::zeros((b, INPUTS));
    cue.column_mut(SYMBOLS).fill(1.0);
    xs.push(cue);
    Batch { xs, targets }
}

/// A recurrent classifier: W (rows, n + D), b (rows), W_y (S, n), b_y (S), in one flat vector.
#[derive(Debug, Clone)]
pub struct RecallModel {
    /// The cell.
    pub cell: Cell,
    /// Hidden size n.
    pub n: usize,
    /// Inputs per step D.
    pub d: usize,
    /// Outputs (classes).
    pub out: usize,
    /// All parameters.
    pub params: Vec<f32>,
}

/// What BPTT needs of the forward pass.
struct Trace {
    /// z_t = [h_{t−1}, x_t] (B, n + D) per step.
    zs: Vec<Array2<f32>>,
    /// Activations per step: RNN h_t; LSTM the gates after their nonlinearity (B, 4n) [i f g o].
    acts: Vec<Array2<f32>>,
    /// LSTM cell states c_t (B, n) per step, c_0 first (RNN: empty).
    cs: Vec<Array2<f32>>,
    /// h_t (B, n) per step, h_0 first.
    hs: Vec<Array2<f32>>,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl RecallModel {
    /// A fresh model: W ~ U(±1/√(n + D)) as nn.RNN/nn.LSTM, the LSTM's forget bias 3.
    pub fn new(cell: Cell, n: usize, d: usize, out: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let rows = cell.rows(n);
        let bound = 1.0 / ((n + d) as f32).sqrt();
        let mut params = Vec::new();
        for _ in 0..rows * (n + d) + rows {
            params.push(rng.random_range(-bound..bound));
        }
        if cell == Cell::Lstm {
            let b0 = rows * (n + d);
            for j in n..2 * n {
                params[b0 + j] = 3.0;
            }
        }
        let by = 1.0 / (n as f32).sqrt();
        for _ in 0..out * n + out {
            params.push(rng.random_range(-by..by));
        }
        Self {
            cell,
            n,
            d,
            out,
            params,
        }
    }

    fn split(&self) -> (ArrayView2<'_, f32>, &[f32], ArrayView2<'_, f32>, &[f32]) {
        let (rows, n, d) = (self.cell.rows(self.n), self.n, self.d);
        let p = &self.params;
        let w_end = rows * (n + d);
        let b_end = w_end + rows;
        let wy_end = b_end + self.out * n;
        (
            ArrayView2::from_shape((rows, n + d), &p[..w_end]).expect("W is rows × (n + D)"),
            &p[w_end..b_end],
            ArrayView2::from_shape((self.out, n), &p[b_end..wy_end]).expect("W_y is S × n"),
            &p[wy_end..],
        )
    }

    /// One step of the cell: z = [h, x], a = z Wᵀ + b, then the state update. Appends z, the
    /// activations, c_t and h_t to the trace.
    fn step(&self, tr: &mut Trace, x: &Array2<f32>) {
        let (w, b, _, _) = self.split();
        let n = self.n;
        let h = &tr.hs[tr.hs.len() - 1];
        let z = concatenate(Axis(1), &[h.view(), x.view()]).expect("same batch");
        let mut a = z.dot(&w.t());
        for mut row in a.rows_mut() {
            for (v, bb) in row.iter_mut().zip(b) {
                *v += bb;
            }
        }
        let h_new = match self.cell {
            Cell::Rnn => {
                a.mapv_inplace(f32::tanh);
                a.clone()
            }
            Cell::Lstm => {
                for mut row in a.rows_mut() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = if (2 * n..3 * n).contains(&j) {
                            v.tanh()
                        } else {
                            sigmoid(*v)
                        };
                    }
                }
                let i = a.slice(s![.., 0..n]);
                let f = a.slice(s![.., n..2 * n]);
                let g = a.slice(s![.., 2 * n..3 * n]);
                let o = a.slice(s![.., 3 * n..4 * n]);
                let c = &f * &tr.cs[tr.cs.len() - 1] + &i * &g;
                let h_new = &o * &c.mapv(f32::tanh);
                tr.cs.push(c);
                h_new
            }
        };
        tr.zs.push(z);
        tr.acts.push(a);
        tr.hs.push(h_new);
    }

    /// An empty trace at h_0 = c_0 = 0 for a batch of `b`.
    fn start(&self, b: usize) -> Trace {
        let zero = Array2::<f32>::zeros((b, self.n));
        Trace {
            zs: Vec::new(),
            acts: Vec::new(),
            cs: vec![zero.clone()],
            hs: vec![zero],
        }
    }

    /// logits = h W_yᵀ + b_y. h: (B, n) → (B, S)
    fn head(&self, h: &Array2<f32>) -> Array2<f32> {
        let (_, _, wy, by) = self.split();
        let mut logits = h.dot(&wy.t());
        for mut row in logits.rows_mut() {
            for (v, bb) in row.iter_mut().zip(by) {
                *v += bb;
            }
        }
        logits
    }

    /// Forward over the sequence from h_0 = c_0 = 0; returns the logits (B, S) at the last
    /// step and the trace.
    fn forward(&self, xs: &[Array2<f32>]) -> (Array2<f32>, Trace) {
        let batch = xs.first().map_or(0, |x| x.nrows());
        let mut tr = self.start(batch);
        for x in xs {
            self.step(&mut tr, x);
        }
        let logits = self.head(&tr.hs[tr.hs.len() - 1]);
        (logits, tr)
    }

    /// Mean cross-entropy of the logits against the targets, and ∂/∂logits.
    fn loss(logits: &Array2<f32>, targets: &[usize]) -> (f64, Array2<f32>) {
        let bsz = logits.nrows().max(1) as f32;
        let mut d = Array2::zeros(logits.raw_dim());
        let mut total = 0.0f64;
        for (r, row) in logits.rows().into_iter().enumerate() {
            let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let sum: f32 = row.iter().map(|v| (v - m).exp()).sum();
            let lse = m + sum.ln();
            total += f64::from(lse - row[targets[r]]);
            for (j, v) in row.iter().enumerate() {
                d[(r, j)] = ((v - lse).exp() - if j == targets[r] { 1.0 } else { 0.0 }) / bsz;
            }
        }
        (total / f64::from(bsz), d)
    }

    /// BPTT through the trace, from the end: `outputs` lists (step t, ∂L/∂logits at h_t) for
    /// every step with an output (h_t = tr.hs[t + 1]). Returns the flat gradient and
    /// ‖∂L/∂h_0‖. Forward was `a_t = z_t Wᵀ + b`, the cell update, `logits = h W_yᵀ + b_y`.
    fn backward(&self, tr: &Trace, outputs: &[(usize, Array2<f32>)]) -> (Vec<f32>, f64) {
        let (w, _, wy, _) = self.split();
        let (n, d) = (self.n, self.d);
        let rows = self.cell.rows(n);
        let batch = tr.hs[0].nrows();
        let mut dw = Array2::<f32>::zeros((rows, n + d));
        let mut db = vec![0.0f32; rows];
        let mut dwy = Array2::<f32>::zeros((self.out, n));
        let mut dby = ndarray::Array1::<f32>::zeros(self.out);
        let mut dh = Array2::<f32>::zeros((batch, n));
        let mut dc = Array2::<f32>::zeros((batch, n));
        for t in (0..tr.zs.len()).rev() {
            // logits = h_t W_yᵀ + b_y, for the steps with an output
            for (_, dlogits) in outputs.iter().filter(|(st, _)| *st == t) {
                dwy += &dlogits.t().dot(&tr.hs[t + 1]);
                dby += &dlogits.sum_axis(Axis(0));
                dh += &dlogits.dot(&wy);
            }
            let a = &tr.acts[t];
            let da = match self.cell {
                // h_t = tanh(a_t): da = dh ⊙ (1 − h_t²)
                Cell::Rnn => &dh * &a.mapv(|v| 1.0 - v * v),
                Cell::Lstm => {
                    // c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
                    let (i, f) = (a.slice(s![.., 0..n]), a.slice(s![.., n..2 * n]));
                    let (g, o) = (a.slice(s![.., 2 * n..3 * n]), a.slice(s![.., 3 * n..4 * n]));
                    let tc = tr.cs[t + 1].mapv(f32::tanh);
                    let dct = &dc + &(&dh * &o * &tc.mapv(|v| 1.0 - v * v));
                    let mut da = Array2::<f32>::zeros((batch, 4 * n));
                    da.slice_mut(s![.., 0..n])
                        .assign(&(&dct * &g * i * i.mapv(|v| 1.0 - v)));
                    da.slice_mut(s![.., n..2 * n])
                        .assign(&(&dct * &tr.cs[t] * f * f.mapv(|v| 1.0 - v)));
                    da.slice_mut(s![.., 2 * n..3 * n])
                        .assign(&(&dct * &i * &g.mapv(|v| 1.0 - v * v)));
                    da.slice_mut(s![.., 3 * n..4 * n])
                        .assign(&(&dh * &tc * o * o.mapv(|v| 1.0 - v)));
                    dc = &dct * &f;
                    da
                }
            };
            // a_t = z_t Wᵀ + b
            dw += &da.t().dot(&tr.zs[t]);
            for row in da.rows() {
                for (acc, v) in db.iter_mut().zip(row) {
                    *acc += v;
                }
            }
            let dz = da.dot(&w);
            dh = dz.slice(s![.., 0..n]).to_owned();
        }
        let h0_norm = dh
            .iter()
            .map(|v| f64::from(*v) * f64::from(*v))
            .sum::<f64>()
            .sqrt();
        let mut grad = Vec::with_capacity(self.params.len());
        grad.extend(dw.iter());
        grad.extend(&db);
        grad.extend(dwy.iter());
        grad.extend(dby.iter());
        (grad, h0_norm)
    }

    /// Loss, gradient (flat, like `params`) and ‖∂L/∂h_0‖ (Frobenius over the batch) for a
    /// recall batch: the output is read at the last step.
    pub fn loss_and_grad(&self, batch: &Batch) -> (f64, Vec<f32>, f64) {
        let (logits, tr) = self.forward(&batch.xs);
        let (loss, dlogits) = Self::loss(&logits, &batch.targets);
        let (grad, h0) = self.backward(&tr, &[(tr.zs.len() - 1, dlogits)]);
        (loss, grad, h0)
    }

    /// The loss alone (for finite differences).
    pub fn loss_only(&self, batch: &Batch) -> f64 {
        Self::loss(&self.forward(&batch.xs).0, &batch.targets).0
    }

    /// Accuracy on a batch: the argmax of the logits against the targets.
    pub fn accuracy(&self, batch: &Batch) -> f64 {
        let (logits, _) = self.forward(&batch.xs);
        let right = logits
            .rows()
            .into_iter()
            .zip(&batch.targets)
            .filter(|(row, t)| {
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = j;
                    }
                }
                best == **t
            })
            .count();
        right as f64 / batch.targets.len().max(1) as f64
    }
}

/// The optimiser of the recall runs: AdamW, lr 0.01, no weight decay, global-norm clip 1.
pub fn recall_adamw() -> AdamWConfig {
    AdamWConfig {
        lr: 1e-2,
        weight_decay: 0.0,
        ..AdamWConfig::default()
    }
}

/// One point of a recall run's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecallPoint {
    /// Step.
    pub step: usize,
    /// Training loss of the RNN and the LSTM.
    pub loss: [f64; 2],
    /// ‖∂L/∂h_0‖ of each.
    pub h0_grad: [f64; 2],
}

/// A tanh RNN and an LSTM of the same hidden size trained side by side on the recall task with
/// delay k, on the same batches.
#[derive(Debug, Clone)]
pub struct RecallRun {
    /// Delay k.
    pub k: usize,
    /// The two models: [RNN, LSTM].
    pub models: [RecallModel; 2],
    opts: [FlatAdamW; 2],
    seed: u64,
    eval: std::sync::Arc<Batch>,
    /// Steps taken.
    pub step: usize,
}

impl RecallRun {
    /// Fresh models (seed), hidden size n, delay k.
    pub fn new(k: usize, n: usize, seed: u64) -> Self {
        let models = [
            RecallModel::new(Cell::Rnn, n, INPUTS, SYMBOLS, seed),
            RecallModel::new(Cell::Lstm, n, INPUTS, SYMBOLS, seed),
        ];
        let opts = [
            FlatAdamW::new(recall_adamw(), models[0].params.len()),
            FlatAdamW::new(recall_adamw(), models[1].params.len()),
        ];
        let mut eval_rng = StdRng::seed_from_u64(seed ^ 0xE7A1);
        Self {
            k,
            eval: std::sync::Arc::new(recall_batch(k, EVAL, &mut eval_rng)),
            models,
            opts,
            seed,
            step: 0,
        }
    }

    /// One AdamW step of both models on one fresh batch; the point recorded before the update.
    pub fn train_step(&mut self) -> RecallPoint {
        // Batch i from its own seeded generator: a run can be cloned and resumed.
        let mut rng = StdRng::seed_from_u64(
            (self.seed ^ 0x7EA1).wrapping_add(self.step as u64 * 0x9E37_79B9),
        );
        let batch = recall_batch(self.k, BATCH, &mut rng);
        let mut point = RecallPoint {
            step: self.step,
            loss: [0.0; 2],
            h0_grad: [0.0; 2],
        };
        for m in 0..2 {
            let (loss, grad, h0) = self.models[m].loss_and_grad(&batch);
            self.opts[m].step(&mut self.models[m].params, &grad);
            point.loss[m] = loss;
            point.h0_grad[m] = h0;
        }
        self.step += 1;
        point
    }

    /// Accuracy of [RNN, LSTM] on the fixed evaluation set (256 sequences).
    pub fn accuracy(&self) -> [f64; 2] {
        [
            self.models[0].accuracy(&self.eval),
            self.models[1].accuracy(&self.eval),
        ]
    }
}

/// Train both cells for `steps` at delay k; (accuracy of [RNN, LSTM], history).
pub fn train_recall(k: usize, n: usize, steps: usize, seed: u64) -> ([f64; 2], Vec<RecallPoint>) {
    let mut run = RecallRun::new(k, n, seed);
    let history = (0..steps).map(|_| run.train_step()).collect();
    (run.accuracy(), history)
}

/// [`train_recall`]'s accuracy a step at a time (a browser has no thread to train on): each
/// call takes one training step and returns `None`; the call after the last step returns the
/// accuracy, the same numbers as `train_recall(k, n, steps, seed).0`.
pub fn train_recall_in_steps(
    k: usize,
    n: usize,
    steps: usize,
    seed: u64,
) -> impl FnMut() -> Option<[f64; 2]> + Send {
    let mut run: Option<RecallRun> = None;
    let mut done = 0;
    move || {
        let r = run.get_or_insert_with(|| RecallRun::new(k, n, seed));
        if done < steps {
            r.train_step();
            done += 1;
            return None;
        }
        Some(r.accuracy())
    }
}

/// The delays of the sweep.
pub const SWEEP_K: [usize; 7] = [1, 2, 5, 10, 20, 50, 100];

// ───────────────────────── Teacher forcing vs free running ─────────────────────────

/// Symbols of a copy sequence.
pub const COPY_LEN: usize = 5;
/// Copy-task inputs: the S symbols and a "go" marker that starts the answer.
pub const COPY_INPUTS: usize = SYMBOLS + 1;

/// What the decoder is fed at answer step j > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feeding {
    /// The true previous symbol y_{j−1} (teacher forcing, Williams & Zipser 1989).
    Teacher,
    /// The network's own previous guess argmax ŷ_{j−1} (free running, as at test time).
    Free,
}

/// A batch of copy sequences: L random symbols per sequence.
pub fn copy_batch(b: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    (0..b)
        .map(|_| {
            (0..COPY_LEN)
                .map(|_| rng.random_range(0..SYMBOLS))
                .collect()
        })
        .collect()
}

fn one_hot_rows(symbols: &[usize], width: usize) -> Array2<f32> {
    let mut x = Array2::zeros((symbols.len(), width));
    for (r, &s) in symbols.iter().enumerate() {
        x[(r, s)] = 1.0;
    }
    x
}

fn argmax_rows(logits: &Array2<f32>) -> Vec<usize> {
    logits
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// The copy task on one model: read L symbols, then on "go" write them back one per step,
/// each step fed the previous symbol — the true one or the model's own guess.
/// Returns the logits of each answer step, the trace and the guesses.
fn copy_forward(
    m: &RecallModel,
    seqs: &[Vec<usize>],
    feeding: Feeding,
) -> (Vec<Array2<f32>>, Trace, Vec<Vec<usize>>) {
    let b = seqs.len();
    let mut tr = m.start(b);
    for t in 0..COPY_LEN {
        let col: Vec<usize> = seqs.iter().map(|s| s[t]).collect();
        m.step(&mut tr, &one_hot_rows(&col, COPY_INPUTS));
    }
    let mut logits = Vec::with_capacity(COPY_LEN);
    let mut guesses: Vec<Vec<usize>> = vec![Vec::with_capacity(COPY_LEN); b];
    let mut x = one_hot_rows(&vec![SYMBOLS; b], COPY_INPUTS);
    for j in 0..COPY_LEN {
        m.step(&mut tr, &x);
        let l = m.head(&tr.hs[tr.hs.len() - 1]);
        let guess = argmax_rows(&l);
        for (g, &v) in guesses.iter_mut().zip(&guess) {
            g.push(v);
        }
        let next: Vec<usize> = match feeding {
            Feeding::Teacher => seqs.iter().map(|s| s[j]).collect(),
            // The guess is a constant to the gradient: argmax has none.
            Feeding::Free => guess,
        };
        x = one_hot_rows(&next, COPY_INPUTS);
        logits.push(l);
    }
    (logits, tr, guesses)
}

/// Mean cross-entropy over the L answer steps and its gradient, for one feeding.
pub fn copy_loss_and_grad(
    m: &RecallModel,
    seqs: &[Vec<usize>],
    feeding: Feeding,
) -> (f64, Vec<f32>) {
    let (logits, tr, _) = copy_forward(m, seqs, feeding);
    let mut total = 0.0;
    let mut outputs = Vec::with_capacity(COPY_LEN);
    for (j, l) in logits.iter().enumerate() {
        let targets: Vec<usize> = seqs.iter().map(|s| s[j]).collect();
        let (loss, mut d) = RecallModel::loss(l, &targets);
        d.mapv_inplace(|v| v / COPY_LEN as f32);
        total += loss / COPY_LEN as f64;
        outputs.push((COPY_LEN + j, d));
    }
    let (grad, _) = m.backward(&tr, &outputs);
    (total, grad)
}

/// The copy loss alone (finite differences).
pub fn copy_loss(m: &RecallModel, seqs: &[Vec<usize>], feeding: Feeding) -> f64 {
    let (logits, _, _) = copy_forward(m, seqs, feeding);
    logits
        .iter()
        .enumerate()
        .map(|(j, l)| {
            let targets: Vec<usize> = seqs.iter().map(|s| s[j]).collect();
            RecallModel::loss(l, &targets).0
        })
        .sum::<f64>()
        / COPY_LEN as f64
}

/// Accuracy when the model runs free (as at test time): (per symbol, whole sequences right).
pub fn copy_accuracy(m: &RecallModel, seqs: &[Vec<usize>], feeding: Feeding) -> (f64, f64) {
    let (_, _, guesses) = copy_forward(m, seqs, feeding);
    let mut symbols = 0;
    let mut whole = 0;
    for (g, s) in guesses.iter().zip(seqs) {
        let right = g.iter().zip(s).filter(|(a, b)| a == b).count();
        symbols += right;
        if right == COPY_LEN {
            whole += 1;
        }
    }
    let n = seqs.len().max(1) as f64;
    (symbols as f64 / (n * COPY_LEN as f64), whole as f64 / n)
}

/// One point of a copy run: per model [teacher-forced, free-running], the training loss, and
/// the accuracy on held-out sequences when running free (per symbol, whole sequence).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopyPoint {
    /// Step.
    pub step: usize,
    /// Training loss (each under its own feeding).
    pub loss: [f64; 2],
}

/// Two LSTMs from the same start, one trained with teacher forcing, one running free, on the
/// same batches of the copy task.
#[derive(Debug, Clone)]
pub struct CopyRun {
    /// [teacher-forced, free-running].
    pub models: [RecallModel; 2],
    opts: [FlatAdamW; 2],
    seed: u64,
    eval: std::sync::Arc<Vec<Vec<usize>>>,
    /// Steps taken.
    pub step: usize,
}

impl CopyRun {
    /// Fresh: both models from the same seed (identical at step 0), n hidden units.
    pub fn new(n: usize, seed: u64) -> Self {
        let m = RecallModel::new(Cell::Lstm, n, COPY_INPUTS, SYMBOLS, seed);
        let opt = FlatAdamW::new(recall_adamw(), m.params.len());
        let mut eval_rng = StdRng::seed_from_u64(seed ^ 0xC0B7);
        Self {
            models: [m.clone(), m],
            opts: [opt.clone(), opt],
            seed,
            eval: std::sync::Arc::new(copy_batch(EVAL, &mut eval_rng)),
            step: 0,
        }
    }

    /// One AdamW step of both on one fresh batch.
    pub fn train_step(&mut self) -> CopyPoint {
        let mut rng = StdRng::seed_from_u64(
            (self.seed ^ 0xC0B1).wrapping_add(self.step as u64 * 0x9E37_79B9),
        );
        let seqs = copy_batch(BATCH, &mut rng);
        let mut point = CopyPoint {
            step: self.step,
            loss: [0.0; 2],
        };
        for (m, feeding) in [Feeding::Teacher, Feeding::Free].into_iter().enumerate() {
            let (loss, grad) = copy_loss_and_grad(&self.models[m], &seqs, feeding);
            self.opts[m].step(&mut self.models[m].params, &grad);
            point.loss[m] = loss;
        }
        self.step += 1;
        point
    }

    /// Held-out accuracy of [teacher-forced model, free-running model] when both run free:
    /// (per symbol, whole sequence).
    pub fn free_accuracy(&self) -> [(f64, f64); 2] {
        [
            copy_accuracy(&self.models[0], &self.eval, Feeding::Free),
            copy_accuracy(&self.models[1], &self.eval, Feeding::Free),
        ]
    }

    /// The teacher-forced model's accuracy when it is fed the truth (what its training loss
    /// measures), per symbol and whole sequence.
    pub fn teacher_accuracy(&self) -> (f64, f64) {
        copy_accuracy(&self.models[0], &self.eval, Feeding::Teacher)
    }

    /// The first held-out sequence, and what each model writes for it running free.
    pub fn example(&self) -> (Vec<usize>, [Vec<usize>; 2]) {
        let one = vec![self.eval[0].clone()];
        let g = |m: &RecallModel| copy_forward(m, &one, Feeding::Free).2.remove(0);
        (
            self.eval[0].clone(),
            [g(&self.models[0]), g(&self.models[1])],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accuracy_taken_a_step_at_a_time_is_the_same() {
        for (k, steps) in [(1, 0), (3, 20), (10, 7)] {
            let mut job = train_recall_in_steps(k, 8, steps, 5);
            let mut calls = 1;
            let acc = loop {
                if let Some(a) = job() {
                    break a;
                }
                calls += 1;
            };
            assert_eq!(calls, steps + 1, "one call per step, then the accuracy");
            let whole = train_recall(k, 8, steps, 5).0;
            assert_eq!(
                acc.map(f64::to_bits),
                whole.map(f64::to_bits),
                "k {k}, {steps} steps"
            );
        }
    }
}
