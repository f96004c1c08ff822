# Golden values for tests/golden.rs, computed with NumPy (independent of the Rust code).
# Inputs are deterministic formulas (no RNG), written the same way in the Rust test:
#   x[i] = sin(0.37 * i + 0.1) * 1.5      (row-major flat index i)
# Run: python3 tools/golden.py
import numpy as np
np.set_printoptions(precision=8, floatmode="maxprec", suppress=False)

def det(shape, a=0.37, b=0.1, s=1.5):
    n = int(np.prod(shape))
    return (np.sin(a * np.arange(n) + b) * s).reshape(shape).astype(np.float64)

# LayerNorm (N=2, C=5), w = 1 + 0.1 j, b = 0.05 j, eps 1e-5, biased variance (as torch.nn.LayerNorm)
x = det((2, 5)); w = 1 + 0.1 * np.arange(5); b = 0.05 * np.arange(5)
mu = x.mean(1, keepdims=True); var = x.var(1, keepdims=True)
ln = (x - mu) / np.sqrt(var + 1e-5) * w + b
print("layernorm", repr(ln.ravel()))

# GELU, tanh approximation (torch.nn.GELU(approximate="tanh"))
g = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 2.0])
gelu = 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g**3)))
print("gelu", repr(gelu))

# Causal, scaled attention: B=1, T=3, C=4, H=2 (hs=2); qkv = det((3, 12), 0.53, 0.2, 1.0)
qkv = det((3, 12), 0.53, 0.2, 1.0)
T, C, H = 3, 4, 2; hs = C // H
q, k, v = qkv[:, :C], qkv[:, C:2*C], qkv[:, 2*C:]
out = np.zeros((T, C)); atts = []
for h in range(H):
    qh, kh, vh = q[:, h*hs:(h+1)*hs], k[:, h*hs:(h+1)*hs], v[:, h*hs:(h+1)*hs]
    s = qh @ kh.T / np.sqrt(hs)
    s[np.triu_indices(T, 1)] = -np.inf
    a = np.exp(s - s.max(1, keepdims=True)); a /= a.sum(1, keepdims=True)
    atts.append(a); out[:, h*hs:(h+1)*hs] = a @ vh
print("attention_out", repr(out.ravel()))
print("attention_att", repr(np.stack(atts).ravel()))

# Cross-entropy: logits = det((2, 4), 0.91, 0.3, 2.0), targets [2, 0]
lg = det((2, 4), 0.91, 0.3, 2.0); tg = [2, 0]
lse = np.log(np.exp(lg - lg.max(1, keepdims=True)).sum(1)) + lg.max(1)
print("crossentropy", repr(np.mean(lse - lg[np.arange(2), tg])))

# --- Lessons (softmax, norms): the inputs are det(...) rounded to float32 first, as the Rust
# tests build them in f32.
np.set_printoptions(precision=10, linewidth=120)
def det32(shape, a, b, s):
    return det(shape, a, b, s).astype(np.float32).astype(np.float64)

def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()

# Softmax of 8 scores and of the same ×100 (the lecture's demo), and the entropy in nats.
xs = det32((8,), 0.9, 0.2, 1.7)
p = softmax(xs)
print("softmax8", repr(p))
print("softmax8x100", repr(softmax(100 * xs)))
print("entropy8", -(p * np.log(p)).sum())

# BatchNorm (train mode), LayerNorm, RMSNorm with gamma = 1, beta = 0, eps = 1e-5, biased variance:
# x = det((4, 3), 0.61, 0.3, 2.0) + [0, 5, -3] per column.
x = (det((4, 3), 0.61, 0.3, 2.0) + np.array([0.0, 5.0, -3.0])).astype(np.float32).astype(np.float64)
eps = 1e-5
print("batchnorm", repr(((x - x.mean(0)) / np.sqrt(x.var(0) + eps)).ravel()))
print("layernorm_plain", repr(((x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)).ravel()))
print("rmsnorm", repr((x / np.sqrt((x ** 2).mean(1, keepdims=True) + eps)).ravel()))

# Sinusoidal positions with base 100 (the lesson's base slider), T = 4, d = 6.
pos = np.arange(4)[:, None]; i2 = (np.arange(6) // 2 * 2)[None, :]
ang = pos / 100.0 ** (i2 / 6)
pe = np.where(np.arange(6)[None, :] % 2 == 0, np.sin(ang), np.cos(ang))
print("sinusoidal_base100", repr(pe.ravel()))
