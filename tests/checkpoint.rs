//! Checkpoints: round trip, and every kind of bad file gives a clear error.

use attention_lab::model::checkpoint::{from_bytes, load, save, to_bytes_checkpoint};
use attention_lab::model::gpt::Gpt;
use attention_lab::model::{GptConfig, NormKind, PosEncoding};
use rand::SeedableRng;
use rand::rngs::StdRng;

const TOKENIZER: &str = r#"{"kind":"word","vocab":["a","b","c","d","e"]}"#;

fn model(norm: NormKind, pos: PosEncoding) -> Gpt {
    let config = GptConfig {
        vocab_size: 5,
        n_layer: 2,
        n_head: 2,
        n_embd: 8,
        block_size: 6,
        norm,
        pos_encoding: pos,
        ..GptConfig::default()
    };
    Gpt::new(config, &mut StdRng::seed_from_u64(3))
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("al-ckpt-{}-{name}.safetensors", std::process::id()))
}

#[test]
fn round_trip_keeps_everything() {
    for (norm, pos) in [
        (NormKind::LayerNorm, PosEncoding::Learned),
        (NormKind::BatchNorm, PosEncoding::Sinusoidal),
    ] {
        let mut gpt = model(norm, pos);
        if let Some(stats) = gpt.bn.first_mut() {
            stats.mean.fill(0.25);
        }
        let path = tmp(&format!("{norm:?}"));
        save(&path, &gpt, TOKENIZER).unwrap_or_else(|e| panic!("{e}"));
        let (back, tok) = load(&path).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&path);
        assert_eq!(back, gpt);
        assert_eq!(tok, TOKENIZER);
    }
}

#[test]
fn nanogpt_names_and_shapes() {
    let gpt = model(NormKind::LayerNorm, PosEncoding::Learned);
    let names: Vec<(String, Vec<usize>)> = gpt
        .params
        .tensors()
        .map(|t| (t.full_name(), t.shape.to_vec()))
        .collect();
    assert!(names.contains(&("transformer.wte.weight".into(), vec![5, 8])));
    assert!(names.contains(&("transformer.wpe.weight".into(), vec![6, 8])));
    assert!(names.contains(&("transformer.h.1.attn.c_attn.weight".into(), vec![24, 8])));
    assert!(names.contains(&("transformer.h.0.mlp.c_proj.weight".into(), vec![8, 32])));
    assert!(names.contains(&("transformer.ln_f.bias".into(), vec![8])));
    assert!(
        !names.iter().any(|(n, _)| n.contains("lm_head")),
        "the head is tied to wte"
    );
}

#[test]
fn bad_files_give_clear_errors() {
    let gpt = model(NormKind::LayerNorm, PosEncoding::Learned);
    let bytes = to_bytes_checkpoint(&gpt, TOKENIZER).unwrap_or_default();

    let truncated = &bytes[..bytes.len() - 10];
    let e = from_bytes(truncated).err().unwrap_or_default();
    assert!(e.contains("safetensors"), "{e}");

    let e = from_bytes(b"this is not a checkpoint at all")
        .err()
        .unwrap_or_default();
    assert!(e.contains("not a safetensors"), "{e}");

    // Rename a tensor in the header (same length, so offsets stay valid).
    let mut renamed = bytes.clone();
    let needle = b"transformer.ln_f.bias";
    if let Some(at) = renamed.windows(needle.len()).position(|w| w == needle) {
        renamed[at + needle.len() - 2] = b'x';
    }
    let e = from_bytes(&renamed).err().unwrap_or_default();
    assert!(e.contains("missing tensor transformer.ln_f.bias"), "{e}");

    // A checkpoint whose config promises a different shape.
    let other = model(NormKind::LayerNorm, PosEncoding::Learned);
    let mut wrong = other.clone();
    wrong.config.block_size = 7;
    let bytes = to_bytes_checkpoint(
        &Gpt {
            config: wrong.config.clone(),
            ..other
        },
        TOKENIZER,
    )
    .unwrap_or_default();
    let e = from_bytes(&bytes).err().unwrap_or_default();
    assert!(
        e.contains("transformer.wpe.weight has shape [6, 8], expected [7, 8]"),
        "{e}"
    );

    let e = load(std::path::Path::new("/nonexistent/x.safetensors"))
        .err()
        .unwrap_or_default();
    assert!(e.contains("cannot read"), "{e}");
}

#[test]
fn a_checkpoint_keeps_the_loss_curve_of_its_run() {
    use attention_lab::data::Tokenizer;
    use attention_lab::train::LossPoint;
    use attention_lab::train::saved::{HISTORY_POINTS, history_from_bytes, save_with_history};
    let gpt = model(NormKind::LayerNorm, PosEncoding::Learned);
    let tokenizer: Tokenizer = serde_json::from_str(TOKENIZER).unwrap_or_else(|e| panic!("{e}"));
    // 5000 steps, a validation every 100: thinned to at most HISTORY_POINTS plus every
    // validation point, steps increasing.
    let history: Vec<LossPoint> = (1..=5000)
        .map(|step| LossPoint {
            step,
            train: 3.0 / step as f32,
            val: step.is_multiple_of(100).then_some(2.0 / step as f32),
        })
        .collect();
    let path = tmp("history");
    save_with_history(&path, &gpt, &tokenizer, &history).unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let back = history_from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        back.len() <= HISTORY_POINTS + 50 && back.len() >= 1000,
        "{}",
        back.len()
    );
    assert_eq!(back.iter().filter(|p| p.val.is_some()).count(), 50);
    assert_eq!(back.first().map(|p| p.step), Some(1));
    assert_eq!(back.last().map(|p| p.step), Some(5000));
    for p in &back {
        assert_eq!(p.train, 3.0 / p.step as f32);
    }
    // The model loads as ever; a checkpoint without a history has an empty one.
    load(&path).unwrap_or_else(|e| panic!("{e}"));
    let plain = to_bytes_checkpoint(&gpt, TOKENIZER).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(history_from_bytes(&plain).map(|h| h.len()), Ok(0));
    // A history with steps out of order or a non-finite loss is refused.
    for bad in [
        "[[2,1.0,null],[1,1.0,null]]",
        "[[1,1e999,null]]",
        "{\"a\":1}",
    ] {
        let bytes = attention_lab::model::checkpoint::to_bytes_with(
            &gpt,
            TOKENIZER,
            &[("history", bad.to_owned())],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let err = history_from_bytes(&bytes).err().unwrap_or_default();
        assert!(err.contains("history"), "{bad}: {err}");
    }
    std::fs::remove_file(&path).unwrap_or(());
}

#[test]
fn the_bundled_model_carries_its_training_run() {
    let history = attention_lab::pretrained::bears_history().unwrap_or_else(|e| panic!("{e}"));
    // `attention-lab train --task bears --steps 600` (README): 600 steps, falling loss.
    assert_eq!(history.last().map(|p| p.step), Some(600));
    let first = history.first().map_or(0.0, |p| p.train);
    let val = history.iter().rev().find_map(|p| p.val).unwrap_or(f32::NAN);
    assert!(
        first > 2.0 && val < 0.7,
        "first {first}, last validation {val}"
    );
}
