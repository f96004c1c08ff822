//! The browser's training driver (`train::worker::drive_slices`, called from a timer between
//! frames): the runs of the lesson on screen train first, a hidden lesson's runs wait while they
//! do, and train again when nothing on screen does; compare runs take one step each, in turn,
//! and a step of a model big enough is taken a part per slice. Its own test binary, because the first call of `drive_slices` hands every
//! thread-less worker of the process to the driver for good.

use std::time::Duration;

use attention_lab::model::GptConfig;
use attention_lab::train::worker::{SLICE, drive_slices};
use attention_lab::train::{Command, TrainConfig, Worker};

/// `drive_slices` drives every thread-less worker of the process: the tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn small(seed: u64) -> TrainConfig {
    TrainConfig {
        model: GptConfig {
            n_layer: 1,
            n_head: 2,
            n_embd: 16,
            block_size: 8,
            ..GptConfig::default()
        },
        batch: 4,
        eval_every: 0,
        seed,
        ..TrainConfig::default()
    }
}

#[test]
fn the_run_on_screen_trains_first_and_a_hidden_one_waits() {
    let _turn = one_at_a_time();
    let spawn = |name, seed| {
        Worker::spawn_group_in_slices(name, vec![(small(seed), None)], || {})
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut shown = spawn("shown", 0);
    let mut hidden = spawn("hidden", 1);
    shown.send(Command::Play);
    // A slice takes the commands before it trains: `shown` plays from the first one (and,
    // nothing on screen being busy before it, every run is driven in that one).
    shown.poll();
    assert!(drive_slices(SLICE), "a playing run is work");
    hidden.send(Command::Play);
    // Only `shown` is drawn (polled): 40 slices train it, and `hidden` takes no step.
    let mut polls = 0;
    while shown.poll().step < 40 {
        assert!(drive_slices(SLICE), "a playing run is work");
        polls += 1;
        assert!(polls < 100_000, "the shown run did not train");
    }
    assert_eq!(hidden.poll().step, 0, "the hidden run waited");
    // Now both are on screen (both were just polled): they share the slices.
    let start = shown.poll().step;
    while hidden.poll().step < 10 {
        drive_slices(SLICE);
        polls += 1;
        assert!(polls < 200_000, "the second run did not train once shown");
    }
    assert!(shown.poll().step > start, "both train while both are shown");
    // Nothing on screen trains: a run that was never drawn gets the slices.
    let mut third = spawn("third", 2);
    third.send(Command::Play);
    shown.send(Command::Pause);
    hidden.send(Command::Pause);
    for _ in 0..20 {
        drive_slices(SLICE);
    }
    assert!(
        third.poll().step > 0,
        "an idle screen leaves the slices to others"
    );
    let paused = (shown.poll().step, hidden.poll().step);
    for _ in 0..5 {
        drive_slices(SLICE);
    }
    assert_eq!(
        (shown.poll().step, hidden.poll().step),
        paused,
        "paused runs stay"
    );
    drop((shown, hidden, third));

    // A group of compare runs: a slice ends after the step that passes its budget, and the next
    // goes on with the next run, so with a budget shorter than any step each slice is one step
    // of one run, in turn (not one of every run).
    let runs = (3..6).map(|seed| (small(seed), None)).collect();
    let mut group =
        Worker::spawn_group_in_slices("group", runs, || {}).unwrap_or_else(|e| panic!("{e}"));
    group.send(Command::Play);
    group.poll_all();
    for want in [[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 1, 1]] {
        drive_slices(Duration::from_nanos(1));
        let steps: Vec<usize> = group.poll_all().iter().map(|s| s.step).collect();
        assert_eq!(steps, want);
    }
    drop(group);

    // Runs big enough for steps in parts (`Trainer::step_part`): a slice is one part, and the
    // next slice goes on with the same run until its step is done; a pause between two parts
    // keeps the step where it stands.
    use attention_lab::train::data_parallel::part_count;
    let big = |seed| TrainConfig {
        eval_every: 0,
        seed,
        ..TrainConfig::default()
    };
    let probe = attention_lab::train::Trainer::new(big(7)).unwrap_or_else(|e| panic!("{e}"));
    let k = part_count(
        &probe.gpt,
        probe.config.batch,
        probe.config.model.block_size,
    );
    assert!(k >= 2, "{k} part(s)");
    let mut pair =
        Worker::spawn_group_in_slices("pair", vec![(big(7), None), (big(8), None)], || {})
            .unwrap_or_else(|e| panic!("{e}"));
    pair.send(Command::Play);
    pair.poll_all();
    let tick = |w: &mut Worker| {
        drive_slices(Duration::from_nanos(1));
        w.poll_all().iter().map(|s| s.step).collect::<Vec<_>>()
    };
    for _ in 1..k {
        assert_eq!(tick(&mut pair), [0, 0], "parts of the first run's step");
    }
    assert_eq!(tick(&mut pair), [1, 0], "its last part");
    for _ in 1..k {
        assert_eq!(tick(&mut pair), [1, 0]);
    }
    assert_eq!(tick(&mut pair), [1, 1], "then the second run's step");
    tick(&mut pair);
    pair.send(Command::Pause);
    for _ in 0..3 {
        assert_eq!(tick(&mut pair), [1, 1], "paused between two parts");
    }
    pair.send(Command::Step(1));
    for _ in 2..k {
        assert_eq!(tick(&mut pair), [1, 1]);
    }
    assert_eq!(tick(&mut pair), [2, 1], "the step goes on where it stood");
    // It ends as the step taken in one piece with as many shards ends.
    let mut whole = attention_lab::train::Trainer::new(big(7)).unwrap_or_else(|e| panic!("{e}"));
    whole.set_threads(k);
    whole.step();
    whole.step();
    assert_eq!(pair.poll_all()[0].step, 2);
    pair.request_model();
    drive_slices(Duration::from_nanos(1));
    assert_eq!(pair.poll_all()[0].gpt.params, whole.gpt.params);
}

/// A lesson that draws the model asks for the weights in every frame (`request_model`); while
/// the run is paused they do not change, so nothing is sent and the page is not woken: an idle
/// live lesson drew 9 frames a second in the browser for nothing (two cores of software WebGL)
/// when every request was answered with a copy and a wake.
#[test]
fn a_paused_run_asked_for_its_weights_every_frame_does_not_wake_the_page() {
    let _turn = one_at_a_time();
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let mut w = Worker::spawn_group_in_slices("idle", vec![(small(5), None)], move || {
        counter.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    // The new run's weights and data come with the worker; once its first slices have run, the
    // page is not woken again while the run stays paused.
    for _ in 0..3 {
        w.request_model();
        drive_slices(SLICE);
        w.poll();
    }
    let first = wakes.load(Ordering::Relaxed);
    let weights = w.poll().gpt.params.clone();
    for _ in 0..50 {
        w.request_model();
        drive_slices(SLICE);
        assert_eq!(w.poll().step, 0);
    }
    assert_eq!(
        wakes.load(Ordering::Relaxed),
        first,
        "no wake while the weights stay"
    );
    assert_eq!(
        w.poll().gpt.params,
        weights,
        "the weights drawn are the run's"
    );
}
