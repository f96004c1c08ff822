//! Checkpoints: one `.safetensors` file with nanoGPT's tensor names and shapes (ARCHITECTURE.md),
//! so a class can move models between PyTorch and the app.
//!
//! `__metadata__` holds `"config"` (the [`GptConfig`] as JSON) and `"tokenizer"` (JSON, opaque
//! here: the model never knows about text). BatchNorm adds `running_mean` / `running_var` beside
//! each norm's weight and bias. Writes are atomic (`files::write_atomic`: through links, never
//! over a device, no temporary file left behind). Loads read only a regular file of bounded size
//! (`files::read_regular`), check the config against the app's limits and the file's size
//! against the parameters it declares before allocating them, then every name, shape and dtype,
//! and that every weight is finite and of sane size (|w| ≤ `MAX_WEIGHT`) and every BatchNorm
//! variance positive. A failed load names the problem and changes nothing in memory (the loaded
//! model is a new value).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::config::limits::{MAX_PARAMS, MAX_WEIGHT};
use super::config::{GptConfig, NormKind};
use super::gpt::{Gpt, Params};
use super::norm::BnRunning;

/// Names of the BatchNorm statistics tensors, in the order of `Gpt::bn`.
fn bn_names(config: &GptConfig) -> Vec<String> {
    if config.norm != NormKind::BatchNorm {
        return Vec::new();
    }
    let mut names = Vec::new();
    for i in 0..config.n_layer {
        names.push(format!("transformer.h.{i}.ln_1"));
        names.push(format!("transformer.h.{i}.ln_2"));
    }
    names.push("transformer.ln_f".into());
    names
}

fn to_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Serialize a model and its tokenizer (JSON) to safetensors bytes.
pub fn to_bytes_checkpoint(gpt: &Gpt, tokenizer_json: &str) -> Result<Vec<u8>, String> {
    to_bytes_with(gpt, tokenizer_json, &[])
}

/// [`to_bytes_checkpoint`] with more metadata entries (opaque strings, e.g. `"history"`: the
/// training run's loss curve); `"config"` and `"tokenizer"` cannot be replaced.
pub fn to_bytes_with(
    gpt: &Gpt,
    tokenizer_json: &str,
    extra: &[(&str, String)],
) -> Result<Vec<u8>, String> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = gpt
        .params
        .tensors()
        .map(|t| (t.full_name(), t.shape.to_vec(), to_bytes(t.data)))
        .collect();
    for (base, stats) in bn_names(&gpt.config).iter().zip(&gpt.bn) {
        for (suffix, a) in [("running_mean", &stats.mean), ("running_var", &stats.var)] {
            owned.push((format!("{base}.{suffix}"), vec![a.len()], to_bytes(a)));
        }
    }
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("internal error building tensor {name}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = serde_json::to_string(&gpt.config).map_err(|e| e.to_string())?;
    let mut metadata: HashMap<String, String> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    metadata.insert("config".to_owned(), config);
    metadata.insert("tokenizer".to_owned(), tokenizer_json.to_owned());
    safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// Save atomically (`files::write_atomic`).
pub fn save(path: &Path, gpt: &Gpt, tokenizer_json: &str) -> Result<(), String> {
    save_with(path, gpt, tokenizer_json, &[])
}

/// [`save`] with more metadata entries (see [`to_bytes_with`]).
pub fn save_with(
    path: &Path,
    gpt: &Gpt,
    tokenizer_json: &str,
    extra: &[(&str, String)],
) -> Result<(), String> {
    let bytes = to_bytes_with(gpt, tokenizer_json, extra)?;
    crate::files::write_atomic(path, &bytes)
}

/// One metadata entry of a checkpoint's bytes (the header only is read), if it is there.
pub fn metadata_entry(bytes: &[u8], key: &str) -> Result<Option<String>, String> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("not a safetensors checkpoint ({e})"))?;
    Ok(header.metadata().as_ref().and_then(|m| m.get(key).cloned()))
}

/// The largest checkpoint file read: the largest model's weights and a tokenizer's worth of
/// metadata.
pub const MAX_FILE_BYTES: u64 = (MAX_PARAMS as u64) * 4 + (32 << 20);

