//! The decoding lesson's numbers: greedy, beam search, the exact searches (Viterbi, branch and
//! bound, enumeration) and BLEU, against independent references and against each other.

use attention_lab::cli::data::data_json;
use attention_lab::math::decoding::{
    ExactSearch, ModelNext, NextToken, Smoothing, Trellis, beam_search, enumerate, exact_search,
    greedy, log_softmax, sentence_bleu, viterbi, words,
};
use attention_lab::model::gpt::{Activations, gpt_forward};
use attention_lab::pretrained::bears;
use rand::{RngExt, SeedableRng};

fn trellis(start: [f64; 3], next: [[f64; 3]; 3]) -> Trellis {
    Trellis {
        words: vec!["a".into(), "b".into(), "c".into()],
        start: start.to_vec(),
        next: next.iter().map(|r| r.to_vec()).collect(),
    }
}

fn random_trellis(rng: &mut rand::rngs::StdRng) -> Trellis {
    let mut w = || rng.random_range(1..10) as f64 / 10.0;
    trellis(
        [w(), w(), w()],
        [[w(), w(), w()], [w(), w(), w()], [w(), w(), w()]],
    )
}

#[test]
fn beam_width_one_is_greedy() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..200 {
        let mut t = random_trellis(&mut rng);
        for depth in 1..=4 {
            let g = greedy(&mut t, depth);
            let b = beam_search(&mut t, 1, depth, 0.0);
            assert_eq!(b.best.len(), 1);
            assert_eq!(b.best[0].hyp, g);
        }
    }
    let Ok((gpt, tok)) = bears() else {
        panic!("the bundled model loads")
    };
    for prompt in ["the", "the bears", "she", "i love", "fans cheer"] {
        let ids = tok.encode(prompt).unwrap_or_else(|e| panic!("{e:?}"));
        let mut m = ModelNext::new(&gpt, ids, tok.id("."));
        for alpha in [0.0, 1.0] {
            let g = greedy(&mut m, 8);
            let b = beam_search(&mut m, 1, 8, alpha);
            assert_eq!(b.best[0].hyp, g, "{prompt} α={alpha}");
        }
    }
}

#[test]
fn on_a_trellis_viterbi_and_a_beam_that_never_prunes_find_the_exhaustive_optimum() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..200 {
        let mut t = random_trellis(&mut rng);
        for depth in 1..=4 {
            let all = enumerate(&mut t, depth);
            assert_eq!(all.len(), 3_usize.pow(depth as u32));
            let best = &all[0];
            let v = viterbi(&t, depth);
            assert!((v.log_prob - best.log_prob).abs() < 1e-12);
            // Width V^(n−1): nothing is pruned before the last step.
            let w = 3_usize.pow(depth as u32 - 1);
            let b = beam_search(&mut t, w, depth, 0.0);
            assert!((b.best[0].hyp.log_prob - best.log_prob).abs() < 1e-12);
            // The exact branch and bound agrees.
            let e = exact_search(&mut t, depth, 1_000_000).unwrap_or_else(|| panic!("budget"));
            assert!((e.best.log_prob - best.log_prob).abs() < 1e-12);
        }
    }
}

#[test]
fn a_beam_as_wide_as_the_branching_can_still_miss_the_optimum() {
    // Found by this search over weights 0.1 … 0.9 (Python, beam as Jurafsky & Martin, stable sort):
    //   start=[.8,.7,.6]; next=[[.7,.9,.3],[.9,.1,.9],[.2,.5,.2]] (rows normalised)
    //   beam W=3 → (a, b, a): p = .8/2.1 · .9/1.9 · .9/1.9 = 0.0854768500
    //   best     → (b, c, b): p = .7/2.1 · .9/1.9 · .5/.9  = 0.0877192982
    let mut t = trellis(
        [0.8, 0.7, 0.6],
        [[0.7, 0.9, 0.3], [0.9, 0.1, 0.9], [0.2, 0.5, 0.2]],
    );
    let b = beam_search(&mut t, 3, 3, 0.0);
    assert_eq!(b.best[0].hyp.tokens, vec![0, 1, 0]);
    assert!((b.best[0].hyp.log_prob.exp() - 0.085_476_850_0).abs() < 1e-9);
    let v = viterbi(&t, 3);
    assert_eq!(v.tokens, vec![1, 2, 1]);
    assert!((v.log_prob.exp() - 0.087_719_298_2).abs() < 1e-9);
    // The lecture example: greedy a a a (0.08) loses to b a a (0.144); W = 2 finds it.
    let mut l = Trellis::lecture();
    let g = greedy(&mut l, 3);
    assert_eq!(g.tokens, vec![0, 0, 0]);
    assert!((g.log_prob.exp() - 0.5 * 0.4 * 0.4).abs() < 1e-12);
    let best = viterbi(&l, 3);
    assert_eq!(best.tokens, vec![1, 0, 0]);
    assert!((best.log_prob.exp() - 0.4 * 0.9 * 0.4).abs() < 1e-12);
    assert_eq!(
        beam_search(&mut l, 2, 3, 0.0).best[0].hyp.tokens,
        vec![1, 0, 0]
    );
}

