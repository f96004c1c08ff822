# PyTorch reference for `attention-lab bench`: the same GPT, the same sizes, vocab 65, float32 on
# the CPU, written as nanoGPT writes it (model.py: F.scaled_dot_product_attention(q, k, v,
# is_causal=True), GELU(approximate="tanh"), the LM head tied to wte) and trained as nanoGPT trains
# it (torch.optim.AdamW with PyTorch's default implementation, betas (0.9, 0.95), weight decay 0.1,
# clip_grad_norm_ 1.0).
#   python3 tools/torch_bench.py [seconds] [--attention sdpa|manual] [--compile] [--only NAME]
# --attention manual: the attention written out (masked_fill + softmax), as this script had it
#   before; slower at the larger sizes than what PyTorch users run.
# --compile: also time torch.compile(model) (Inductor's C++ code; the first steps compile, and are
#   not timed); the rows are marked "compiled".
import argparse, time, math, torch, torch.nn as nn, torch.nn.functional as F

cli = argparse.ArgumentParser()
cli.add_argument("seconds", nargs="?", type=float, default=2.0)
cli.add_argument("--attention", choices=["sdpa", "manual"], default="sdpa")
cli.add_argument("--compile", action="store_true")
cli.add_argument("--only", help="run only the configs whose name contains this")
opts = cli.parse_args()
secs, attention, compiled = opts.seconds, opts.attention, opts.compile
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__()
        s.H = H
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.c_attn, s.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in (q, k, v))
        if attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        else:
            a = (q @ k.transpose(-2, -1)) / math.sqrt(C // s.H)
            mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
            y = a.masked_fill(mask, float("-inf")).softmax(-1) @ v
        x = x + s.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, V, C, L, H, T):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        s.h = nn.ModuleList(Block(C, H) for _ in range(L))
        s.ln_f = nn.LayerNorm(C)

    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h:
            x = b(x)
        return s.ln_f(x) @ s.wte.weight.T


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def bench(m, fwd_model, B, T):
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, 65, (B, T))
    y = torch.randint(0, 65, (B, T))

    def step():
        loss = F.cross_entropy(fwd_model(x).view(-1, 65), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    for _ in range(3):  # warm-up (and, compiled, the compilation): not timed
        step()
    times = []
    t_end = time.perf_counter() + secs
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    fw = []
    with torch.no_grad():
        for _ in range(3):
            fwd_model(x[:1])
        t_end = time.perf_counter() + secs / 2
        while time.perf_counter() < t_end or len(fw) < 5:
            t0 = time.perf_counter()
            fwd_model(x[:1])
            fw.append(time.perf_counter() - t0)
    return median(times) * 1000, median(fw) * 1000


print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, attention {attention}")
print(f"{'config':<8} {'ms/step':>10} {'tokens/s':>12} {'fwd ms':>10}")
for name, C, L, H, T, B in [
    ("tiny", 32, 1, 2, 16, 8),
    ("small", 64, 2, 4, 32, 16),
    ("medium", 128, 4, 4, 64, 16),
    ("large", 256, 4, 8, 128, 8),
]:
    if opts.only and opts.only not in name:
        continue
    m = GPT(65, C, L, H, T)
    step, fwd = bench(m, m, B, T)
    print(f"{name:<8} {step:>10.3f} {B * T / step * 1000:>12.0f} {fwd:>10.4f}", flush=True)
    if compiled:
        m = GPT(65, C, L, H, T)
        try:
            step, fwd = bench(m, torch.compile(m), B, T)
            print(f"{name:<8} {step:>10.3f} {B * T / step * 1000:>12.0f} {fwd:>10.4f}  compiled", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on: compile needs a C++ toolchain
            print(f"{name:<8} torch.compile failed: {str(e).splitlines()[0][:100]}", flush=True)
