"""A small policy trained with brain-derived rewards (RLHB) in PyTorch.

Candidate responses are fixed embeddings; a linear softmax policy over them is trained by
REINFORCE. Its reward comes from a reward head fitted on annotators' brain features and
the few ratings they gave (joint), or on the ratings alone (the RLHF baseline) at the same
annotation budget. The brain signals cover every item an annotator read, the ratings a
fifth of them, so the joint reward ranks the unrated items too and the policy finds the
items with a high latent reward sooner. Run by the tests (a few seconds)."""
import numpy as np
import torch

import btfm

rng = np.random.default_rng(0)
torch.manual_seed(0)
N_ITEMS, EMB, N_ANNOT, D = 80, 16, 8, 24

# The candidates: embeddings and a latent reward the embeddings partly predict.
emb = rng.standard_normal((N_ITEMS, EMB)).astype(np.float32)
latent = emb @ rng.standard_normal(EMB) / np.sqrt(EMB) + 0.5 * rng.standard_normal(N_ITEMS)
latent = (latent - latent.mean()) / latent.std()

# What the annotators gave: brain features for every item they read (a reward-related
# component in a few features, on each person's own scale), ratings for 20% of items.
pattern = np.r_[np.ones(6), np.zeros(D - 6)]
rows = []
for a in range(N_ANNOT):
    perceived = latent + 0.4 * rng.standard_normal(N_ITEMS)
    x = (3 * a + (1 + 0.3 * a) * (0.6 * np.outer(perceived, pattern)
                                  + rng.standard_normal((N_ITEMS, D))))
    rated = rng.random(N_ITEMS) < 0.2
    ratings = np.where(rated, np.clip(np.round(4 + 1.5 * (perceived + 0.5 * rng.standard_normal(N_ITEMS))), 1, 7), np.nan)
    rows.append((x.astype(np.float32), ratings.astype(np.float32), np.full(N_ITEMS, a)))
features = np.vstack([r[0] for r in rows])
ratings = np.concatenate([r[1] for r in rows])
annotators = np.concatenate([r[2] for r in rows])
items = np.tile(np.arange(N_ITEMS), N_ANNOT)

head = btfm.RewardHead(mode="joint").fit(features, ratings=ratings, annotators=annotators,
                                         items=items)


def item_rewards(mode):
    """The reward of each candidate: the head's reward averaged over the annotators who
    read it. Autograd-free: plain numpy in and out."""
    out = head.predict(features, annotators=annotators, ratings=ratings, mode=mode)
    return np.bincount(items, weights=out["reward"], minlength=N_ITEMS) / N_ANNOT


def batched_reward(x: torch.Tensor, who: torch.Tensor) -> torch.Tensor:
    """The head applied to a batch of feature tensors: float32 CPU tensors are passed to
    the library without a copy (torch.Tensor.numpy shares memory), and the result comes
    back as a tensor over the returned array."""
    with torch.no_grad():
        return torch.from_numpy(head.predict(x.numpy(), annotators=who.numpy())["reward"])


def train(reward, steps=150, batch=32, lr=0.02):
    """REINFORCE on a softmax policy over the candidates, logits = emb . theta; returns
    the policy's expected latent reward after each step."""
    theta = torch.zeros(EMB, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=lr)
    e = torch.from_numpy(emb)
    r = torch.from_numpy(reward.astype(np.float32))
    true = torch.from_numpy(latent.astype(np.float32))
    curve = []
    for _ in range(steps):
        logp = torch.log_softmax(e @ theta, dim=0)
        pick = torch.multinomial(logp.exp(), batch, replacement=True)
        advantage = r[pick] - r[pick].mean()
        loss = -(advantage * logp[pick]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            curve.append(float((torch.softmax(e @ theta, dim=0) * true).sum()))
    return np.array(curve)


# The batched form gives the same rewards as the numpy one.
x_t = torch.from_numpy(features)
assert np.allclose(batched_reward(x_t, torch.from_numpy(annotators.astype(np.int64))).numpy(),
                   head.predict(features, annotators=annotators)["reward"])

joint = train(item_rewards("joint"))
ratings_only = train(item_rewards("ratings_only"))
best = latent.max()
for name, curve in (("joint (brain + ratings)", joint), ("ratings only", ratings_only)):
    half = int(np.argmax(curve >= 0.5 * best)) if (curve >= 0.5 * best).any() else None
    print(f"{name:24s} expected latent reward after 50/150 steps: {curve[49]:.3f} / "
          f"{curve[-1]:.3f}; steps to half the best: {half}")
assert joint[49] > ratings_only[49] and joint[-1] > ratings_only[-1], \
    "the brain-derived reward should move the policy faster"
print("the policy trained with brain-derived rewards moves toward high-reward items faster")