/// Σ log p of `tokens` after `prompt`, one forward pass over the whole sequence.
fn sequence_log_prob(gpt: &attention_lab::model::Gpt, prompt: &[usize], tokens: &[usize]) -> f64 {
    let seq: Vec<usize> = prompt.iter().chain(tokens).copied().collect();
    let t = seq.len();
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, &seq, None, 1, t, false);
    let v = gpt.config.vocab_size;
    tokens
        .iter()
        .enumerate()
        .map(|(k, &tok)| {
            let row = acts.logits.row(prompt.len() + k - 1);
            log_softmax(row.iter().copied().take(v))[tok]
        })
        .sum()
}

#[test]
fn the_n_best_list_is_sorted_and_its_log_probs_are_the_models_own() {
    let Ok((gpt, tok)) = bears() else {
        panic!("the bundled model loads")
    };
    for (prompt, width, alpha) in [("the", 4, 0.0), ("the", 16, 1.0), ("she bears", 6, 0.5)] {
        let ids = tok.encode(prompt).unwrap_or_else(|e| panic!("{e:?}"));
        let mut m = ModelNext::new(&gpt, ids.clone(), tok.id("."));
        let r = beam_search(&mut m, width, 8, alpha);
        assert_eq!(r.best.len(), width);
        for pair in r.best.windows(2) {
            assert!(pair[0].score >= pair[1].score);
        }
        for n in &r.best {
            let want = sequence_log_prob(&gpt, &ids, &n.hyp.tokens);
            assert!(
                (n.hyp.log_prob - want).abs() < 1e-4,
                "{prompt}: {} vs {want}",
                n.hyp.log_prob
            );
            let len = n.hyp.tokens.len() as f64;
            assert!((n.score - n.hyp.log_prob / len.powf(alpha)).abs() < 1e-12);
            assert_eq!(n.hyp.done, n.hyp.tokens.last() == tok.id(".").as_ref());
        }
        // The tree: every kept node's parent is a kept, unfinished node of the step before.
        for (k, step) in r.steps.iter().enumerate().skip(1) {
            let alive: Vec<_> = r.steps[k - 1].kept.iter().filter(|n| !n.hyp.done).collect();
            for n in step.kept.iter().chain(&step.pruned) {
                let p = alive[n.parent.unwrap_or(usize::MAX).min(alive.len() - 1)];
                assert_eq!(p.hyp.tokens[..], n.hyp.tokens[..n.hyp.tokens.len() - 1]);
            }
        }
    }
}

#[test]
fn branch_and_bound_is_the_exhaustive_optimum_of_the_model() {
    let Ok((gpt, tok)) = bears() else {
        panic!("the bundled model loads")
    };
    for prompt in ["the", "she", "fans"] {
        let ids = tok.encode(prompt).unwrap_or_else(|e| panic!("{e:?}"));
        let mut m = ModelNext::new(&gpt, ids, tok.id("."));
        for horizon in 1..=3 {
            let all = enumerate(&mut m, horizon);
            let e = exact_search(&mut m, horizon, 100_000).unwrap_or_else(|| panic!("budget"));
            assert!(
                (e.best.log_prob - all[0].log_prob).abs() < 1e-9,
                "{prompt} {horizon}"
            );
            assert_eq!(e.best.tokens, all[0].tokens);
            // Far fewer prefixes than the enumeration's 1 + V + … + V^(n−1).
            assert!(e.calls <= 1 + m.vocab().pow(horizon as u32 - 1));
        }
    }
    // On "the" greedy loses: "bears play ." (log p ≈ −2.84) against "game ." (≈ −2.10).
    let ids = tok.encode("the").unwrap_or_else(|e| panic!("{e:?}"));
    let mut m = ModelNext::new(&gpt, ids, tok.id("."));
    let g = greedy(&mut m, 8);
    let e = exact_search(&mut m, 8, 100_000).unwrap_or_else(|| panic!("budget"));
    assert!(e.best.log_prob > g.log_prob + 0.5);
    assert_eq!(beam_search(&mut m, 2, 8, 0.0).best[0].hyp, e.best);
}

