#!/usr/bin/python3
# Native PyTorch as a peer in bench/limit.ts: the MLP VAE (784-400-20-400-784)
# and the Keras conv VAE written the way a PyTorch user writes them (nn.Linear,
# nn.Conv2d, nn.ConvTranspose2d, F.binary_cross_entropy_with_logits(reduction=
# "sum"), torch.optim.Adam, loss.backward(), opt.step(), zero_grad(set_to_none=
# True)), fed the noise ε from the caller so the step's math is wasm-vae's:
# Bernoulli NLL on logits summed over pixels + closed-form KL, batch mean.
#
# A persistent child of bench/limit.ts (bench/torch-peer.ts), one per thread
# count (set by `hello`, kept for the process's life): it reads one JSON
# command per line from the FIFO named by argv[1] and answers one JSON line on
# the FIFO named by argv[2]; bulk arrays travel as raw little-endian float32
# files in the caller's temporary directory. `steps` runs n training steps and
# times them itself (time.perf_counter for wall, time.process_time for the CPU
# time of all the process's threads), so the IPC is outside PyTorch's figure.
# `gemm` and `reconstruct` set up one call each (a GEMM shape of the MLP step,
# the MLP VAE's reconstruct), run it once and write its result for the
# caller's check; `calls` then times n of a set-up call the same way.
#
# Weights arrive in wasm-vae's layouts (VAE.getWeights) and gradients leave in
# them; the maps are src/layers/conv.ts's and dense.ts's PyTorch maps:
#   dense            ours (in, out) → nn.Linear.weight (out, in)
#   conv2d           ours (kh, kw, in, out) → nn.Conv2d.weight (out, in, kh, kw)
#   conv2d_transpose ours (kh, kw, out, in) → nn.ConvTranspose2d.weight (in, out, kh, kw)
#   (both axes (3, 2, 0, 1) of ours); images NHWC in ours, NCHW here, so the
#   dense layer after the flatten and the one before the reshape have their
#   rows / columns permuted from (H, W, C) to (C, H, W) order.
# Keras' "same" padding with stride 2 is asymmetric (TensorFlow pads bottom /
# right): conv2d is F.pad then a padding-0 conv; conv2d_transpose is a
# padding-0 ConvTranspose2d then the crop [top, top + out) of its rows and
# columns (the pads of cli/src/presets.ts's keras_conv, as torchLayers reports);
# the stride-1 output layer pads 1 on every side: ConvTranspose2d(padding=1).
import ctypes
import json
import os
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_pads(n, k, s):
    """TensorFlow's 'same' padding along one axis: (top, bottom, out)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2, out


class MLPVAE(nn.Module):
    def __init__(self, spec):
        super().__init__()
        D, L = spec["inputDim"], spec["latentDim"]
        self.L = L
        enc = [D, *spec["encoder"], 2 * L]
        dec = [L, *spec["decoder"], D]
        self.encoder = nn.ModuleList(nn.Linear(i, o) for i, o in zip(enc, enc[1:]))
        self.decoder = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dec, dec[1:]))

    @staticmethod
    def mlp(layers, h):
        for i, layer in enumerate(layers):
            h = layer(h)
            if i + 1 < len(layers):
                h = F.relu(h)
        return h

    def forward(self, x, eps):
        h = self.mlp(self.encoder, x)
        mu, logvar = h[:, : self.L], h[:, self.L :]
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.mlp(self.decoder, z), mu, logvar

    def reconstruct(self, x):
        """Bernoulli probabilities of decode(encoder mean), as wasm-vae's VAE.reconstruct: (B, D) → (B, D).
        inference_mode (no autograd graph, no version counters) entered per call, as a user's function does."""
        with torch.inference_mode():
            mu = self.mlp(self.encoder, x)[:, : self.L]
            return torch.sigmoid(self.mlp(self.decoder, mu))

    # (our name, parameter, to ours, from ours): nn.Linear's weight is ours transposed
    def maps(self):
        out = []
        for net, layers in (("encoder", self.encoder), ("decoder", self.decoder)):
            for i, layer in enumerate(layers):
                o, i_ = layer.weight.shape
                out.append((f"{net}.{i}.weight", layer.weight, lambda a, i_=i_, o=o: a.reshape(i_, o).T, lambda g: g.T))
                out.append((f"{net}.{i}.bias", layer.bias, lambda a: a, lambda a: a))
        return out


