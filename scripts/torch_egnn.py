#!/usr/bin/env python3
"""PyTorch peer of `adjoint bench egnn`: times one EGNN training step (forward, regression loss,
backward, Adam) on the CPU with the same architecture as lib/nn's EGNN and prints one JSON line.

Two layouts:
  --layout edges  (default) an edge list with gather/index_add aggregation and the concatenated
                  first edge layer, the way the public reference implementations are written;
  --layout dense  dense [B, n, n, H] pair tensors with the first edge layer split at node level
                  (the layout lib/nn uses), diagonal masked.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn

SYSTEMS = {"dw4": (4, 2), "lj13": (13, 3), "lj55": (55, 3)}


class Layer(nn.Module):
    def __init__(self, H, attention, coord_step, last_gain, node_update):
        super().__init__()
        self.edge1 = nn.Linear(2 * H + 2, H)
        self.edge2 = nn.Linear(H, H)
        self.att = nn.Linear(H, 1) if attention else None
        self.coord1 = nn.Linear(H, H)
        self.coord2 = nn.Linear(H, 1, bias=False)
        nn.init.xavier_uniform_(self.coord2.weight, gain=last_gain)
        self.node1 = nn.Linear(2 * H, H)
        self.node2 = nn.Linear(H, H)
        self.coord_step = coord_step
        self.node_update = node_update
        self.act = nn.SiLU()

    def message(self, m):
        m = self.act(self.edge2(m))
        if self.att is not None:
            m = m * torch.sigmoid(self.att(m))
        return m

    def coord_scalar(self, m):
        return torch.tanh(self.coord2(self.act(self.coord1(m)))) * self.coord_step

    def forward_edges(self, h, x, row, col, attr):
        diff = x[row] - x[col]
        radial = (diff ** 2).sum(-1, keepdim=True)
        diff = diff / (torch.sqrt(radial + 1e-8) + 1)
        m = self.act(self.edge1(torch.cat([h[row], h[col], radial, attr], dim=-1)))
        m = self.message(m)
        x = x.index_add(0, row, diff * self.coord_scalar(m))
        if self.node_update:
            agg = torch.zeros_like(h).index_add_(0, row, m)
            h = h + self.node2(self.act(self.node1(torch.cat([h, agg], dim=-1))))
        return h, x

    def forward_dense(self, h, x, attr, mask):
        # h [B, n, H], x [B, n, d], attr [B, n, n, 1], mask [n, n, 1] (0 on the diagonal)
        H = h.shape[-1]
        W = self.edge1.weight  # [H, 2H + 2]
        a = h @ W[:, :H].t()
        b = h @ W[:, H:2 * H].t() + self.edge1.bias
        diff = x[:, :, None, :] - x[:, None, :, :]
        radial = (diff ** 2).sum(-1, keepdim=True)
        diff = diff / (torch.sqrt(radial + 1e-8) + 1)
        pre = a[:, :, None, :] + b[:, None, :, :] + radial * W[:, 2 * H] + attr * W[:, 2 * H + 1]
        m = self.message(self.act(pre)) * mask
        x = x + (diff * self.coord_scalar(m)).sum(2)
        if self.node_update:
            agg = m.sum(2)
            h = h + self.node2(self.act(self.node1(torch.cat([h, agg], dim=-1))))
        return h, x


class EGNN(nn.Module):
    def __init__(self, n, d, layers, H, attention=True, tanh_range=15.0, last_gain=1e-3):
        super().__init__()
        self.n, self.d = n, d
        self.embed = nn.Linear(1, H)
        self.layers = nn.ModuleList(
            [Layer(H, attention, tanh_range / layers, last_gain, node_update=(l < layers - 1)) for l in range(layers)])
        rows, cols = zip(*[(i, j) for i in range(n) for j in range(n) if i != j])
        self.register_buffer("rows", torch.tensor(rows))
        self.register_buffer("cols", torch.tensor(cols))
        self._edges = {}

    def edges(self, B):
        if B not in self._edges:
            off = (torch.arange(B) * self.n)[:, None]
            self._edges = {B: ((self.rows[None] + off).reshape(-1), (self.cols[None] + off).reshape(-1))}
        return self._edges[B]

    def forward(self, x, t, layout):
        B, n, d = x.shape[0], self.n, self.d
        x0 = x.reshape(B, n, d)
        if layout == "edges":
            row, col = self.edges(B)
            pos = x0.reshape(B * n, d)
            h = self.embed(t[:, None, None].expand(B, n, 1).reshape(B * n, 1))
            attr = ((pos[row] - pos[col]) ** 2).sum(-1, keepdim=True)
            for layer in self.layers:
                h, pos = layer.forward_edges(h, pos, row, col, attr)
            pos = pos.reshape(B, n, d)
        else:
            mask = (1 - torch.eye(n, dtype=x.dtype))[:, :, None]
            h = self.embed(t[:, None, None].expand(B, n, 1))
            attr = ((x0[:, :, None, :] - x0[:, None, :, :]) ** 2).sum(-1, keepdim=True)
            pos = x0
            for layer in self.layers:
                h, pos = layer.forward_dense(h, pos, attr, mask)
        v = pos - x0
        v = v - v.mean(1, keepdim=True)
        return v.reshape(B, n * d)


def load_go_model(path):
    """Reads a model file written by lib/nn (format version 1) into an EGNN (float64)."""
    import struct
    import zlib
    raw = open(path, "rb").read()
    if raw[:8] != b"ADJNNET\x00":
        raise SystemExit("%s: not a model file" % path)
    version, hlen = struct.unpack("<II", raw[8:16])
    if version != 1 or zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
        raise SystemExit("%s: unsupported version or bad checksum" % path)
    head = json.loads(raw[16:16 + hlen])
    if head["kind"] != "egnn":
        raise SystemExit("%s: not an EGNN" % path)
    off, params = 16 + hlen, {}
    for p in head["params"]:
        n = math.prod(p["shape"])
        params[p["name"]] = torch.tensor(struct.unpack("<%df" % n, raw[off:off + 4 * n]), dtype=torch.float64).reshape(p["shape"])
        off += 4 * n
    c = head["config"]
    m = EGNN(c["Particles"], c["SpatialDim"], c["Layers"], c["Hidden"], attention=c["Attention"],
             tanh_range=c["TanhRange"], last_gain=c["LastGain"]).double()
    with torch.no_grad():
        # lib/nn stores weights as [in, out]; torch as [out, in].
        m.embed.weight.copy_(params["embedding.weight"].T)
        m.embed.bias.copy_(params["embedding.bias"])
        for l, layer in enumerate(m.layers):
            g = lambda s: params["layer%d.%s" % (l, s)]
            layer.edge1.weight.copy_(torch.cat([g("edge1.weight_i").T, g("edge1.weight_j").T,
                                                g("edge1.weight_radial")[:, None], g("edge1.weight_attr")[:, None]], 1))
            layer.edge1.bias.copy_(g("edge1.bias"))
            for name in ["edge2", "coord1", "node1", "node2"]:
                getattr(layer, name).weight.copy_(g(name + ".weight").T)
                getattr(layer, name).bias.copy_(g(name + ".bias"))
            if layer.att is not None:
                layer.att.weight.copy_(g("att.weight")[None])
                layer.att.bias.copy_(g("att.bias"))
            layer.coord2.weight.copy_(g("coord2.weight")[None])
    return m


def check(prefix):
    """Compares this peer with lib/nn on a fixture (PREFIX.bin model, PREFIX.json inputs/outputs)."""
    m = load_go_model(prefix + ".bin")
    io = json.load(open(prefix + ".json"))
    x = torch.tensor(io["x"], dtype=torch.float64).reshape(len(io["t"]), -1)
    t = torch.tensor(io["t"], dtype=torch.float64)
    ref = torch.tensor(io["out"], dtype=torch.float64).reshape(x.shape)
    worst = max((m(x, t, layout) - ref).abs().max().item() for layout in ["edges", "dense"])
    scale = ref.abs().max().item()
    print(json.dumps({"check": "egnn", "impl": "torch", "fixture": prefix, "max_abs_diff": worst, "max_abs_out": scale}))
    if not worst <= 1e-4 * max(1.0, scale):
        raise SystemExit("torch peer and lib/nn disagree")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default="dw4", choices=sorted(SYSTEMS))
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--layout", default="edges", choices=["edges", "dense"])
    ap.add_argument("--check", metavar="PREFIX", help="compare with lib/nn on PREFIX.bin/PREFIX.json and exit")
    a = ap.parse_args()
    if a.check:
        check(a.check)
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n, d = SYSTEMS[a.system]
    model = EGNN(n, d, a.layers, a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    x = 1.5 * torch.randn(a.batch, n * d)
    t = torch.rand(a.batch)
    y = torch.randn(a.batch, n * d)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = ((model(x, t, a.layout) - y) ** 2).sum(-1).mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        s = time.perf_counter()
        step()
        times.append((time.perf_counter() - s) * 1000)
    print(json.dumps({"bench": "egnn", "impl": "torch", "system": a.system, "batch": a.batch, "layers": a.layers,
                      "hidden": a.hidden, "steps": a.steps, "ms_per_step": round(statistics.median(times), 3),
                      "threads": a.threads, "blas": "torch-" + torch.__version__, "layout": a.layout}))


if __name__ == "__main__":
    main()