#[test]
fn the_exact_search_in_pieces_is_the_search_whole() {
    let Ok((gpt, tok)) = bears() else {
        panic!("the bundled model loads")
    };
    let ids = tok.encode("the").unwrap_or_else(|e| panic!("{e:?}"));
    let mut m = ModelNext::new(&gpt, ids, tok.id("."));
    // The prefixes the search needs at 5 tokens; one fewer is over budget.
    let need = exact_search(&mut m, 5, 100_000)
        .unwrap_or_else(|| panic!("budget"))
        .calls;
    assert!(exact_search(&mut m, 5, need - 1).is_none());
    for (horizon, budget) in [(5, 100_000), (5, need - 1), (2, 100_000)] {
        let whole = exact_search(&mut m, horizon, budget);
        for piece in [1, 7] {
            let mut search = ExactSearch::new(horizon, budget);
            let mut pieces = 1;
            let parts = loop {
                if let Some(done) = search.advance(&mut m, piece) {
                    break done;
                }
                pieces += 1;
            };
            assert_eq!(
                parts, whole,
                "horizon {horizon}, budget {budget}, {piece} a piece"
            );
            // Every piece but the last asks `piece` prefixes (the first also greedy's).
            let greedy_calls = greedy(&mut m, horizon).tokens.len();
            let calls = whole.as_ref().map_or(budget + 1, |e| e.calls) - greedy_calls;
            assert!(
                pieces >= calls.div_ceil(piece).max(1),
                "{pieces} pieces for {calls} calls"
            );
        }
    }
}

#[test]
fn section_3s_curve_in_pieces_is_the_curve_written_out() {
    use attention_lab::lessons::decoding::{CurveJob, EXACT_BUDGET, model_curve};
    let Ok((gpt, tok)) = bears() else {
        panic!("the bundled model loads")
    };
    let (prompt, horizon, widths) = ("the fans", 4, 16);
    // As section 3 computed it in one go before it was cut into pieces.
    let ids = tok.encode(prompt).unwrap_or_else(|e| panic!("{e:?}"));
    let mut m = ModelNext::new(&gpt, ids, tok.id("."));
    let exact = exact_search(&mut m, horizon, EXACT_BUDGET);
    let beams: Vec<_> = (1..=widths)
        .map(|w| beam_search(&mut m, w, horizon, 0.0).best[0].hyp.clone())
        .collect();
    let mut job = CurveJob::new(None, prompt, horizon, widths).unwrap_or_else(|e| panic!("{e}"));
    let mut pieces = 1;
    let (curve, vocab) = loop {
        if let Some(done) = job.advance() {
            break done;
        }
        pieces += 1;
    };
    // The exact search (a piece at least), a piece per width, and the last.
    assert!(pieces >= widths + 2, "{pieces} pieces");
    assert_eq!(curve.exact, exact);
    assert_eq!(curve.widths, (1..=widths).collect::<Vec<_>>());
    assert_eq!(
        curve.found,
        beams.iter().map(|h| h.log_prob).collect::<Vec<_>>()
    );
    assert_eq!(
        curve.found_tokens,
        beams.iter().map(|h| h.tokens.clone()).collect::<Vec<_>>()
    );
    assert_eq!(vocab, tok.vocab());
    let whole = model_curve(None, prompt, horizon, widths).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(whole.0.found, curve.found);
}

fn bleu(c: &str, refs: &[&str], smoothing: Smoothing) -> f64 {
    let refs: Vec<Vec<String>> = refs.iter().map(|r| words(r)).collect();
    sentence_bleu(&words(c), &refs, smoothing).bleu
}

