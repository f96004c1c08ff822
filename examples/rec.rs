use attention_lab::math::recall::*;
fn main() {
    for k in [10usize, 20, 50] {
        let t = std::time::Instant::now();
        let mut run = RecallRun::new(k, 16, 0);
        for s in 0..1500 {
            let p = run.train_step();
            if s % 300 == 299 {
                let a = run.accuracy();
                println!(
                    "  k {k} step {s}: acc {:.3} {:.3} loss {:.3} {:.3} h0 {:.1e} {:.1e}",
                    a[0], a[1], p.loss[0], p.loss[1], p.h0_grad[0], p.h0_grad[1]
                );
            }
        }
        println!("  {:.1} s", t.elapsed().as_secs_f64());
    }
}
