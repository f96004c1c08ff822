# PyTorch eager reference for `attention-lab bench`: the same GPT (tools/torch_gpt.py's layers as
# nn.Modules), AdamW (fused=False), the same sizes, vocab 65, float32 on the CPU.
#   python3 tools/torch_bench.py [seconds]
import sys, time, math, torch, torch.nn as nn, torch.nn.functional as F
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
torch.manual_seed(0)

class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__(); s.H = H
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.c_attn, s.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in (q, k, v))
        a = (q @ k.transpose(-2, -1)) / math.sqrt(C // s.H)
        a = a.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + s.c_proj((a @ v).transpose(1, 2).reshape(B, T, C))
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(s, V, C, L, H, T):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        s.h = nn.ModuleList(Block(C, H) for _ in range(L)); s.ln_f = nn.LayerNorm(C)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h: x = b(x)
        return s.ln_f(x) @ s.wte.weight.T

print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
print(f"{'config':<8} {'ms/step':>10} {'tokens/s':>12} {'fwd ms':>10}")
for name, C, L, H, T, B in [("tiny", 32, 1, 2, 16, 8), ("small", 64, 2, 4, 32, 16), ("medium", 128, 4, 4, 64, 16), ("large", 256, 4, 8, 128, 8)]:
    m = GPT(65, C, L, H, T); opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, 65, (B, T)); y = torch.randint(0, 65, (B, T))
    times = []; t_end = time.perf_counter() + secs
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        loss = F.cross_entropy(m(x).view(-1, 65), y.view(-1)); opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
        times.append(time.perf_counter() - t0)
    step = sorted(times[2:])[len(times[2:]) // 2] * 1000
    fw = []
    with torch.no_grad():
        t_end = time.perf_counter() + secs / 2
        while time.perf_counter() < t_end or len(fw) < 5:
            t0 = time.perf_counter(); m(x[:1]); fw.append(time.perf_counter() - t0)
    print(f"{name:<8} {step:>10.3f} {B * T / step * 1000:>12.0f} {sorted(fw)[len(fw) // 2] * 1000:>10.4f}")
