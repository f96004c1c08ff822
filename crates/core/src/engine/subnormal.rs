//! Subnormal floats flushed to zero while the model trains (x86's FTZ and DAZ flags).
//!
//! An f32 below 2⁻¹²⁶ ≈ 1.18e-38 in magnitude is *subnormal*. x86 cores compute with such a
//! number, or produce one, through a microcode assist that costs on the order of a hundred
//! cycles instead of one, so a product whose operands are full of them runs many times slower.
//! A deep stack trained without skip connections and without normalisation (residuals §3, "no
//! skips, no norm", 8 blocks) makes exactly such operands: the gradients reaching the first
//! blocks are 1e-22 and below (the lesson's figure shows it), and most entries of block 2's
//! W_Q, W_K gradients were subnormal at step 30.
//!
//! Measured (2026-12-02, that model trained 40 steps on one thread by a throwaway program): 97.8 ms per
//! step as IEEE arithmetic, 16.4 ms per step with FTZ and DAZ — the speed of the other three
//! runs — and every block's gradient norm after steps 10, 20, 30 and 40 equal to four digits
//! (block 1: 1.449e-22, 5.242e-22, 1.199e-19, 1.198e-17 both ways). Flushing changes only
//! values below 1.18e-38; a sum of them moves a block's gradient norm by at most 2.4e-4
//! (relative, where block 1's norm is 6e-33: `tests/training.rs` checks the first 24 steps
//! against IEEE arithmetic), 1e-4 of a decade on the lesson's log axis. So training turns it on:
//! [`Flush`] around every step (`train::Trainer`), and for good on the compute pool's threads
//! (`engine::pool`), which run nothing but model code.
//!
//! The flags are per thread and restored when the guard drops, so the UI thread's arithmetic
//! and the golden-number tests (which call the layers directly) keep IEEE subnormals. On other
//! targets (the browser's wasm32 among them: WebAssembly has no flush mode) this is a no-op.
//!
//! Source: Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 1, §10.2.3.3–4
//! (MXCSR: FTZ is bit 15, DAZ bit 6).

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

/// While alive, this thread flushes subnormal results and inputs to zero; dropping it restores
/// the thread's previous mode.
#[must_use = "the flush mode lasts only as long as the guard"]
pub struct Flush {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    saved: u32,
}

impl Flush {
    /// Turn flushing on for the calling thread.
    pub fn on() -> Self {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            let saved = read_mxcsr();
            write_mxcsr(saved | FTZ_DAZ);
            Flush { saved }
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        Flush {}
    }

    /// Turn flushing on for the rest of the calling thread's life (the compute pool's threads).
    pub fn forever() {
        std::mem::forget(Flush::on());
    }

    /// Whether the calling thread flushes now.
    pub fn is_on() -> bool {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            read_mxcsr() & FTZ_DAZ == FTZ_DAZ
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        false
    }
}

impl Drop for Flush {
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        write_mxcsr(self.saved);
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn read_mxcsr() -> u32 {
    let mut m: u32 = 0;
    // SAFETY: stmxcsr stores the 32-bit MXCSR register at the given address, a live u32; SSE is
    // part of every x86_64 CPU (and of the i686 targets Rust builds for).
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut m, options(nostack, preserves_flags));
    }
    m
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn write_mxcsr(m: u32) {
    // SAFETY: ldmxcsr loads MXCSR from a live u32. Only the FTZ and DAZ bits ever differ from
    // what the thread had (callers pass a value read from MXCSR, with those bits set), so no
    // reserved bit is set and no exception is unmasked.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &m, options(nostack, readonly, preserves_flags));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest normal f32 halved: subnormal under IEEE arithmetic.
    fn halve(x: f32) -> f32 {
        std::hint::black_box(x) * std::hint::black_box(0.5)
    }

    #[test]
    fn flushes_inside_the_guard_and_restores_after() {
        let tiny = f32::MIN_POSITIVE;
        assert!(!Flush::is_on());
        assert!(
            halve(tiny).is_subnormal(),
            "IEEE arithmetic outside the guard"
        );
        {
            let _flush = Flush::on();
            if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
                assert!(Flush::is_on());
                assert_eq!(halve(tiny), 0.0, "a subnormal result is flushed to zero");
                let sub = std::hint::black_box(f32::from_bits(1)); // 1.4e-45
                assert_eq!(sub * 1e30, 0.0, "a subnormal input reads as zero");
                // Normal numbers are untouched.
                assert_eq!(halve(3.0), 1.5);
                assert_eq!(halve(tiny * 4.0), tiny * 2.0);
            }
        }
        assert!(halve(tiny).is_subnormal(), "the thread's mode is restored");
        assert!(!Flush::is_on());
    }
}
