//! The machine's peak: how many single-precision floating-point operations per second its cores
//! do when nothing but fused multiply-adds on registers run, the ceiling any product's kernel
//! is measured against (`attention-lab bench` prints each training step's share of it).
//!
//! Each thread runs independent chains of FMAs (acc ← acc·x + y) on the widest vectors the CPU
//! has (AVX-512: 16 lanes, else AVX2: 8), enough chains to cover the instruction's latency
//! on two FMA ports (4 cycles × 2 ports = 8 in flight; 16 are kept), for a fixed time; one FMA
//! counts as 2 operations, as in the GFLOP of a matrix product (2·m·n·k). The threads start
//! together, so the figure includes whatever the cores lose when all are busy (a lower AVX-512
//! clock, a shared core's hyper-thread).

use std::time::{Duration, Instant};

/// Chains of FMAs per thread.
#[cfg(target_arch = "x86_64")]
const CHAINS: usize = 16;
/// FMAs of each chain between two looks at the clock.
#[cfg(target_arch = "x86_64")]
const INNER: usize = 4096;

/// Single-precision FLOP/s of `threads` threads running FMAs together for about `duration`;
/// `None` without AVX2 (this measurement is for x86-64 CPUs).
pub fn fma_peak(threads: usize, duration: Duration) -> Option<f64> {
    if !super::simd::avx2() {
        return None;
    }
    let threads = threads.max(1);
    let flops: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || one_thread(duration)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(0.0))
            .collect()
    });
    Some(flops.iter().sum())
}

/// FLOP/s of one thread.
fn one_thread(duration: Duration) -> f64 {
    let started = Instant::now();
    let mut done = 0.0_f64;
    while started.elapsed() < duration {
        done += burst();
    }
    done / started.elapsed().as_secs_f64()
}

/// One burst of INNER FMAs on each of CHAINS chains; its operation count.
fn burst() -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if super::simd::avx512() {
            // SAFETY: AVX-512F is present (checked).
            return unsafe { x86::burst512() };
        }
        if super::simd::avx2() {
            // SAFETY: AVX2 and FMA are present (checked).
            return unsafe { x86::burst256() };
        }
    }
    0.0
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHAINS, INNER};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn burst512() -> f64 {
        let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..INNER {
            for a in &mut acc {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
        std::hint::black_box(_mm512_reduce_add_ps(sum));
        (INNER * CHAINS * 16 * 2) as f64
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn burst256() -> f64 {
        let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..INNER {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, a| _mm256_add_ps(s, *a));
        let mut out = [0.0f32; 8];
        // SAFETY: `out` holds 8 floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
        std::hint::black_box(out);
        (INNER * CHAINS * 8 * 2) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_a_positive_rate_where_it_can_be_measured() {
        match fma_peak(1, Duration::from_millis(20)) {
            // No lower bound but zero: this is not a timing test (an unoptimised test build on
            // a loaded machine measured 0.79 GFLOP/s, where a release build alone measures
            // 170). A burst that the compiler had removed would read as far more than any
            // core does (or as infinity).
            Some(f) => assert!(f.is_finite() && f > 0.0 && f < 1e13, "{f:e} FLOP/s"),
            None => assert!(!crate::engine::simd::avx2()),
        }
    }
}