class KerasConvVAE(nn.Module):
    """The Keras VAE example (keras.io/examples/generative/vae), logits out, NCHW."""

    def __init__(self, latent, hw=28):
        super().__init__()
        self.L = latent
        q = hw // 4
        self.q = q
        self.enc0 = nn.Conv2d(1, 32, 3, stride=2)
        self.enc1 = nn.Conv2d(32, 64, 3, stride=2)
        self.enc3 = nn.Linear(q * q * 64, 16)
        self.enc4 = nn.Linear(16, 2 * latent)
        self.dec0 = nn.Linear(latent, q * q * 64)
        self.dec2 = nn.ConvTranspose2d(64, 64, 3, stride=2)
        self.dec3 = nn.ConvTranspose2d(64, 32, 3, stride=2)
        self.dec4 = nn.ConvTranspose2d(32, 1, 3, stride=1, padding=1)  # stride 1: 'same' is symmetric, as a user writes it
        self.hw = hw

    @staticmethod
    def conv_same(conv, h):
        n, k, s = h.shape[-1], conv.kernel_size[0], conv.stride[0]
        top, bottom, _ = tf_pads(n, k, s)
        return conv(F.pad(h, (top, bottom, top, bottom)))

    @staticmethod
    def deconv_same(conv, h):
        # the transpose of a 'same' conv from n·s to n: crop [top, top + n·s)
        n, k, s = h.shape[-1], conv.kernel_size[0], conv.stride[0]
        top, _, _ = tf_pads(n * s, k, s)
        y = conv(h)
        return y[:, :, top : top + n * s, top : top + n * s]

    def forward(self, x, eps):
        B = x.shape[0]
        h = x.view(B, 1, self.hw, self.hw)
        h = F.relu(self.conv_same(self.enc0, h))
        h = F.relu(self.conv_same(self.enc1, h))
        h = F.relu(self.enc3(torch.flatten(h, 1)))
        h = self.enc4(h)
        mu, logvar = h[:, : self.L], h[:, self.L :]
        z = mu + torch.exp(0.5 * logvar) * eps
        h = F.relu(self.dec0(z)).view(B, 64, self.q, self.q)
        h = F.relu(self.deconv_same(self.dec2, h))
        h = F.relu(self.deconv_same(self.dec3, h))
        h = self.dec4(h)
        return h.reshape(B, -1), mu, logvar

    def maps(self):
        q = self.q
        conv_to = lambda a: a.transpose(3, 2, 0, 1)          # ours (kh, kw, a, b) → (b, a, kh, kw)
        conv_from = lambda a, s: a.reshape(s).transpose(2, 3, 1, 0)
        ident = lambda a: a
        out = []
        for name, conv in (("encoder.0", self.enc0), ("encoder.1", self.enc1), ("decoder.2", self.dec2), ("decoder.3", self.dec3), ("decoder.4", self.dec4)):
            kh, kw = conv.kernel_size
            a, b = conv.weight.shape[1], conv.weight.shape[0]      # torch (b, a, kh, kw) ← ours (kh, kw, a, b)
            out.append((f"{name}.weight", conv.weight, lambda w, kh=kh, kw=kw, a=a, b=b: conv_to(w.reshape(kh, kw, a, b)),
                        lambda g, s=tuple(conv.weight.shape): conv_from(g, s)))
            out.append((f"{name}.bias", conv.bias, ident, ident))
        C = 64
        # encoder.3: ours (H·W·C, 16) in (H, W, C) order; nn.Linear (16, C·H·W)
        out.append(("encoder.3.weight", self.enc3.weight,
                    lambda w: w.reshape(q, q, C, 16).transpose(2, 0, 1, 3).reshape(C * q * q, 16).T,
                    lambda g: g.T.reshape(C, q, q, 16).transpose(1, 2, 0, 3).reshape(q * q * C, 16)))
        out.append(("encoder.3.bias", self.enc3.bias, ident, ident))
        out.append(("encoder.4.weight", self.enc4.weight, lambda w: w.reshape(16, 2 * self.L).T, lambda g: g.T))
        out.append(("encoder.4.bias", self.enc4.bias, ident, ident))
        # decoder.0: ours (L, H·W·C) and bias (H·W·C) in (H, W, C) order; nn.Linear (C·H·W, L)
        L = self.L
        out.append(("decoder.0.weight", self.dec0.weight,
                    lambda w: w.reshape(L, q, q, C).transpose(0, 3, 1, 2).reshape(L, C * q * q).T,
                    lambda g: g.T.reshape(L, C, q, q).transpose(0, 2, 3, 1).reshape(L, q * q * C)))
        out.append(("decoder.0.bias", self.dec0.bias,
                    lambda b: b.reshape(q, q, C).transpose(2, 0, 1).reshape(-1),
                    lambda g: g.reshape(C, q, q).transpose(1, 2, 0).reshape(-1)))
        return out


