//! `attention-lab train …`: train a model headlessly with a progress line on stderr, then save it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::usage_error;
use crate::data::Task;
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::train::{TrainConfig, Trainer};

/// Arguments of `train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// bears | bears-sense (an encoder: tag each "bears" with its sense; use --no-mask) | reverse | sort | text
    #[arg(long, default_value = "bears")]
    pub task: String,
    /// The UTF-8 file for `--task text`.
    #[arg(long, value_name = "F")]
    pub text_file: Option<PathBuf>,
    /// Width of the residual stream (n_embd).
    #[arg(long, default_value_t = 64)]
    pub d: usize,
    /// Transformer blocks.
    #[arg(long, default_value_t = 2)]
    pub layers: usize,
    /// Attention heads per block.
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// Context length (block_size).
    #[arg(long, default_value_t = 16)]
    pub ctx: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = 3e-3, allow_negative_numbers = true)]
    pub lr: f32,
    /// Steps over which the learning rate decays to a tenth (half cosine); 0 keeps it constant.
    #[arg(long, default_value_t = 600)]
    pub lr_decay_steps: usize,
    /// Training steps.
    #[arg(long, default_value_t = 600)]
    pub steps: usize,
    /// Seed of initialisation and batches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// learned | sinusoidal | binary | none
    #[arg(long, default_value = "learned")]
    pub pos: String,
    /// Do not scale scores by 1/√(head size).
    #[arg(long)]
    pub no_scale: bool,
    /// No causal mask (an encoder: every token sees every other).
    #[arg(long)]
    pub no_mask: bool,
    /// No skip connections: x ← f(x) instead of x + f(x) around each sub-layer.
    #[arg(long)]
    pub no_residual: bool,
    /// layernorm | rmsnorm | batchnorm | none
    #[arg(long, default_value = "layernorm")]
    pub norm: String,
    /// Where to write the checkpoint (.safetensors).
    #[arg(long, value_name = "F.safetensors")]
    pub out: PathBuf,
}

fn parse_enum<T: serde::de::DeserializeOwned>(
    what: &str,
    value: &str,
    choices: &str,
) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| format!("unknown {what} \"{value}\"; valid: {choices}"))
}

impl TrainArgs {
    /// The training configuration these arguments describe.
    pub fn config(&self) -> Result<TrainConfig, String> {
        let pos: PosEncoding = parse_enum(
            "positional encoding",
            &self.pos,
            "learned, sinusoidal, binary, none",
        )?;
        let norm: NormKind = parse_enum("norm", &self.norm, "layernorm, rmsnorm, batchnorm, none")?;
        Ok(TrainConfig {
            model: GptConfig {
                vocab_size: 1,
                n_layer: self.layers,
                n_head: self.heads,
                n_embd: self.d,
                block_size: self.ctx,
                pos_encoding: pos,
                attn_scale: !self.no_scale,
                causal: !self.no_mask,
                norm,
                residual: !self.no_residual,
            },
            task: Task::parse(&self.task)?,
            text_file: self.text_file.clone(),
            batch: self.batch,
            lr: self.lr,
            lr_decay_steps: self.lr_decay_steps,
            seed: self.seed,
            ..TrainConfig::default()
        })
    }
}

/// A line of progress on stderr. If stderr is closed or broken (output piped into a program
/// that stopped reading), only the progress is lost: the run goes on, and its result is the
/// exit status.
fn progress(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    if err.write_fmt(args).and_then(|()| err.flush()).is_err() {
        // Nothing left to tell it on.
    }
}

/// The most training steps one command runs.
pub const MAX_STEPS: usize = 10_000_000;

/// Run `train`.
pub fn run(args: &TrainArgs) -> ExitCode {
    let config = match args.config().and_then(|c| c.validate().map(|()| c)) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if args.steps > MAX_STEPS {
        return usage_error(&format!(
            "--steps must be at most {MAX_STEPS}, got {}",
            args.steps
        ));
    }
    // Before any long work: the checkpoint can be written where asked.
    if let Err(e) = crate::files::check_writable(&args.out) {
        return usage_error(&e);
    }
    let started = Instant::now();
    let trainer = match &config.text_file {
        Some(path) => crate::data::TextLoader::open(path, config.model.block_size)
            .and_then(|mut loader| {
                loop {
                    if let Some(data) = loader.work(std::time::Duration::from_millis(200))? {
                        progress(format_args!("\rreading {}: done   \n", loader.name()));
                        break Ok(data);
                    }
                    progress(format_args!(
                        "\rreading {}: {:.0} %",
                        loader.name(),
                        100.0 * loader.progress()
                    ));
                }
            })
            .and_then(|data| Trainer::from_dataset(config.clone(), data)),
        None => Trainer::new(config.clone()),
    };
    let mut trainer = match trainer {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    // The steps run on the thread pool, as the GUI's worker runs them.
    let mut history = Vec::with_capacity(args.steps);
    let diverged = crate::engine::pool::install(|| {
        let mut last_print = Instant::now();
        let mut val: Option<f32> = None;
        for _ in 0..args.steps {
            let s = trainer.step();
            history.push(crate::train::LossPoint {
                step: s.step,
                train: s.loss,
                val: s.val_loss,
            });
            if s.val_loss.is_some() {
                val = s.val_loss;
            }
            if let Some(why) = s.diverged {
                progress(format_args!(
                    "\nstep {}: training diverged ({why}); the weights went back to step {}.\n",
                    s.step,
                    trainer.last_good_step()
                ));
                eprintln!(
                    "attention-lab: error: the run diverged, so nothing was saved to {}; lower --lr (it is {}) and train again",
                    args.out.display(),
                    args.lr
                );
                return true;
            }
            if last_print.elapsed().as_millis() >= 100 || s.step == args.steps {
                last_print = Instant::now();
                let val = val.map_or_else(|| "—".to_owned(), |v| format!("{v:.4}"));
                progress(format_args!(
                    "\rstep {:>6}/{}  loss {:.4}  val {val}  {:>8.0} tok/s  {:>6.1} s",
                    s.step,
                    args.steps,
                    s.loss,
                    s.tokens_per_sec,
                    started.elapsed().as_secs_f32()
                ));
            }
        }
        false
    });
    if diverged {
        return ExitCode::FAILURE;
    }
    let final_val = trainer.val_loss();
    progress(format_args!("\nfinal validation loss {final_val:.4}\n"));
    // The loss curve goes with the weights: the GUI draws it for a pretrained model.
    let saved = crate::train::saved::save_with_history(
        &args.out,
        &trainer.gpt,
        &trainer.data.tokenizer,
        &history,
    );
    match saved {
        Ok(()) => {
            progress(format_args!("wrote {}\n", args.out.display()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("attention-lab: error: {e}");
            ExitCode::FAILURE
        }
    }
}