#[test]
fn sentence_bleu_matches_nltk() {
    // NLTK 3.10 (sentence BLEU, weights ¼, closest reference length):
    //   from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction
    //   h, r = c.split(), [x.split() for x in refs]
    //   sentence_bleu(r, h), sentence_bleu(r, h, smoothing_function=SmoothingFunction().method1)
    // Unsmoothed, NLTK replaces a zero precision by the smallest float (≈ 1e-78 … 1e-231 below);
    // Papineni's definition (log 0 = −∞) gives exactly 0, which is what we return.
    let papineni_refs = [
        "it is a guide to action that ensures that the military will forever heed party commands",
        "it is the guiding principle which guarantees the military forces always being under the command of the party",
        "it is the practical guide for the army always to heed the directions of the party",
    ];
    let cases: [(&str, &[&str], f64, f64); 6] = [
        (
            "the the the the the the the",
            &["the cat is on the mat", "there is a cat on the mat"],
            1.331960397810445e-231,
            0.039281465090051315,
        ),
        (
            "it is a guide to action which ensures that the military always obeys the commands of the party",
            &papineni_refs,
            0.5045666840058485,
            0.5045666840058485,
        ),
        (
            "the bears won the match .",
            &["the bears won the game .", "the bears lost the game ."],
            0.537284965911771,
            0.537284965911771,
        ),
        // Shorter than the reference (brevity penalty) and without any 4-gram.
        (
            "the bears won",
            &["the bears won the game ."],
            4.493053873107152e-78,
            0.20687381245863395,
        ),
        // No 4-gram match.
        (
            "the bears won a game .",
            &["the bears won the game ."],
            7.262123179505913e-78,
            0.25406637407730737,
        ),
        (
            "the bears play .",
            &["the bears play tonight ."],
            7.227401369829121e-78,
            0.3327714551776235,
        ),
    ];
    for (c, refs, nltk_plain, nltk_smoothed) in cases {
        let plain = bleu(c, refs, Smoothing::None);
        if nltk_plain < 1e-70 {
            assert_eq!(plain, 0.0, "{c}");
        } else {
            assert!(
                (plain - nltk_plain).abs() < 1e-12,
                "{c}: {plain} vs {nltk_plain}"
            );
        }
        let smoothed = bleu(c, refs, Smoothing::Epsilon);
        assert!(
            (smoothed - nltk_smoothed).abs() < 1e-12,
            "{c}: {smoothed} vs {nltk_smoothed}"
        );
    }
    // Clipping: "the" counts at most twice (as in the first reference): p1 = 2/7 (Papineni §2.1).
    let refs = vec![
        words("the cat is on the mat"),
        words("there is a cat on the mat"),
    ];
    let b = sentence_bleu(
        &words("the the the the the the the"),
        &refs,
        Smoothing::None,
    );
    assert_eq!(b.counts[0], (2, 7));
    assert_eq!(
        b.matched[0],
        vec![true, true, false, false, false, false, false]
    );
}

#[test]
fn data_decoding_reports_every_part() {
    let v = data_json("decoding", &[]).unwrap_or_else(|e| panic!("{e}"));
    let s = &v["search"];
    assert_eq!(s["greedy"]["text"], "bears play .");
    assert_eq!(s["beam"]["n_best"][0]["text"], "game .");
    assert_eq!(s["exact"]["text"], "game .");
    assert!(s["beam"]["steps"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(
        v["bleu"]["precisions"]
            .as_array()
            .is_some_and(|a| a.len() == 4)
    );
    assert!(v["bleu"]["brevity_penalty"].is_number());
    let t = data_json("decoding", &["source=trellis".into(), "beam=1".into()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t["search"]["greedy"]["text"], "a a a");
    assert_eq!(t["search"]["exact"]["viterbi"]["text"], "b a a");
    assert_eq!(t["search"]["exact"]["paths"], 27);
    for bad in [
        "beam=0",
        "beam=17",
        "max_len=13",
        "length_alpha=-1",
        "trellis_start=[1,2]",
        "trellis_next=[[0,0,0],[1,1,1],[1,1,1]]",
        "depth=5",
        "horizon=9",
    ] {
        assert!(data_json("decoding", &[bad.into()]).is_err(), "{bad}");
    }
    let unknown =
        data_json("decoding", &["prompt=zebras".into()]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        unknown["search"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("zebras"))
    );
}