def vae_loss(model, x, eps):
    logits, mu, logvar = model(x, eps)
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = 0.5 * torch.sum(torch.exp(logvar) + mu * mu - 1 - logvar)
    return (nll + kl) / x.shape[0]


def read_f32(path):
    return np.fromfile(path, dtype="<f4")


def tensor_f32(path, *shape):
    """A float32 file as a tensor that owns its memory (np.fromfile's array, viewed), shape (*shape)."""
    return torch.from_numpy(read_f32(path)).view(*shape)


def load_weights(model, path, entries):
    """Our weights (one float32 file, `entries` = [name, length] in its order, VAE.getWeights layouts) into model."""
    flat = read_f32(path)
    at, seen = 0, set()
    offsets = {}
    for name, n in entries:
        offsets[name] = (at, n)
        at += n
    with torch.no_grad():
        for name, p, to_torch, _ in model.maps():
            o, n = offsets[name]
            w = np.ascontiguousarray(to_torch(flat[o : o + n]), dtype=np.float32)
            if w.size != p.numel():
                raise ValueError(f"{name}: {w.size} values for a parameter of shape {tuple(p.shape)}")
            p.copy_(torch.from_numpy(w).view(p.shape))
            seen.add(name)
    missing = set(offsets) - seen
    if missing:
        raise ValueError(f"weights without a PyTorch parameter: {sorted(missing)}")


def blas_library():
    """The BLAS (and OpenBLAS core / config) this process loaded, from /proc/self/maps."""
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and line.split()[-1].startswith("/")})
    info = {"libraries": libs}
    for lib in libs:
        if "openblas" in lib:
            try:
                ob = ctypes.CDLL(lib)
                ob.openblas_get_config.restype = ctypes.c_char_p
                ob.openblas_get_corename.restype = ctypes.c_char_p
                info["openblas"] = {"config": ob.openblas_get_config().decode(), "core": ob.openblas_get_corename().decode(),
                                    "threads": ob.openblas_get_num_threads()}
            except (OSError, AttributeError):
                pass
    return info


