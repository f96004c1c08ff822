//! The speed engine: what makes the textbook model (`model/`) fast, behind the small
//! interface its layers call. Nothing here changes a result's meaning; every fast path is
//! tested against a plain one.
//!
//! - [`gemm`]: the matrix product C ← α·A·B + β·C under every linear layer and attention head
//!   (AVX2/FMA kernels chosen at run time, a portable fallback elsewhere, the browser included).
//!   The layers call [`gemm::gemm`], [`gemm::gemm_structured`] and [`gemm::gemm_bias`].
//! - [`peak`]: the cores' FMA throughput on registers alone, the ceiling `bench` measures
//!   each training step against.
//! - [`reference`](mod@reference): the naive triple loop the kernels are checked against.
//! - [`simd`]: the `multiversion!` macro that compiles a plain elementwise loop again for AVX2
//!   and for AVX-512 (the layers mark their loops with it; the loop bodies stay ordinary Rust),
//!   and the vector-friendly sums, dot products and `exp` those loops use; the attention's
//!   softmax rows in AVX-512 intrinsics ([`simd::softmax16`]), with the plain softmax's bits.
//! - [`pool`]: one thread pool for the process (rayon), used by the data-parallel training step
//!   (`train::data_parallel`), by AdamW's per-tensor loops ([`pool::halves`],
//!   [`pool::sum_in_order`]) and by the inference forward pass (`inference`).
//! - [`subnormal`]: training flushes subnormal floats to zero (x86's FTZ/DAZ), which keeps a
//!   deep stack without skips or norms (residuals §3) from running 6× slower.
//! - [`gemm::PackedB`]: a weight packed once for many products (inference packs every Wᵀ once;
//!   `inference::Prepared`).
//!
//! Where the time goes (2026-12-02, `perf record -e cpu-clock` of `attention-lab bench --only
//! large` on the 2-core machine, training steps and forward passes; share of samples). With the
//! AVX2 kernel: the product's kernel 81.2 % and its packing 3.6 %; softmax rows 2.4 %; GELU 2.4 %
//! forward and 1.0 % backward; LayerNorm 0.7 % forward and 0.6 % backward; adding the shards'
//! gradients 0.6 %; AdamW 0.5 %. With the AVX-512 kernel (`gemm`'s 6 × 32 tiles), the large
//! step went from 186–235 to 119–133 ms and the samples are: the kernel 67.8 %, the loops around
//! it 7.4 %, packing 4.5 %, softmax 3.2 %, GELU 3.1 % + 1.2 %, LayerNorm 0.9 % + 0.8 %, the
//! residual adds 0.8 %, AdamW and the shards' sum 0.7 % each.
//!
//! Each product of the large step alone on one thread (`attention-lab bench --products`): the
//! linear layers' products, forward and backward (512 × 256 · 256 × 768 and the like), reach
//! 77–84 % of one thread's FMA peak (170 GFLOP/s here, [`peak`]); the attention heads' products
//! (128 × 32 · 32 × 128) 83 %, their transposed-A backward products (attᵀ·dy, dSᵀ·Q) 63 %; the
//! LM head's (65 columns) 61–75 %. One shard's products add up to 77–82 ms on one thread; the
//! whole step, two shards on two threads, took 119–123 ms in the same minutes, 50–56 % of the
//! two threads' peak measured beside it (nanoGPT's FLOP count). The rest is the elementwise
//! passes, and the products running slower inside the step than alone: by the samples above,
//! about 95 ms of each thread's step is in products, against 77–82 ms alone (likely their
//! operands coming from L3 or memory instead of a warm cache; this machine has no hardware
//! counters to show it).
//!
//! Looked at again on 2026-12-03 (`perf record -e cpu-clock`, line tables, the large step on
//! two threads; shares of the step's samples):
//! - The kernel is 65 % of the step. Its inner loop is what the tile asks for and nothing else
//!   (2 loads of B, 6 broadcasts of A, 12 FMAs, 4 loop instructions per step of k); the samples
//!   pile up on the FMAs that wait for the loads of B.
//! - Packing is about 13 %, half in `pack` (B) and half inlined into `x86::gemm` (A), and it
//!   waits on memory, not on instructions. Two rewrites showed it, neither kept:
//!   - B packed step by step across all panels, one contiguous read per step, instead of panel
//!     by panel: the same share of samples.
//!   - A's row-major panels packed with 8 × 8 register transposes instead of entry by entry:
//!     13 % fewer instructions in `x86::gemm` itself (callgrind, the medium step, AVX2 path),
//!     but that is 2.3 M of the step's 892 M, far from the share of samples packing has.
//!   - The operands come from L3 or memory: a large shard's activations are about 50 MB, the
//!     L2 2 MB per core.
//! - The elementwise loops are about 11 %: GELU 1.2 + 1.7 %, softmax 1.6 %, the norms 0.5 +
//!   1.5 %, AdamW 1.2 %, the shards' sum 1.2 %, the bias gradients 0.7 %. They now run 16 lanes
//!   wide where the CPU has AVX-512 ([`simd`]).
//! - Zeroing the backward's gradient buffers is about 3 %, bound by memory: with ndarray's
//!   `fill` (entry by entry) 3.2 % of the samples, with a `memset` 2.8 % (not kept).
//! - Smaller working sets do not help: the medium step cut into 4 shards of 4 sequences on the
//!   2 threads, instead of 2 shards of 8, ran at 0.90–0.99× (4 alternating rounds).
//! - The samples in the kernel pile up on the FMAs that wait for B's second panel, 16 KB after
//!   the first (the same L1 sets). A gap of one cache line after each packed panel of B,
//!   against the same code without it, both running at once on the two cores (4 rounds): the
//!   512-row qkv product 82–84 % of peak against 50–84 %, but the one-sequence column halves
//!   47–55 % against 70–78 % in three rounds of four. No clear answer; not kept (the cause
//!   was B's alignment: see below).
//! - The medium step on one thread, by caller (call graphs): the linear layers' backward 48 %
//!   (its packing about 9 % of the step), their forward 21 %, attention 12 % (backward 7 %,
//!   forward 5 %), GELU 5.5 %, zeroing 4 %, the norms 3.7 %, the residual adds 2.1 %, AdamW
//!   1.8 %.
//!
//! One sequence's forward pass (large, two threads):
//! - the kernel is 71 %; the attention heads 12 % (their softmax 4.3 %); GELU 3.7 %;
//! - the kernel on rows of A read in place (the attention heads' 32-step products, the column
//!   halves of 128, the LM head's) takes 2.7× the samples of the packed one, for four fifths of
//!   its work (92 against 117 MFLOP a layer); packing A for those products too changed nothing
//!   that 5 alternating runs could show;
//! - both threads are busy 92 % of the wall time, so the forks between layers are not the gap.
//!
//! What limits measuring here: today one thread's FMA peak read 87–143 GFLOP/s within minutes
//! (170 on 2026-12-02). The same binary against itself, on the two cores at once, differed by
//! up to 11 % per round. valgrind emulates no AVX-512, so callgrind counts only the AVX2 path.
//! What does work: one process that switches between the old and the new code (a test switch,
//! removed afterwards) at every training step or forward pass, and the median of the ratios of
//! neighbouring pairs. The machine's drift is slower than a step, so it cancels; with 50–300
//! pairs the median ratio was steady to about 1 %, and the quartiles show the spread.
//!
//! Changed later on 2026-12-03, each measured that way (old / new time, median of the pairs):
//! - **B's packed blocks on a 64-byte boundary** (`gemm`'s workspace and [`gemm::PackedB`]):
//!   1.09× on the large step (67 pairs) and 1.09× on the medium (255). The allocator returns
//!   16-byte aligned buffers, so every 64-byte load of B straddled two cache lines. That was what
//!   the samples on the FMAs waiting for B (above) showed, and why the gap between panels gave
//!   no clear answer. The 6 × 32 loop alone, on L1-resident panels: 82–86 % of one thread's peak
//!   aligned, 68–72 % with B 16 bytes off.
//! - **A 12 × 32 tile** (two packed panels of A with two of B, 24 zmm accumulators) where
//!   nothing is skipped: 1.05× on the large step (89 pairs, quartiles 1.02–1.08), 1.01× on the
//!   medium.
//! - **Packing fetches ahead** (the next panel's lines; the step-major copy 8 steps ahead) and
//!   reads A = Xᵀ one step of all panels at a time: 1.02× on the large step, 1.01× on the medium.
//! - The AVX-512 store as a macro: as a function, LLVM had kept it out of line (1.5 % of the
//!   large step's samples).
//! - One sequence's forward pass (`inference`) cuts every product by rows instead of by
//!   output columns, whose halves were mostly 128 columns or fewer (A read in place, above),
//!   and computes q, k, v as one product before cutting the heads: step by step 1.07 × 1.04 ×
//!   1.00 × 1.02 on the large forward pass, 1.03 × 1.11 × 1.04 on the medium, 1.01 × 1.15 ×
//!   1.00 on the small (`inference`'s header has the steps).
//!
//! Tried the same way and not kept:
//! - Spreading the panel's prefetches through the copy instead of issuing them together (the
//!   samples show the burst waiting for fill buffers): 0.99× large, 0.99× medium.
//! - No prefetch of C's rows in the kernel: 1.00× forward, 0.99× step (large).
//! - Packing A for products of 33–128 columns too (the one-sequence column halves): the large
//!   forward 1.02–1.03×, but the medium step 0.98–0.99× and the small step 0.96–0.97×; packing
//!   A whenever B is packed beforehand (inference only): the small forward 0.93×.
//! - A depth of 128 instead of 256 per block (so the 6 × 32 tile's 32 KB of B fits L1 with
//!   room): no gain in the products alone.
//! - Activations aligned to 64 bytes for the elementwise loops was not tried in the model: a
//!   16-lane `y += a·x` ran at the same 33 GB/s aligned or not once the arrays outgrow L2 (20 %
//!   faster aligned only inside L2), and the step's arrays outgrow it.
//!
//! The large step after these (`perf record`, two threads): the kernel 66 % (58 % the 12 × 32
//! tile), packing with its prefetches about 14 %, the elementwise loops 14.5 %, zeroing the
//! backward's buffers 3.5 %. By caller: the linear layers' backward 48 %, their forward 25 %,
//! attention 12 % (its products run at 30–60 % of peak: 32-step tiles and triangles), GELU
//! 3.3 %, the norms 2.4 %, AdamW 1.8 %, the shards' sum 1.4 %. What is left is mostly memory:
//! packing and the elementwise passes read activations from L3, and the zeroing is the
//! textbook's (`model/`: gradients accumulate with `+=` into zeroed buffers, as in llm.c), which
//! this folder does not change.
//!
//! Changed in a second session on 2026-12-03, measured the same way (old / new time; the
//! machine ran 1.4–2× slower than in the morning, the pairs' quartiles about ±3 % at the large
//! size):
//! - **Blocks of 48 rows of A** instead of 96 (`gemm::MC`): the large step 1.015× and 1.026×
//!   (two runs, 124 and 105 pairs), its forward pass 1.011×; medium and small unchanged. 24, 36
//!   and 72 rows gave 1.013×, 1.022× and 1.011×; 192 rows 0.977×; a depth of 192 instead of 256
//!   0.962×, of 384 1.00×.
//! - **A row-major A's panels of 6 lines packed through 8 × 8 register transposes** (6 lines and
//!   2 of zeros), as B's 16-line panels already were: the large step 1.011× and 1.015×, its
//!   forward pass 1.017×, medium 1.007×, small 1.010×. Packing A entry by entry had been about
//!   3 % of the large step's samples (`perf`), although callgrind counted it as 0.3 % of the
//!   instructions (above): the strided stores cost time, not instructions.
//! - **The small-tile kernels take A's first row and the distance to the next** instead of an
//!   array of six row pointers (`Tile::rows`): the array went through memory, and the load of
//!   its last entry waited on the caller's stores, a quarter of the samples of the 32-step
//!   attention products' kernel.
//! - **Gradient buffers zeroed on the line before the one that first adds into them**
//!   (`model::gpt::gpt_backward`), not all at the top of a block, so that their lines are still
//!   cached when the product reads them back: the large step 1.014× and 1.022×, medium 1.020×.
//!   The textbook still accumulates with `+=` into zeroed buffers, as llm.c does.
//! - **AdamW, the shards' sum and the gradient norm on both cores**: each large tensor's update
//!   and weighted sum cut in two halves ([`pool::halves`]; elementwise, so the same bits), the
//!   norm's per-tensor sums split between the threads and added in order
//!   ([`pool::sum_in_order`]; the same bits, tested). `optim.step` at the large size: 5.8 ms
//!   with the halves against 7.7 ms without, in one run; 3.0–3.4 ms in later runs with the
//!   norm's sums split too. The large step 1.012–1.017× (two runs). Summing the two
//!   shards in one pass instead of two gave 0.99× and 1.01× (not kept).
//! - **A training pass keeps no pre-softmax scores** (`Activations::training_pass`): the backward
//!   reads only the weights. One block's attention forward pass at the large size (one shard,
//!   hot caches, minimum of 200 runs) 1.86 → 1.42 ms; in the step within the noise.
//! - **The attention softmax's rows with AVX-512 intrinsics** (`simd::softmax16`, the plain
//!   softmax's bits): the same forward pass 2.04 → 1.79 ms; the step 1.006×, within the noise
//!   (147 pairs, quartiles 0.976–1.012): in the step the rows mostly wait on memory.
//!
//! Tried and not kept: fetching C's rows 40 steps before the kernel's end instead of at its
//! start (0.99×); packing the step-major panels 8 steps at a time, panel by panel (medium
//! 0.98×, large 1.00×); no prefetch of C in the 6 × 32 kernel (no change in the attention
//! products); the step-major packing fetching 16 steps ahead instead of 8 (1.005×, quartiles
//! 0.99–1.02) and rows of A read in place only up to 64 columns of B instead of 128 (1.004×,
//! quartiles 0.95–1.07), both within the noise.
//!
//! The large step after these (`perf`, two threads): the 12 × 32 kernel 59 %, packing and the
//! loops around the kernel about 16 %, the 6 × 32 kernel (attention, the LM head) 5.7 %,
//! zeroing 4 %, GELU 3.4 %, the norms 2.4 %, the softmax 1.9 %, AdamW with the shards' sum and
//! the norm 3.3 %. The 12 × 32 kernel runs at about 70 % of one thread's peak inside the step
//! against 82–86 % on operands in L1; what is left is mostly memory again.
//!
//! Changed in a third session on 2026-12-03, measured the same way (old / new time; the
//! machine's large step ran anywhere from 140 to 245 ms within the session):
//! - **The backward writes each activation's gradient instead of zeroing it and adding to it**
//!   (`model::gpt::gpt_backward`; the products' β = 0, `gelu_backward` and `residual_backward`
//!   write): the large step 1.011× (308 pairs, quartiles 0.99–1.03), the medium 1.026× (283
//!   pairs, 1.014–1.036). The notes above about zeroing describe the code before this: now
//!   only `dres` is zeroed, which only a norm reaches. This changes what the textbook's
//!   functions promise (documented in each: input gradients written, parameter gradients
//!   added), as PyTorch's autograd behaves; the gradchecks start the written gradients at NaN.
//! - **The shards' gradients zeroed in the pass that sums them** (`train::data_parallel`),
//!   while they are in the cache, instead of by a `memset` at the start of the next pass: the
//!   large step 1.010× twice (121 and 130 pairs; this one needs two steps in a row of each
//!   kind, so the process switched every two steps), the medium 1.012× and 1.002×.
//! - **A triangular A's block packed only over the steps its rows read** (`gemm`, the
//!   transposed products Aᵀ·dy and dSᵀ·Q of attention's backward): one block's attention
//!   backward at the large size (hot caches) 1.47 → 1.38 ms at the minimum of 500 runs, 1.77 →
//!   1.59 ms at the median; the step 1.003×, within the noise.
//!
//! Tried and not kept:
//! - **The step's weights packed once and shared by both shards** (each Wᵀ and W packed on both
//!   threads before the shards start, and the shards' products reading them instead of packing
//!   their own): 0.989× on the large step (198 pairs, quartiles 0.96–1.02), 0.990× on the
//!   medium. Packed inside the product, B's block is in L2 when the kernel reads it; packed
//!   ahead, all of them (25 MB at the large size) come from L3.
//! - **All of A's rows packed at once** for a product with A = Xᵀ (every weight gradient),
//!   each row of X read whole instead of 48 floats at a time: 0.951× large, 0.970× medium: the
//!   48-row block in L2 is what the kernel needs. Blocks of 96 or 24 rows for those products
//!   alone (the others keeping 48): 0.997× and 0.996×.
//! - **The residual's add and copies as 16-lane loops** instead of ndarray's `Zip`: 0.997×
//!   large, 1.003× medium.
//! - **Each weight gradient as dWᵀ = Xᵀ·dY** (A gathered from X's rows, 1 KB apart at the large
//!   size, instead of dY's, 3–4 KB apart; B = dY packed row by row; the same bits), stored
//!   through the transposed view of dW: 0.899× large, 0.922× medium. The kernel stores a C
//!   whose columns are not contiguous entry by entry; this would need a store that transposes
//!   the tile in registers.
//!
//! The large step after these (`perf`, two threads): the 12 × 32 kernel 59 %, the loops around
//! it and A's packing 11.4 % (of which A = Xᵀ's step-major packing, waiting on its prefetches of
//! rows 3–4 KB apart, about 4 %), B's packing 7.1 %, the 6 × 32 kernel 5.5 %, the shards' sum
//! 2.2 %, GELU 2.1 % + 1.6 %, the norms 2.1 % + 0.7 %, the softmax 1.9 %, AdamW 1.6 %, zeroing
//! 0.2 % (4 % before). In the six rounds of `attention-lab bench` at the end of the session the
//! two threads' peak measured 242–247 GFLOP/s at the start of each run and the step ran at
//! 34–49 % of the peak measured beside it (README).
//!
//! Tried in a fourth session on 2026-12-03, measured the same way, none kept (the large step
//! ran 166–211 ms within the session):
//! - **One attention head fused** (AVX-512): for each block of 12 queries, the scores against
//!   Kᵀ packed once per head into 16-key panels, the softmax rows, then A·V from V copied once
//!   into contiguous rows, so that S never leaves L1; the same bits as the three passes
//!   (tested). One shard's heads of one layer at the large size (hot caches, minimum of 1000
//!   runs): 1.02–1.05 → 0.99–1.00 ms forward. The training step 0.997× (122 pairs, quartiles
//!   0.98–1.02), the one-sequence forward pass 0.99× (1102 pairs). Half of the fused head's
//!   time was its softmax rows, bound by `exp`'s ~35 vector operations per 16 lanes; taking a
//!   block's rows through each pass together (their dependency chains overlapping) made the rows
//!   about 10 % faster, not enough.
//! - Attention timed inside the step: 18 ms forward and 28 ms backward per large step (both
//!   shards, 4 layers), i.e. 2.3 and 3.5 ms per shard and layer, against 1.0–1.3 and 1.35–1.6 ms
//!   for the same calls alone. Alone with 16 sets of buffers used in turn (cold caches), 25 %
//!   slower at the minimum; alone with the other core busy training, no slower (so not the
//!   clock): inside the step, attention waits on memory.
//! - **C's rows fetched for writing before a β = 0 store**: large 1.005× and 1.015× (quartiles
//!   0.98–1.04), medium 0.991×.
//! - **Blocks 128 deep** for the products that pack B: large 0.982×.
//! - **The next pair of B's panels fetched into L1** during the last 12-row tile of the pair:
//!   1.000×.
//! - **A = dYᵀ read in place** by the 12 × 32 kernel (one step every OC floats) instead of
//!   packed: large 0.971×, medium 1.003×; only where its rows are at most 2 KB apart: 1.002×.
//! - **The next head's weights and q, k, v fetched into L2** at the start of each head's
//!   backward: 0.996×.
//! - Huge pages for the activations could not be tried: this machine's kernel gives none
//!   (`madvise(MADV_HUGEPAGE)` on a 64 MB mapping left `AnonHugePages` at 0 kB).
//!
//! Tried in a fifth session on 2026-12-03, measured the same way, none kept:
//! - **The 12 × 32 kernel's loop over k unrolled 4 times** (the same bits): large 0.984× and
//!   0.977×, medium 1.012×. The loop's 3 bookkeeping instructions per step cost nothing.
//! - **Each shard's sequences in micro-batches** (2 or 4 forward + backward passes per step
//!   instead of one, so that a shard's activations are 25 or 12.5 MB instead of 50): large
//!   0.954× and 0.885×. The smaller products lose more than the smaller working set gains.
//! - **Attention's backward on contiguous copies**: each sequence's q, k, v and output gradient
//!   gathered into head-major (T, hs) blocks before its heads (sequential reads of whole rows
//!   instead of 128-byte pieces 3 KB apart), and dq, dk, dv written back row by row after them:
//!   large 1.003× and 1.014× (quartiles 0.99–1.03), within the noise.
//! - **Parameter gradients written instead of added** (timed only; the weight gradients'
//!   products with β = 0, the bias sums written, the shards' sum not zeroing what it reads):
//!   large 0.997× and 1.001× (quartiles 0.99–1.01), medium 1.003×. Zeroing the gradients in
//!   the pass that sums them, and reading dW back in the products, cost nothing measurable.
//! - Inside the step the attention heads do about 0.4 GFLOP per shard (the causal half
//!   skipped); at the times measured in the fourth session (2.3 + 3.5 ms per shard and layer,
//!   above) that is about 17 GFLOP/s, against about 70 % of the FMA peak for the linear
//!   layers' products. The heads are the part of the step furthest from the peak, but they are
//!   small: T × hs = 128 × 32 blocks, 32-step products, short softmax rows.
//!
//! A sixth session (2026-12-03, evening) ran on a different machine: 2 cores with AVX-512 and
//! AMX, 48 KB L1d, 2 MB L2 per core, 480 MB L3, the two threads' FMA peak 435 GFLOP/s (210–217
//! for one), its speed much steadier than before (`bench`'s rounds within ±5 %). There the large
//! step took 98–102 ms against PyTorch's 112–125 (1.10–1.16×), its forward pass 4.1–4.4 ms
//! against 5.0–5.3 (1.17–1.22×). What it found:
//! - **Where PyTorch is ahead is the products in the step, not alone.** PyTorch's profiler
//!   (`torch.profiler`, 10 large steps): its `mm`/`addmm` take 66 ms of each 112 ms step (on
//!   two threads: about 295 GFLOP/s, 70 % of the peak), SDPA 12.6 ms, GELU 14.5, AdamW 8. Ours,
//!   timed around every product inside the step (a throwaway timer in `gemm`): 164–172 ms of the
//!   two threads' time, i.e. 82–86 ms of the step, 126–139 GFLOP/s per thread for the linear
//!   layers' products (60–66 % of one thread's peak), about 50 GFLOP/s for the attention heads'
//!   (the causal half skipped, not counted), packing A 12 and B 12 ms of it. Alone
//!   (`bench --products`) the same products reach 149–170 GFLOP/s, as MKL does on one thread
//!   (153–173, `torch.mm` with `torch.set_num_threads(1)`, measured beside them).
//! - **The gap in the step is cold operands.** One product on one thread, its A, B and C cycled
//!   through 40 sets (all in L3, as in the step) against one set (hot): 512 × 1024 · 1024 × 256
//!   1868 → 2131 µs (MKL 1722 → 1813); with A = dYᵀ (1024 × 512 · 512 × 256, a weight
//!   gradient) 1780 → 2257 µs (MKL 1721 → 1812). Cycling one operand at a time, the C of the
//!   weight gradient cost the most (+296 µs), then A (+215), then B (+83). A's cost grows with
//!   how much memory the sets span, not with leaving L2: cycling A alone through 1, 2, 4, 8, 16
//!   and 40 sets (2 MB each) took 1872, 1741, 1865, 1889, 1978 and 2002 µs with A = dYᵀ, and
//!   1842, 1856, 1879, 1904, 1953, 1964 µs row-major: the jump is between 16 and 32 MB, far
//!   past L2. Two candidates, not told apart: the TLB (its reach with 4 KB pages is a few MB to
//!   about 12 MB), or a share of the L3 smaller than the 480 MB reported. Huge pages would tell;
//!   this session concluded the machine gives none (`AnonHugePages` stayed 0 after
//!   `madvise(MADV_HUGEPAGE)` on 64 MB), which was wrong: see the seventh session below.
//!   Touching each page of A once instead of once per block of depth (B packed whole when it
//!   is at most 1 MB, then every 48-row block of A through all depths before the next, C's
//!   rows hot across the depths): the cold row-major products 2–3 % faster alone, A = dYᵀ 1 %
//!   slower; the large step 0.998× (0.994× with row-major A only), the medium 0.987×.
//! - **Kept: C fetched whole, for writing, at any β** (`gemm`'s `Tile::prefetch`): the
//!   micro-kernels had fetched only the first and last entry of each row of their tile, and only
//!   when β ≠ 0, so the middle line of a 32-float row that does not start on a 64-byte boundary
//!   was missed, and a β = 0 store waited for its lines. The large step 1.039× (142 pairs,
//!   quartiles 1.026–1.051), the medium 1.049×.
//! - **Kept: the pool's threads kept awake** between the forks of one forward pass and of one
//!   step cut in shards ([`pool::awake`]; rayon's idle threads sleep after about 32 yields, and a
//!   fork then waits for a wake-up): the large forward pass 1.19× (2354 pairs, quartiles
//!   1.14–1.24), the medium 1.10×; the medium step 1.03–1.04×, the large 1.01×. Inside a step the
//!   two threads then wait 43 ms in 1.75 s (`perf sched timehist`): 1.4 % of their time.
//! - Tried and not kept: rows of A read in place by a 12 × 32 kernel (no packing of a row-major
//!   A): 1.007× large, 1.006× medium; blocks 512 deep instead of 256: 1.005× large, 0.993×
//!   medium; the next block of A fetched into L2 during the current block's kernels: no change
//!   on the cold product, slower with A = dYᵀ; the tile 12 rows ahead fetched before the kernel
//!   (beside the fetch of the tile's own C): 0.993×; column blocks of 512 instead of 2048:
//!   0.998×; A = dYᵀ's step-major packing fetching 24 steps ahead instead of 8: no change on
//!   the cold product (2078 against 2074 µs).
//! - The LayerNorm backward (2.4 % of the large step) is mostly its row sums (`simd::dot`,
//!   `simd::sum_map3`), which LLVM leaves scalar (8 interleaved partial sums, 186 scalar
//!   arithmetic instructions in the AVX-512 build against 22 vector ones), and a wait on the
//!   first line of each row of x. Written over `as_chunks::<8>()` the sums stayed scalar, and the
//!   step did not change (0.999×); fetching the rows two ahead: 1.007× (quartiles 0.98–1.03).
//! - **Threading inside the products instead of across shards** (every product of 256 rows or
//!   more cut in two halves by rows on the pool, the batch in one shard): the products' time
//!   summed over the two threads 166.6 ms against 167.7 ms with two shards. Cutting products as
//!   MKL does would not make them faster here; what is left is their operands coming from L3.
//!
//! A seventh session (2026-12-03, late; the same kind of machine as the sixth) found:
//! - **The machine does give huge pages** (`transparent_hugepage/enabled` is `madvise`): a
//!   64 MB mapping aligned to 2 MiB, `madvise(MADV_HUGEPAGE)`, then touched, shows 65536 kB of
//!   `AnonHugePages`. With glibc's malloc the training step's arrays got none (0 kB, also with
//!   its `glibc.malloc.hugetlb=1` tunable): most are smaller than 2 MiB, each in a 4 KiB-aligned
//!   mapping of its own.
//! - **Kept: the native binary allocates through mimalloc** (`src/main.rs`; v3, whose 2 MiB-aligned
//!   arenas it advises for huge pages by default): 241 of the large step's 245 MB resident on 2 MiB
//!   pages. The large step, separate processes in turn (glibc / mimalloc, ms, median of 150 steps
//!   each): 96.3 / 92.7, 97.6 / 92.4, 97.8 / 93.3 in one run, 96.3–97.8 / 91.0–93.3 in the next:
//!   about 1.045×. The app itself built both ways, `bench --only large --rounds 0 --seconds 4` in
//!   turn, three times: the step 95.0–96.4 ms with glibc, 88.4–91.8 with mimalloc; the forward pass
//!   3.77–3.94 and 3.58–3.62 ms. The cost is memory: the app at the live lesson peaks at 151 MB
//!   resident instead of 125 MB, the large bench at 245 MB instead of 193. A throwaway allocator
//!   that gave every allocation of 64 KB or more its own 2 MiB-aligned, advised block did the same
//!   (92.5–94.4 ms) at twice the memory. So the cold operands' cost above was in large part the
//!   TLB. The first touch of the huge pages (the kernel zeroing 2 MiB at a time) is in the first
//!   steps only; mimalloc's purging of freed memory never showed in the steady state (`perf`: every
//!   `clear_page_erms` sample in the first second).
//! - **Kept: LayerNorm's backward row sums as two SSE2 vectors** ([`simd::norm_sums`], the bits
//!   of the 8 scalar partial sums LLVM had left unvectorized, tested): the large step 1.017×
//!   (204 pairs, quartiles 1.000–1.033), the medium 1.017× (492 pairs, 1.004–1.033).
//! - **Kept: the residual's backward leaves the gradient in place** (`model::residual`: d(skip
//!   input) = d(sub-layer output) = the one buffer `dres`, which the sub-layer's backward reads
//!   and the norm's adds into; before, two copies per residual): 1.011× (206 pairs, quartiles
//!   0.997–1.030), the same bits.
//! - After these, `attention-lab bench --rounds 3` (PyTorch 2.15 eager with SDPA, alternating
//!   rounds): the large step 1.31× (1.29–1.33×; ours 91.6–92.8 ms, PyTorch 120.0–122.9) at
//!   54–56 % of the two threads' peak; its forward pass 1.52×; medium 1.63× and 2.25×. Then
//!   `--only large --rounds 5`: 1.26× (1.25–1.36×; ours 91.4–94.2 ms, PyTorch 114.3–125.3) at
//!   53–55 %; once more, 1.29× (1.22–1.52×) at 53–56 %. PyTorch's step varies more than ours
//!   from round to round; over the 17 rounds of the last four runs the median is 1.29×.
//! - Also tried and not kept: the two shards' gradients summed in one pass (dst = w₀·g₀ + w₁·g₁,
//!   the same bits): 0.999×; a 12-row tile for products whose A is read in place (the attention
//!   heads', the LM head's): 0.992×; no fetching ahead when the step-major copy reads one
//!   contiguous run (B = X whole rows): 1.000×.
//! - Tried with huge pages and not kept (one process alternating, old / new time):
//!   - **GELU fused into the products** (a map applied to C's entries once final, as llm.c's
//!     CUDA `matmul_forward` with `gelu_fusion` and `matmul_backward` with `pre_gelu` do): per
//!     12 × 32 tile, 0.94× (runs of 32 floats fall to the loops' scalar remainder); per block
//!     of 48 rows, forward and backward 1.010× (quartiles 0.99–1.02), the forward alone 1.005×.
//!     The fused backward waits on fch's rows, as cold as in the pass of its own (a third of its
//!     samples on the first use of the load); fetching them into L2 during the block's kernels
//!     gave 1.003×.
//!   - Blocks 128 deep: 0.983×; 512 deep: 0.994×; blocks of 96 rows of A: 1.000×; the pool's
//!     threads pinned one to a core (`sched_setaffinity`): no difference in three rounds of
//!     separate processes; the packing's fetches ahead into L2 (`prefetcht1`) instead of L1:
//!     1.001×.
//!   - GELU's backward written in place over the product's output (d(fch_gelu) into dfch, then
//!     dfch ← gelu'(fch) ⊙ dfch, the same bits): 0.995×.
//!   - `simd::sum`, `simd::dot` and LayerNorm's forward sums as SSE2 vectors too (the same
//!     bits): 1.003× (quartiles 0.984–1.019), not worth the unsafe code.
//! - Where the large step's time goes now (`perf`, two threads): the 12 × 32 kernel 59.6 %, the
//!   loops around it with A's packing 7.2 % (in it, A = Xᵀ's step-major copy and the row
//!   prefetches before a row-major A's packing, both waiting on memory), B's packing 6.1 %, the
//!   6 × 32 kernel 5.4 %, GELU 2.8 + 1.8 %, the norms' backward 2.4 % (before its SSE2 sums),
//!   the softmax 2.2 %, the shards' sum 1.9 %, AdamW 1.6 %.
//!
//! An eighth session (2026-12-03, late, into 12-04; the same kind of machine) started from the
//! profile above (the 12 × 32 kernel at about 84 % of one thread's peak, as alone on operands in
//! L1: the rest is around it) and kept four changes that each take one pass over memory out of
//! the step, all with the same bits (tested; one process alternating old and new step by step,
//! old / new time, the median of the pairs):
//! - **GELU's slope kept by the forward pass** (`model::mlp::gelu_slope_rows`, a
//!   training pass only: `Activations::training_pass`): the forward writes gelu'(fch) over fch,
//!   from the tanh it computes anyway, and the backward is one product instead of the tanh
//!   again: the large step 1.009× and 1.015× (240 and 236 pairs), the medium 1.017×.
//! - **That product in the store of the product before it** ([`gemm::gemm_times`], C = A·B ⊙ S
//!   applied to each 48-row block of C once its sums are final; `model::linear::
//!   linear_backward_through`): 1.009× and 1.011× (229 and 295 pairs), the medium 1.008×.
//! - **GELU and its slope in the store of the MLP's first product** ([`gemm::gemm_bias_then`], a
//!   row function on each final block; `model::linear::linear_forward_then`): 1.009× and 1.010×
//!   (243 and 299 pairs), the medium 1.003×. (The seventh session's GELU fused per block, with the
//!   tanh computed again in the backward, had given 1.010×.)
//! - **Two shards' gradients added inside AdamW's passes** (`model::optim::Gradient::TwoParts`):
//!   `Shards::reduce` had written their weighted sum (two passes, zeroing the shards), then the
//!   norm and the update each read it back; now the norm's pass and the update's make the sum
//!   entry by entry from the two parts (and the update zeroes them), and the per-block gradient
//!   norms the lessons plot come from the same per-tensor sums instead of a third pass on one
//!   thread: 1.010× and 1.012× (320 and 267 pairs), the medium 1.015×.
//! - Tried and not kept: the residual's add in the store of the product before it (C = A·B +
//!   bias + X; a training pass never reads the sub-layer's output alone): 1.002× and 1.005×,
//!   the medium 1.006×; no zeros written over the masked half of the attention weights (they stay
//!   zero from step to step): 0.998×; AdamW with PyTorch's formula (one division by the bias
//!   corrections fewer): 0.999× (the update waits on memory, and LLVM had already turned one
//!   division into a product).
//! - `tests/golden.rs` now also checks AdamW with clipping against `torch.optim.AdamW` and
//!   `clip_grad_norm_` (three steps, one unclipped): the weights within an ulp.
//! - Also tried: the norm's per-tensor sums over 16 interleaved partial sums instead of 4 (a
//!   shorter dependency chain, other bits): 1.001×, large and medium. Those passes wait on
//!   memory: AdamW's two passes read 28 bytes per parameter and write 20.
//! - After these, `attention-lab bench`: `--only large --rounds 5` 1.33× (1.29–1.37×) at 56–59 %
//!   of the peak; `--rounds 3` 7.5×, 2.7×, 1.69×, 1.31× (1.19–1.34×) per step and 13.6×, 4.3×,
//!   2.23×, 1.45× per forward pass, the large step at 52–58 %; `--only large --rounds 5` again
//!   1.36× (1.25–1.46×) at 56–59 %. Over those 13 rounds the large step's median is 1.33×; four
//!   rounds are below 1.3× (PyTorch's step varied from 103 to 121 ms, ours from 79 to 87).
//! - After these, the large step's samples (`perf`, two threads): the 12 × 32 kernel 61 %, the
//!   loops around it with A's packing 5.6 % and B's packing 5.2 % (linear layers), attention 10 %
//!   (its products, softmax and packing, for about 2 % of the FLOPs), AdamW with the norm 3.5 %,
//!   GELU and its slope 2.3 %, the norms 2.1 %, the residual adds 0.8 %, the bias sums 0.7 %.
//!
//! To make the model faster, change this folder; the textbook in `model/` keeps its form (one
//! line per layer, each backward line quoting its forward line). A training pass's fused lines
//! (GELU's slope in the products' stores, above) are in `model/` because they change what the
//! pass keeps; each has the textbook's lines beside it and their bits (tested).

pub mod gemm;
pub mod peak;
pub mod pool;
pub mod reference;
pub mod simd;
pub mod subnormal;
