//! `attention-lab train …`: train a model headlessly with a progress line on stderr, then save it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::usage_error;
use crate::data::Task;
use crate::model::checkpoint;
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::train::{TrainConfig, Trainer};

/// Arguments of `train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// bears | reverse | sort | text
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
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f32,
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
            },
            task: Task::parse(&self.task)?,
            text_file: self.text_file.clone(),
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            ..TrainConfig::default()
        })
    }
}

/// Run `train`.
pub fn run(args: &TrainArgs) -> ExitCode {
    let mut trainer = match args.config().and_then(Trainer::new) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let started = Instant::now();
    let mut last_print = Instant::now();
    let mut val = f32::NAN;
    let mut stderr = std::io::stderr();
    for _ in 0..args.steps {
        let s = trainer.step();
        if let Some(v) = s.val_loss {
            val = v;
        }
        if s.diverged {
            let _ = writeln!(
                stderr,
                "\nstep {}: diverged (non-finite loss or weights); rolled back to the last good weights",
                s.step
            );
        }
        if last_print.elapsed().as_millis() >= 100 || s.step == args.steps {
            last_print = Instant::now();
            let _ = write!(
                stderr,
                "\rstep {:>6}/{}  loss {:.4}  val {:.4}  {:>8.0} tok/s  {:>6.1} s",
                s.step,
                args.steps,
                s.loss,
                val,
                s.tokens_per_sec,
                started.elapsed().as_secs_f32()
            );
        }
    }
    let final_val = trainer.val_loss();
    let _ = writeln!(stderr, "\nfinal validation loss {final_val:.4}");
    let tokenizer = match serde_json::to_string(&trainer.data.tokenizer) {
        Ok(t) => t,
        Err(e) => return usage_error(&format!("cannot encode the tokenizer: {e}")),
    };
    match checkpoint::save(&args.out, &trainer.gpt, &tokenizer) {
        Ok(()) => {
            let _ = writeln!(stderr, "wrote {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("attention-lab: error: {e}");
            ExitCode::FAILURE
        }
    }
}
