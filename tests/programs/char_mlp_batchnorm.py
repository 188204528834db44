"""A character-level MLP language model with a hand-written BatchNorm, in the style of a
from-scratch course: an embedding table indexed by tensors, parameters updated through
``p.data``, running statistics kept under ``no_grad``, ``retain_grad`` diagnostics of the
activations, and sampling with ``multinomial``.

It is a PyTorch program: only the import block below differs from the one that runs on
PyTorch. The words are those of the Zen of Python (in the standard library), so nothing is
downloaded.
"""

import codecs
import re
import this

import tinygrad_edu as torch
import tinygrad_edu.nn.functional as F

# ---- data: every word of the Zen of Python, '.' marks start and end -------------------------
text = codecs.decode(this.s, "rot13").lower()
words = re.findall(r"[a-z]+", text)
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


n1 = int(0.9 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:])
assert Xtr.dtype == torch.int64 and Xtr.shape[1] == block_size

# ---- parameters -------------------------------------------------------------------------------
n_embd, n_hidden = 10, 64
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab_size, n_embd), generator=g)
W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
b1 = torch.randn(n_hidden, generator=g) * 0.01
W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
b2 = torch.randn(vocab_size, generator=g) * 0
bngain = torch.ones((1, n_hidden))
bnbias = torch.zeros((1, n_hidden))
bnmean_running = torch.zeros((1, n_hidden))
bnstd_running = torch.ones((1, n_hidden))

parameters = [C, W1, b1, W2, b2, bngain, bnbias]
print(sum(p.nelement() for p in parameters), "parameters")
for p in parameters:
    p.requires_grad = True

# ---- training -----------------------------------------------------------------------------------
max_steps, batch_size = 300, 32
lossi, ud = [], []
for i in range(max_steps):
    ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]

    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1 + b1
    bnmeani = hpreact.mean(0, keepdim=True)
    bnstdi = hpreact.std(0, keepdim=True)
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    with torch.no_grad():
        bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
        bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Yb)

    for p in parameters:
        p.grad = None
    for t in [h, hpreact, embcat]:
        t.retain_grad()
    loss.backward()

    lr = 0.1 if i < 200 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

    if i % 100 == 0:
        print(f"{i:7d}/{max_steps:7d}: {loss.item():.4f}")
    lossi.append(loss.log10().item())
    with torch.no_grad():
        ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

# diagnostics a course prints: how saturated the tanh layer is, how large its gradients are
saturated = (h.abs() > 0.97).float().mean() * 100
print(f"tanh saturated: {saturated:.2f}%, h.grad std {h.grad.std():.2e}")
assert h.grad is not None and h.grad.shape == h.shape
assert hpreact.grad.shape == (batch_size, n_hidden)
assert embcat.grad.shape == (batch_size, n_embd * block_size)
assert all(len(row) == len(parameters) for row in ud)


# ---- evaluation and sampling --------------------------------------------------------------------
@torch.no_grad()
def split_loss(x, y):
    emb = C[x]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1 + b1
    hpreact = bngain * (hpreact - bnmean_running) / bnstd_running + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, y).item()


train_loss, dev_loss = split_loss(Xtr, Ytr), split_loss(Xdev, Ydev)
print(f"train {train_loss:.4f}  dev {dev_loss:.4f}")

samples = []
for _ in range(5):
    out, context = [], [0] * block_size
    while True:
        emb = C[torch.tensor([context])]
        h = torch.tanh(bngain * (emb.view(1, -1) @ W1 + b1 - bnmean_running) / bnstd_running + bnbias)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        if ix == 0 or len(out) > 20:
            break
        out.append(itos[ix])
    samples.append("".join(out))
print(samples)

# what the test checks: the model learned (uniform guessing costs log(vocab_size) nats)
uniform = torch.log(torch.tensor(float(vocab_size))).item()
assert train_loss < uniform - 0.8, (train_loss, uniform)
assert 10 ** lossi[-1] < 10 ** lossi[0]
assert all(isinstance(s, str) and set(s) <= set(chars) for s in samples)
