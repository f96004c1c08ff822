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
