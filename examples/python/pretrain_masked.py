"""Masked-patch pretraining in PyTorch on a simulated EEG corpus served by btfm's loader.

The simulator's EEG is smooth sources (1/f background, posterior alpha, event-locked
components) seen through wide scalp topographies, plus per-channel 1/f noise: a hidden
patch is predictable from the same moment on neighbouring channels and from its own
channel just before and after. The corpus is cut into windows of C channels x P patches
(LaBraM's tokens); the loader masks 40% of the tokens of every window, and a small
convolutional network over all channels (placed by channel id) reconstructs them.

The loss is the mean squared error over masked tokens in robust z-units. The trivial
baseline predicts zero (the channel's median) for every masked sample; the example
reports both on held-out subjects and exits non-zero unless the model ends clearly below
it. Usage: pretrain_masked.py [--steps N] (the tests run a few dozen steps)."""
import argparse
import os
import sys
import tempfile

# One OpenBLAS thread for torch's matrix products (set before torch loads OpenBLAS): at
# these sizes its spinning helper threads cost more than they give, and the corpus
# loader's threads already use the other cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import btfm  # noqa: E402

WINDOW_S, PATCH, SFREQ = 1.6, 16, 100  # 160 samples: 10 patches of 0.16 s


class MaskedPatchModel(nn.Module):
    """Masked tokens reconstructed from what is visible around them. Each row's channels
    are placed by channel id (the corpus's vocabulary, so a channel means the same site in
    every recording); the visible samples and a visibility map go through temporal
    convolutions that mix all channels: a kernel of two patches each side reaches the
    neighbouring patches of the same channel and the same moment on the other channels,
    which is where the simulator puts what a hidden patch shares with the rest."""

    def __init__(self, n_channel_ids, width=48):
        super().__init__()
        self.n_ids = n_channel_ids
        self.net = nn.Sequential(
            nn.Conv1d(2 * n_channel_ids, width, 4 * PATCH + 1, padding=2 * PATCH), nn.GELU(),
            nn.Conv1d(width, width, PATCH // 2 + 1, padding=PATCH // 4), nn.GELU(),
            nn.Conv1d(width, n_channel_ids, 1))

    def forward(self, x, mask, channel_ids):
        rows, C, P, L = x.shape
        T = P * L
        valid = (channel_ids >= 0)[:, :, None].float()
        index = channel_ids.long().clamp(min=0)[:, :, None].expand(rows, C, T)
        visible = (~mask).float().repeat_interleave(L, dim=2) * valid  # rows x C x T
        grid = x.new_zeros(rows, 2 * self.n_ids, T)
        grid[:, :self.n_ids].scatter_add_(1, index, x.reshape(rows, C, T) * visible)
        grid[:, self.n_ids:].scatter_add_(1, index, visible)
        out = self.net(grid).gather(1, index)  # back to the row's channel order
        return out.reshape(rows, C, P, L)


def masked_losses(model, batch):
    """(model loss, predict-zero loss) over the masked tokens of real channels."""
    x, mask, ids = batch["data"], batch["mask"], batch["channel_ids"]
    keep = mask & (ids >= 0)[:, :, None]
    target = x[keep]
    pred = model(x, mask, ids)[keep]
    return ((pred - target) ** 2).mean(), (target ** 2).mean()


def make_corpus(root):
    """Six simulated annotators, about 1.5 minutes of EEG each, built into a corpus."""
    session = btfm.sim.rating_session(os.path.join(root, "session"), n_annotators=6,
                                      n_items=10, n_channels=16, eog=False, seed=3)
    corpus = os.path.join(root, "corpus")
    report = btfm.corpus.build(session, corpus, key=b"example pseudonym key", sfreq=SFREQ,
                               l_freq=1.0, h_freq=40.0, clip=10)
    print(f"corpus: {report['built']} recordings built, {report['failed']} failed")
    return corpus


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        corpus = make_corpus(root)
        common = dict(window_s=WINDOW_S, stride_s=WINDOW_S / 2, patch_len=PATCH,
                      mask_ratio=0.4, split_by="subject", val_fraction=2 / 6, seed=0)
        train = btfm.corpus.Loader(corpus, split="train", batch_size=args.batch,
                                   shuffle=True, **common)
        val = btfm.corpus.Loader(corpus, split="val", batch_size=128, shuffle=False, **common)
        print(f"windows: {train.count('train')[0]} train, {val.count('val')[0]} held out; "
              f"{train.n_channels} channels x {train.window_len // PATCH} patches a window")
        model = MaskedPatchModel(len(train.channel_names))
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)

        def evaluate():
            model.eval()
            total = zero = 0.0
            n = 0
            with torch.no_grad():
                for batch in val.torch():
                    loss, baseline = masked_losses(model, batch)
                    total, zero, n = total + loss.item(), zero + baseline.item(), n + 1
            model.train()
            return total / n, zero / n

        first, baseline = evaluate()
        print(f"held-out masked MSE before training {first:.3f}; "
              f"baseline (predict zero) {baseline:.3f}")
        step = 0
        dataset = train.torch()
        while step < args.steps:
            for batch in dataset:  # one epoch; the tensors are views of the loader's ring
                loss, _ = masked_losses(model, batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                if step % 50 == 0 or step == args.steps:
                    print(f"step {step:4d}  train masked MSE {loss.item():.3f}")
                if step == args.steps:
                    break
        final, baseline = evaluate()
        print(f"held-out masked MSE after {step} steps {final:.3f}; baseline (predict zero) "
              f"{baseline:.3f}; ratio {final / baseline:.2f}")
        # Clearly below the baseline, not a rounding error under it.
        return 0 if final < 0.8 * baseline else 1


if __name__ == "__main__":
    sys.exit(main())
