//! The residuals lesson's numbers: `data residuals`, the parameter split of a block, the
//! trainer's per-layer gradient norms against the gradients `inspect --grads-out` writes and a
//! recomputation of its batch, and the skipless deep stack starving its first layers.

use std::process::Command;

use attention_lab::cli::data::data_json;
use attention_lab::data::Task;
use attention_lab::model::checkpoint;
use attention_lab::model::gpt::{Activations, gpt_backward, gpt_forward};
use attention_lab::model::params::Params;
use attention_lab::train::{TrainConfig, Trainer};

/// Per-layer norms of tensors named `transformer.h.{l}.*`.
fn norms_by_name(p: &Params, layers: usize) -> Vec<f32> {
    (0..layers)
        .map(|l| {
            let prefix = format!("transformer.h.{l}.");
            let sum: f64 = p
                .tensors()
                .filter(|t| t.full_name().starts_with(&prefix))
                .flat_map(|t| t.data.iter())
                .map(|&v| f64::from(v) * f64::from(v))
                .sum();
            sum.sqrt() as f32
        })
        .collect()
}

#[test]
fn per_layer_gradient_norms_match_the_gradients_inspect_writes() {
    let dir = std::env::temp_dir().join(format!("al-res-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let model = dir.join("bears.safetensors");
    std::fs::write(&model, attention_lab::pretrained::BEARS).unwrap_or_else(|e| panic!("{e}"));
    let grads = dir.join("grads.safetensors");
    let out = Command::new(env!("CARGO_BIN_EXE_attention-lab"))
        .args(["inspect", "--checkpoint"])
        .arg(&model)
        .args([
            "--prompt",
            "she bears the pain . the bears won the",
            "--grads-out",
        ])
        .arg(&grads)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (written, _) = checkpoint::load(&grads).unwrap_or_else(|e| panic!("{e}"));
    let layers = written.config.n_layer;
    // Params::block_norms_into groups each block's tensors as the file names them.
    let by_name = norms_by_name(&written.params, layers);
    let mut by_block = Vec::new();
    written.params.block_norms_into(&mut by_block);
    for (a, b) in by_name.iter().zip(&by_block) {
        assert!(
            (a - b).abs() <= 1e-6 * a.max(1.0),
            "{by_name:?} vs {by_block:?}"
        );
    }
    assert!(by_block.iter().all(|&n| n > 0.0));
    std::fs::remove_dir_all(&dir).unwrap_or(());
}

#[test]
fn the_trainer_reports_the_norms_of_its_own_gradient() {
    let config = TrainConfig {
        task: Task::Bears,
        batch: 1,
        eval_every: 0,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config).unwrap_or_else(|e| panic!("{e}"));
    let before = trainer.gpt.clone();
    let stats = trainer.step();
    assert!(stats.diverged.is_none());
    let got = trainer.layer_grad_norms().to_vec();
    let (inputs, targets) = trainer.last_batch();
    let (inputs, targets) = (inputs.to_vec(), targets.to_vec());
    let t = before.config.block_size;
    let mut acts = Activations::default();
    gpt_forward(&before, &mut acts, &inputs, Some(&targets), 1, t, true);
    let mut grads = Params::zeros(&before.config);
    gpt_backward(&before, &mut acts, &targets, &mut grads);
    let want = norms_by_name(&grads, before.config.n_layer);
    assert_eq!(got.len(), want.len());
    for (got, want) in got.iter().zip(&want) {
        assert!(
            (got - want).abs() <= 1e-4 * want.max(1e-6),
            "{got} vs {want}"
        );
    }
}

#[test]
fn data_residuals_has_the_stream_the_params_and_the_gradient_table() {
    let v = data_json("residuals", &["layers=3".into()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["stream"].as_array().map(Vec::len), Some(9));
    let t = v["tokens"].as_array().map_or(0, Vec::len);
    assert_eq!(v["mlp_hidden"].as_array().map(Vec::len), Some(t));
    assert_eq!(v["mlp_hidden"][0].as_array().map(Vec::len), Some(256));
    // d = 64: attention 4d² + 4d, MLP 8d² + 5d, norms 4d; the MLP is two thirds of a block.
    assert_eq!(v["params"]["attention"], 16640);
    assert_eq!(v["params"]["mlp"], 33088);
    assert_eq!(v["params"]["norms"], 256);
    let share = v["params"]["mlp_share"].as_f64().unwrap_or(0.0);
    assert!((share - 33088.0 / 49984.0).abs() < 1e-9, "{share}");
    let table = v["grad_norms"]["per_layer"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(table.len(), 3);
    assert!(
        table
            .iter()
            .all(|row| row.as_array().map(Vec::len) == Some(20))
    );
}

#[test]
fn without_skips_a_deep_stacks_first_layer_gets_almost_no_gradient() {
    // 8 blocks, LayerNorm in both; the same seed and data. After 20 steps the first block's
    // gradient norm without skip connections is far below the one with them.
    let first = |residual: &str| -> f64 {
        let v = data_json(
            "residuals",
            &["layers=8".into(), format!("residual={residual}")],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let row = v["grad_norms"]["per_layer"][0]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let logs: Vec<f64> = row.iter().filter_map(|x| x.as_f64()).map(f64::ln).collect();
        (logs.iter().sum::<f64>() / logs.len().max(1) as f64).exp()
    };
    let (with, without) = (first("true"), first("false"));
    assert!(
        with > 100.0 * without,
        "with skips {with:e}, without {without:e}"
    );
}