/// Load a checkpoint file: the model and the tokenizer JSON.
pub fn load(path: &Path) -> Result<(Gpt, String), String> {
    let bytes = crate::files::read_regular(path, MAX_FILE_BYTES)?;
    from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parse and validate safetensors bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<(Gpt, String), String> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("not a safetensors checkpoint ({e})"))?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid safetensors file ({e})"))?;
    let meta = header
        .metadata()
        .clone()
        .ok_or("the file has no metadata: not an attention-lab checkpoint")?;
    let config_json = meta
        .get("config")
        .ok_or("the file has no \"config\" in its metadata: not an attention-lab checkpoint")?;
    let config: GptConfig = serde_json::from_str(config_json)
        .map_err(|e| format!("the \"config\" metadata is invalid: {e}"))?;
    config
        .validate()
        .map_err(|e| format!("the config is invalid: {e}"))?;
    let tokenizer = meta
        .get("tokenizer")
        .ok_or("the file has no \"tokenizer\" in its metadata")?
        .clone();
    // The file must hold the weights its config declares before they are allocated: a small
    // file cannot make the app allocate a large model.
    let declared = config.param_count().saturating_mul(4);
    if declared > bytes.len() {
        return Err(format!(
            "the config declares {} parameters ({declared} bytes) but the file has only {} bytes",
            config.param_count(),
            bytes.len()
        ));
    }

    let mut params = Params::zeros(&config);
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let shapes: Vec<Vec<usize>> = params.tensors().map(|t| t.shape.to_vec()).collect();
    for (dst, shape) in params.tensors_mut().zip(&shapes) {
        let name = dst.full_name();
        read_into(&st, &name, shape, dst.data)?;
        expected.insert(name);
    }
    let mut bn = Vec::new();
    for base in bn_names(&config) {
        let mut stats = BnRunning::new(config.n_embd);
        for (suffix, dst) in [
            ("running_mean", &mut stats.mean),
            ("running_var", &mut stats.var),
        ] {
            let name = format!("{base}.{suffix}");
            expected.insert(name.clone());
            read_into(&st, &name, &[config.n_embd], dst)?;
        }
        bn.push(stats);
    }
    let mut extra: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| !expected.contains(*n))
        .map(str::to_owned)
        .collect();
    if !extra.is_empty() {
        extra.sort();
        return Err(format!(
            "unexpected tensors for this config: {}",
            extra.join(", ")
        ));
    }
    let mut gpt = Gpt::from_params(config, params);
    if !bn.is_empty() {
        gpt.bn = bn;
    }
    for t in gpt.params.tensors() {
        if let Some(v) = t
            .data
            .iter()
            .find(|v| !v.is_finite() || v.abs() > MAX_WEIGHT)
        {
            return Err(format!(
                "tensor {} holds {v}: weights must be finite and within ±{MAX_WEIGHT:e} (a diverged run?)",
                t.full_name()
            ));
        }
    }
    for (base, stats) in bn_names(&gpt.config).iter().zip(&gpt.bn) {
        let bad_mean = stats
            .mean
            .iter()
            .any(|m| !m.is_finite() || m.abs() > MAX_WEIGHT);
        let bad_var = stats
            .var
            .iter()
            .any(|v| !v.is_finite() || *v <= 0.0 || *v > MAX_WEIGHT);
        if bad_mean || bad_var {
            return Err(format!(
                "{base}: the BatchNorm running statistics must be finite, with variances > 0"
            ));
        }
    }
    Ok((gpt, tokenizer))
}

fn read_into(
    st: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
    dst: &mut [f32],
) -> Result<(), String> {
    let view = st
        .tensor(name)
        .map_err(|_| format!("missing tensor {name}"))?;
    if view.dtype() != Dtype::F32 {
        return Err(format!(
            "tensor {name} has dtype {:?}, expected F32",
            view.dtype()
        ));
    }
    if view.shape() != shape {
        return Err(format!(
            "tensor {name} has shape {:?}, expected {:?}",
            view.shape(),
            shape
        ));
    }
    let data = view.data();
    if data.len() != dst.len() * 4 {
        return Err(format!(
            "tensor {name} has {} bytes, expected {}",
            data.len(),
            dst.len() * 4
        ));
    }
    for (d, chunk) in dst.iter_mut().zip(data.chunks_exact(4)) {
        *d = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    Ok(())
}
