#!/usr/bin/env bash
# Build the browser version of attention-lab into web/dist/ (index.html, attention-lab.js,
# attention-lab_bg.wasm). Serve that folder with any static server, e.g.
#   python3 -m http.server -b 127.0.0.1 -d web/dist 8000   → http://127.0.0.1:8000
#
# On Debian (bookworm) it installs what it needs, once:
# - rustc-web, cargo-web, rust-web-src: a Rust toolchain whose LLVM has the WebAssembly target
#   (no prebuilt wasm32 std exists for it, so std is built from rust-web-src: -Z build-std);
# - lld-22: its wasm-ld, the linker;
# - wasm-bindgen-cli at the version of the wasm-bindgen crate in Cargo.lock (cargo install,
#   cached under $ATTENTION_LAB_CACHE, by default ~/.cache/attention-lab).
# The native build keeps using the rustup toolchain; this script calls /usr/bin/cargo.
#
# `web/build.sh --clippy` instead lints the browser's code paths (the wasm32-only modules and
# cfgs the native `cargo clippy` never compiles) with clippy, warnings as errors, and builds
# nothing (it installs Debian's rust-web-clippy for it).
#
# Environment: WEB_TARGET_DIR (default target/web) is cargo's target directory for this build;
# CI points it into the cache so that a fresh clone rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${ATTENTION_LAB_CACHE:-$HOME/.cache/attention-lab}
TARGET_DIR=${WEB_TARGET_DIR:-$ROOT/target/web}
OUT=$ROOT/web/dist
sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else command sudo "$@"; fi; }

need=()
[ -x /usr/bin/rustc ] && /usr/bin/rustc --print target-list 2>/dev/null | grep -qx wasm32-unknown-unknown || need+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need+=(rust-web-src)
command -v wasm-ld-22 >/dev/null || need+=(lld-22)
CLIPPY=0
[ "${1:-}" = --clippy ] && CLIPPY=1
[ $CLIPPY = 1 ] && ! [ -x /usr/bin/clippy-driver ] && need+=(rust-web-clippy)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo apt-get update -q && sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi

web_cargo() {
  env PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
    RUSTFLAGS="-C target-feature=+simd128" \
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_TERM_COLOR=never \
    /usr/bin/cargo "$@"
}

if [ $CLIPPY = 1 ]; then
  echo "== cargo clippy (wasm32) -- -D warnings, into $TARGET_DIR/clippy"
  # Its own target directory: clippy's metadata-only std would otherwise replace the build's.
  web_cargo clippy --locked --target wasm32-unknown-unknown -Z build-std=std,panic_abort \
    --lib --bin attention-lab --target-dir "$TARGET_DIR/clippy" -- -D warnings
  exit
fi

WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
WBG=$CACHE/wasm-bindgen-$WBG_VERSION/bin/wasm-bindgen
if ! [ -x "$WBG" ]; then
  echo "== installing wasm-bindgen-cli $WBG_VERSION (once; cached in $CACHE)"
  # With the rustup toolchain (a normal native build); --locked fails on a yanked pin.
  cargo install -q wasm-bindgen-cli --version "$WBG_VERSION" --root "$CACHE/wasm-bindgen-$WBG_VERSION"
fi

echo "== cargo build (wasm32, release) into $TARGET_DIR"
# `cargo rustc` so that the last `-C opt-level=3` reaches the binary alone (see below).
web_cargo rustc --locked --release --target wasm32-unknown-unknown \
    -Z build-std=std,panic_abort --bin attention-lab --target-dir "$TARGET_DIR" \
    --config 'profile.release.lto="fat"' --config 'profile.release.codegen-units=1' \
    --config 'profile.release.opt-level="s"' --config 'profile.release.package."*".opt-level="s"' \
    --config 'profile.release.package.attention-lab-core.opt-level=3' \
    --config 'profile.release.package.ndarray.opt-level=3' \
    --config 'profile.release.package.matrixmultiply.opt-level=3' \
    -- -C opt-level=3
# Size and speed: the .wasm must stay under 8 MB, and training is what must be fast.
# - Every crate is optimised for size ("s"; the UI at -O3 measured 9.4 MB) except the core
#   (crates/core: the model, its training, the engine), ndarray and matrixmultiply.
# - With fat LTO, the whole program is optimised once more when the binary links, at the
#   binary's level, and rustc plans no loop vectorizing or unrolling at all at "s". So the
#   binary (src/main.rs, a few lines) is built at -O3; functions compiled at "s" carry LLVM's
#   optsize mark, which keeps that last pass from growing them (measured: 7.72 MB against 7.73
#   with the binary at "s"), while the core's, compiled at -O3, are vectorized and unrolled.
# - Measured in headless Chromium (2026-12-03, the bears model trained alone,
#   `attentionLabTrainingRate`, two pages side by side, one per build, each round both at
#   once): the core at -O3 trained 1.21× as fast as with everything at "s" (8 rounds,
#   1.07–1.45; then 1.34 for this build with the plain kernel below, 18 rounds in both orders
#   in a noisy hour, 0.81–2.59), 7.88 against 7.73 MB of .wasm (a whole -O3 app: 9.43 MB).
# - LLVM now vectorizes the core's plain loops itself (the matrix product's kernel, GELU,
#   AdamW); only the product's packing and stores keep hand-written simd128 branches, measured
#   faster (crates/core/src/engine/gemm.rs, `portable`).
# - Link-time optimisation drops what no path reaches, and the function names (the "name"
#   section, only for debuggers) are removed after wasm-bindgen.

echo "== wasm-bindgen into $OUT"
rm -rf "$OUT"
mkdir -p "$OUT"
"$WBG" --target web --no-typescript --out-dir "$OUT" \
  "$TARGET_DIR/wasm32-unknown-unknown/release/attention-lab.wasm"
python3 web/strip_names.py "$OUT/attention-lab_bg.wasm"
cp web/index.html "$OUT/"
wasm=$OUT/attention-lab_bg.wasm
echo "== done: $OUT ($(du -k "$wasm" | cut -f1) kB wasm, $(gzip -9c "$wasm" | wc -c | awk '{printf "%d", $1/1024}') kB gzipped)"
