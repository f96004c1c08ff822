//! `attention-lab inspect --checkpoint F --prompt "…" [--grads-out G]`: one eval-mode forward pass
//! on a prompt, printed as JSON (tokens, ids, logits, attention, loss); optionally the gradient
//! of that loss with respect to every parameter, saved under the parameters' own names.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use super::usage_error;
use crate::data::Tokenizer;
use crate::model::gpt::{Activations, Gpt, Params, attention_maps, gpt_backward, gpt_forward};
use crate::model::loss::IGNORE;

/// Arguments of `inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// The checkpoint (.safetensors).
    #[arg(long, value_name = "F")]
    pub checkpoint: PathBuf,
    /// The prompt.
    #[arg(long, default_value = "i love bears")]
    pub prompt: String,
    /// Write the gradient of the loss with respect to every parameter here (.safetensors).
    #[arg(long, value_name = "G")]
    pub grads_out: Option<PathBuf>,
}

/// The JSON of `inspect`, and the gradients when asked for.
pub fn inspect(
    gpt: &Gpt,
    tokenizer: &Tokenizer,
    prompt: &str,
    want_grads: bool,
) -> Result<(serde_json::Value, Option<Params>), String> {
    let ids = tokenizer.encode(prompt).map_err(|e| e.to_string())?;
    if ids.is_empty() {
        return Err("the prompt is empty".into());
    }
    let t = ids.len();
    if t > gpt.config.block_size {
        return Err(format!(
            "the prompt has {t} tokens; the model's context is {}",
            gpt.config.block_size
        ));
    }
    let mut targets: Vec<usize> = ids[1..].to_vec();
    targets.push(IGNORE);
    let mut acts = Activations::default();
    let loss = gpt_forward(gpt, &mut acts, &ids, Some(&targets), 1, t, false).unwrap_or(f32::NAN);
    let logits: Vec<Vec<f32>> = acts.logits.outer_iter().map(|r| r.to_vec()).collect();
    let attention: Vec<Vec<Vec<Vec<f32>>>> = attention_maps(&acts, 0)
        .iter()
        .map(|layer| {
            layer
                .iter()
                .map(|a| a.outer_iter().map(|r| r.to_vec()).collect())
                .collect()
        })
        .collect();
    let grads = want_grads.then(|| {
        let mut g = Params::zeros(&gpt.config);
        gpt_backward(gpt, &mut acts, &targets, &mut g);
        g
    });
    let value = json!({
        "tokens": tokenizer.pieces(prompt),
        "token_ids": ids,
        "logits": logits,
        "attention": attention,
        "loss": if t > 1 { json!(loss) } else { json!(null) },
    });
    Ok((value, grads))
}

/// Run `inspect`.
pub fn run(args: &InspectArgs) -> ExitCode {
    if let Some(out) = &args.grads_out {
        // The gradients never replace the model they come from (also through a link).
        if out == &args.checkpoint || crate::files::same_file(out, &args.checkpoint) {
            return usage_error(&format!(
                "--grads-out {} is the checkpoint itself: writing the gradients there would replace the model; choose another file",
                out.display()
            ));
        }
        if let Err(e) = crate::files::check_writable(out) {
            return usage_error(&e);
        }
    }
    let (gpt, tokenizer) = match crate::train::saved::load(&args.checkpoint) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let (value, grads) = match inspect(&gpt, &tokenizer, &args.prompt, args.grads_out.is_some()) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    if let (Some(path), Some(grads)) = (&args.grads_out, grads) {
        // Only the gradients, under the parameters' names (no BatchNorm statistics).
        let as_model = Gpt {
            params: grads,
            bn: Vec::new(),
            ..gpt.clone()
        };
        if let Err(e) = crate::train::saved::save(path, &as_model, &tokenizer) {
            return usage_error(&e);
        }
    }
    super::print_stdout(&value.to_string())
}
