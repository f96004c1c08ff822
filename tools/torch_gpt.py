# A small PyTorch GPT (nanoGPT's model.py, pre-norm, tied head) that loads an attention-lab
# checkpoint and compares its logits, attention maps, loss and gradients with `attention-lab inspect`.
#
#   attention-lab train --steps 200 --out /tmp/m.safetensors
#   attention-lab inspect --checkpoint /tmp/m.safetensors --prompt "i love bears" --grads-out /tmp/g.safetensors > /tmp/i.json
#   python3 tools/torch_gpt.py /tmp/m.safetensors /tmp/i.json /tmp/g.safetensors
#
# Needs torch and safetensors (pip). CI does not run this; the developer runs it and reports the
# max differences in the issue note.
import json, math, sys
import torch, torch.nn.functional as F
from safetensors import safe_open

ckpt, inspect_json = sys.argv[1], sys.argv[2]
grads_path = sys.argv[3] if len(sys.argv) > 3 else None
with safe_open(ckpt, "pt") as f:
    meta = f.metadata(); W = {k: f.get_tensor(k).double().requires_grad_() for k in f.keys()}
cfg = json.loads(meta["config"]); ref = json.load(open(inspect_json))
C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]; hs = C // H

def norm(x, p):
    w, b = W[p + ".weight"], W[p + ".bias"]
    if cfg["norm"] == "layernorm": return F.layer_norm(x, (C,), w, b, 1e-5)
    if cfg["norm"] == "rmsnorm": return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * w + b
    if cfg["norm"] == "batchnorm":  # eval mode: running statistics
        return (x - W[p + ".running_mean"]) * torch.rsqrt(W[p + ".running_var"] + 1e-5) * w + b
    return x

ids = torch.tensor(ref["token_ids"]); T = len(ids)
pos = torch.arange(T, dtype=torch.float64)
x = W["transformer.wte.weight"][ids]
if cfg["pos_encoding"] == "learned": x = x + W["transformer.wpe.weight"][:T]
elif cfg["pos_encoding"] == "sinusoidal":
    j = torch.arange(C); ang = pos[:, None] / 10000 ** ((j - j % 2).double() / C)
    x = x + torch.where(j % 2 == 0, torch.sin(ang), torch.cos(ang))
elif cfg["pos_encoding"] == "binary":
    x = x + torch.where((torch.arange(T)[:, None] >> torch.arange(C)) & 1 == 1, 1.0, -1.0).double()
atts = []
for i in range(L):
    h = f"transformer.h.{i}"
    qkv = F.linear(norm(x, h + ".ln_1"), W[h + ".attn.c_attn.weight"], W[h + ".attn.c_attn.bias"])
    q, k, v = (t.view(T, H, hs).transpose(0, 1) for t in qkv.split(C, dim=1))   # (H, T, hs)
    s = q @ k.transpose(-2, -1) * (1 / math.sqrt(hs) if cfg["attn_scale"] else 1.0)
    if cfg["causal"]: s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    a = F.softmax(s, dim=-1); atts.append(a)
    y = (a @ v).transpose(0, 1).reshape(T, C)
    x = x + F.linear(y, W[h + ".attn.c_proj.weight"], W[h + ".attn.c_proj.bias"])
    m = F.gelu(F.linear(norm(x, h + ".ln_2"), W[h + ".mlp.c_fc.weight"], W[h + ".mlp.c_fc.bias"]), approximate="tanh")
    x = x + F.linear(m, W[h + ".mlp.c_proj.weight"], W[h + ".mlp.c_proj.bias"])
logits = norm(x, "transformer.ln_f") @ W["transformer.wte.weight"].T
loss = F.cross_entropy(logits[:-1], ids[1:])

d_logits = (logits - torch.tensor(ref["logits"], dtype=torch.float64)).abs().max().item()
d_att = (torch.stack(atts) - torch.tensor(ref["attention"], dtype=torch.float64)).abs().max().item()
d_loss = abs(loss.item() - ref["loss"])
print(f"max |logits diff| {d_logits:.3e}   max |attention diff| {d_att:.3e}   |loss diff| {d_loss:.3e}")
ok = d_logits <= 1e-4 and d_att <= 1e-4 and d_loss <= 1e-4
if grads_path:
    loss.backward(); worst = 0.0
    with safe_open(grads_path, "pt") as g:
        for k in g.keys():
            if k in W and W[k].grad is not None:
                diff = (W[k].grad - g.get_tensor(k).double()).abs().max().item()
                scale = W[k].grad.abs().max().item()
                worst = max(worst, diff / max(scale, 1e-8))
    print(f"max relative gradient difference (per tensor, vs its largest entry) {worst:.3e}")
    ok = ok and worst <= 1e-3
print("OK" if ok else "MISMATCH"); sys.exit(0 if ok else 1)