class Peer:
    def __init__(self):
        self.models = {}
        self.images = None
        self.calls_ = {}  # id → a set-up call (`gemm`, `reconstruct`) that `calls` times
        self.idle_from = None  # process_time at the end of the last `steps` / `calls`

    def hello(self, cmd):
        torch.set_num_threads(cmd["threads"])
        # the BLAS is loaded lazily by some builds: one small matmul first
        torch.ones(4, 4) @ torch.ones(4, 4)
        return {
            "torch": torch.__version__,
            "config": torch.__config__.show().strip().splitlines()[:8],
            "mkldnn": torch.backends.mkldnn.is_available(),
            "parallel": torch.__config__.parallel_info().strip().splitlines()[:6],
            "blas": blas_library(),
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "threads": torch.get_num_threads(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "OPENBLAS_", "MKL_", "MALLOC_"))},
        }

    def images_(self, cmd):
        self.images = tensor_f32(cmd["path"], cmd["count"], cmd["dim"])
        return {"count": self.images.shape[0]}

    def create(self, cmd):
        torch.manual_seed(0)
        arch = cmd["arch"]
        model = MLPVAE(cmd["spec"]) if arch == "mlp" else KerasConvVAE(cmd["latent"])
        load_weights(model, cmd["weights"], cmd["entries"])
        B, L = cmd["B"], (cmd["latent"] if arch != "mlp" else cmd["spec"]["latentDim"])
        eps = tensor_f32(cmd["eps"], B, L)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.models[cmd["id"]] = {"model": model, "opt": opt, "eps": eps, "B": B, "i": 0}
        return {"parameters": sum(p.numel() for p in model.parameters())}

    def grad(self, cmd):
        """Loss and gradients of batch x (ours' names and layouts); with "step", also one Adam step on them,
        returning the updated weights instead (the gate of the optimizer)."""
        m = self.models[cmd["id"]]
        model = m["model"]
        x = tensor_f32(cmd["x"], m["B"], -1)
        m["opt"].zero_grad(set_to_none=True)
        loss = vae_loss(model, x, m["eps"])
        loss.backward()
        if cmd.get("step"):
            m["opt"].step()
        parts, entries = [], []
        for name, p, _, from_torch in model.maps():
            t = p.detach() if cmd.get("step") else p.grad.detach()
            a = np.ascontiguousarray(from_torch(t.numpy()), dtype=np.float32).reshape(-1)
            parts.append(a)
            entries.append([name, int(a.size)])
        m["opt"].zero_grad(set_to_none=True)
        np.concatenate(parts).astype("<f4").tofile(cmd["out"])
        return {"loss": float(loss.item()), "entries": entries}

    def timed(self, n, body):
        """body() n times, timed here: wall and CPU ms per run (time.process_time: all threads), and idleCpuMs, the CPU
        the process used since its last timed command ended, while it waited for this one (OpenMP's workers
        spin-wait after a parallel region before they sleep, and that CPU lands in the caller's other rounds).
        Returns the times and body's last result."""
        t0, c0 = time.perf_counter(), time.process_time()
        idle = None if self.idle_from is None else 1e3 * (c0 - self.idle_from)
        for _ in range(n):
            r = body()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.idle_from = time.process_time()
        return {"wallMs": 1e3 * wall / n, "cpuMs": 1e3 * cpu / n, "idleCpuMs": idle, "threads": torch.get_num_threads()}, r

    def steps(self, cmd):
        m = self.models[cmd["id"]]
        model, opt, eps, B = m["model"], m["opt"], m["eps"], m["B"]
        images, count = self.images, self.images.shape[0]

        def step():
            s = (m["i"] * B) % (count - B)
            m["i"] += 1
            opt.zero_grad(set_to_none=True)
            loss = vae_loss(model, images[s : s + B], eps)
            loss.backward()
            opt.step()
            return loss

        times, loss = self.timed(cmd["n"], step)
        return {**times, "loss": float(loss.item())}

    def setup(self, cmd, fn):
        """Keep fn for `calls`, run it once and write its result (float32, row-major) to cmd["out"] for the caller's check."""
        self.calls_[cmd["id"]] = fn
        out = fn()
        np.ascontiguousarray(out.numpy(), dtype="<f4").tofile(cmd["out"])
        return {"shape": list(out.shape)}

    def gemm(self, cmd):
        # operands stored as the caller's (and wasm-vae's gemm): NN A (M, K), B (K, N), + bias (N); TN A stored (K, M);
        # NT B stored (N, K). The transposed operand is a view (a.t() of a contiguous tensor), as autograd hands the
        # step's backward products to mm: BLAS sgemm with a transpose flag, no copy.
        M, K, N, v = cmd["M"], cmd["K"], cmd["N"], cmd["variant"]
        a = tensor_f32(cmd["a"], *((K, M) if v == "TN" else (M, K)))
        b = tensor_f32(cmd["b"], *((N, K) if v == "NT" else (K, N)))
        if v == "NN":
            bias = tensor_f32(cmd["bias"], N)
            fn = lambda: torch.addmm(bias, a, b)  # what nn.Linear's forward runs for a 2-D input
        elif v == "TN":
            fn = lambda: torch.mm(a.t(), b)
        elif v == "NT":
            fn = lambda: torch.mm(a, b.t())
        else:
            raise ValueError(f"gemm variant {v}")
        return self.setup(cmd, fn)

    def reconstruct(self, cmd):
        # the MLP VAE with the caller's weights; x (B, D) kept as a tensor here: a PyTorch user's batch is a tensor
        # already, and the result stays one (no copy in or out, unlike wasm-vae's and tfjs' Float32Array calls)
        torch.manual_seed(0)
        model = MLPVAE(cmd["spec"])
        load_weights(model, cmd["weights"], cmd["entries"])
        model.eval()
        x = tensor_f32(cmd["x"], cmd["B"], cmd["spec"]["inputDim"])
        return self.setup(cmd, lambda: model.reconstruct(x))

    def calls(self, cmd):
        """n calls of a set-up call, timed as `steps`."""
        times, _ = self.timed(cmd["n"], self.calls_[cmd["id"]])
        return times

    def drop(self, cmd):
        self.models.pop(cmd["id"], None)
        self.calls_.pop(cmd["id"], None)
        self.idle_from = None
        return {}


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: torch-vae.py <command fifo> <reply fifo>  (started by bench/torch-peer.ts)\n")
        sys.exit(2)
    peer = Peer()
    handlers = {"hello": peer.hello, "images": peer.images_, "create": peer.create, "grad": peer.grad, "steps": peer.steps,
                "gemm": peer.gemm, "reconstruct": peer.reconstruct, "calls": peer.calls, "drop": peer.drop}
    with open(sys.argv[1], "rb") as cmds, open(sys.argv[2], "wb", buffering=0) as replies:
        for line in cmds:
            cmd = json.loads(line)
            if cmd.get("cmd") == "quit":
                break
            try:
                reply = {"ok": True, **handlers[cmd["cmd"]](cmd)}
            except Exception as e:  # the caller raises it with this message
                reply = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
            replies.write((json.dumps(reply) + "\n").encode())


if __name__ == "__main__":
    main()
