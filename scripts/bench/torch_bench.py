#!/usr/bin/python3
"""PyTorch side of `npm run bench`: the same networks, batch, optimizer and protocol as the TF.js
side (scripts/bench/models.ts, throughput.ts), built from the explicit layer description it sends.

    /usr/bin/python3 scripts/bench/torch_bench.py SPECS.json [--seconds 3] [--batch 128]
        [--configs 1+2,2+1] [--device cpu|cuda] [--matmul 1024]

SPECS.json: [{"name": ..., "torch": {kind, ...}}, ...]. On the CPU each model is timed under each
thread configuration T+B (torch.set_num_threads(T), OpenBLAS at B threads through
openblas_set_num_threads, set at run time in this process), one after the other per model so that
load on the machine hits every configuration alike. Prints one JSON line per model and
configuration, {"name", "config", "samplesPerSec", "steps", "seconds", "finalLoss"} or
{"name", "config", "error"}; one per configuration for a square float32 matrix product
{"matmul": n, "config", "gflops"}; then {"done": true, "torch": version, "device", "blas": ...}.
If torch is missing it prints {"error": "PyTorch not installed: ..."} and exits 3.
"""
import argparse
import ctypes
import json
import sys
import time

BATCHES_IN_MEMORY = 4
READ_LOSS_EVERY = 10

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as error:  # noqa: BLE001
    print(json.dumps({"error": f"PyTorch not installed: {error} "
                      "(apt-get install -y python3-torch libopenblas0-pthread)"}))
    sys.exit(3)


class Mlp(nn.Module):
    def __init__(self, spec):
        super().__init__()
        widths = [spec["inputs"]] + spec["hidden"]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.out = nn.Linear(widths[-1], spec["classes"])

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


class Cnn(nn.Module):
    """conv 3x3 same relu, maxpool 2, conv 3x3 same relu, maxpool 2, flatten, dense (NCHW here)."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec["input"]
        a, b = spec["channels"]
        self.conv1 = nn.Conv2d(c, a, 3, padding=1)
        self.conv2 = nn.Conv2d(a, b, 3, padding=1)
        self.dense = nn.Linear(b * (h // 4) * (w // 4), spec["classes"])

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.dense(torch.flatten(x, 1))


def conv_bn(cin, cout, k, stride, norm):
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    def __init__(self, cin, block, k, norm):
        super().__init__()
        inner, out, stride = block["inner"], block["out"], block["stride"]
        self.reduce = conv_bn(cin, inner, 1, 1, norm)
        self.conv = conv_bn(inner, inner, k, stride, norm)
        self.expand = conv_bn(inner, out, 1, 1, norm)
        self.shortcut = conv_bn(cin, out, 1, stride, norm) if block["project"] else None

    def forward(self, x):
        h = F.relu(self.reduce(x))
        h = F.relu(self.conv(h))
        h = self.expand(h)
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class Resnet(nn.Module):
    def __init__(self, spec):
        super().__init__()
        _, _, c = spec["input"]
        self.stem = conv_bn(c, spec["stem"], spec["kernel"], 1, spec["norm"])
        blocks, width = [], spec["stem"]
        for block in spec["blocks"]:
            blocks.append(Bottleneck(width, block, spec["kernel"], spec["norm"]))
            width = block["out"]
        self.blocks = nn.Sequential(*blocks)
        self.dense = nn.Linear(width, spec["classes"])

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.dense(x.mean(dim=(2, 3)))


class Attention(nn.Module):
    """Multi-head self-attention, no mask: q/k/v hidden -> heads*headDim, output back to hidden."""

    def __init__(self, hidden, heads, head_dim):
        super().__init__()
        inner = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.query, self.key, self.value = (nn.Linear(hidden, inner) for _ in range(3))
        self.output = nn.Linear(inner, hidden)

    def forward(self, x):
        b, s, _ = x.shape
        split = lambda t: t.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / self.head_dim ** 0.5)
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.output(context.transpose(1, 2).reshape(b, s, self.heads * self.head_dim))


class EncoderBlock(nn.Module):
    """Post-LN: h = LN(h + MHSA(h)); h = LN(h + FFN(h)), FFN = Linear+GELU -> Linear."""

    def __init__(self, cin, block, norm):
        super().__init__()
        hidden = block["hidden"]
        self.resize = nn.Linear(cin, hidden, bias=False) if block["resize"] else None
        self.attention = Attention(hidden, block["heads"], block["headDim"])
        self.ffn_in = nn.Linear(hidden, block["ffn"])
        self.ffn_out = nn.Linear(block["ffn"], hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-5) if norm else nn.Identity()
        self.norm2 = nn.LayerNorm(hidden, eps=1e-5) if norm else nn.Identity()

    def forward(self, h):
        if self.resize is not None:
            h = self.resize(h)
        h = self.norm1(h + self.attention(h))
        return self.norm2(h + self.ffn_out(F.gelu(self.ffn_in(h))))


class Transformer(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.embed = nn.Embedding(spec["vocab"], spec["stem"])
        self.position = nn.Parameter(torch.randn(spec["sequence"], spec["stem"]) * 0.02)
        self.norm = nn.LayerNorm(spec["stem"], eps=1e-5) if spec["norm"] else nn.Identity()
        blocks, width = [], spec["stem"]
        for block in spec["blocks"]:
            blocks.append(EncoderBlock(width, block, spec["norm"]))
            width = block["hidden"]
        self.blocks = nn.Sequential(*blocks)
        self.dense = nn.Linear(width, spec["classes"])

    def forward(self, tokens):
        h = self.norm(self.embed(tokens) + self.position)
        return self.dense(self.blocks(h).mean(dim=1))


def build(spec):
    return {"mlp": Mlp, "cnn": Cnn, "resnet": Resnet, "transformer": Transformer}[spec["kind"]](spec)


def batches(spec, batch, device):
    out = []
    for _ in range(BATCHES_IN_MEMORY):
        if spec["kind"] == "mlp":
            x = torch.rand(batch, spec["inputs"])
        elif spec["kind"] == "transformer":
            x = torch.randint(0, spec["vocab"], (batch, spec["sequence"]))
        else:
            h, w, c = spec["input"]
            x = torch.rand(batch, c, h, w)
        out.append((x.to(device), torch.randint(0, spec["classes"], (batch,)).to(device)))
    return out


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(spec, seconds, batch, device, warmup=2, min_steps=2):
    model = build(spec).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = batches(spec, batch, device)
    last = [float("nan")]

    def step(i, read):
        x, y = data[i % BATCHES_IN_MEMORY]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if read:
            last[0] = loss.item()

    # As throughput.ts: a step that takes half the time is warm after one; one longer than the whole
    # time is timed once.
    step_seconds = 0.0
    for i in range(warmup):
        begin = time.perf_counter()
        step(i, True)
        synchronize(device)
        step_seconds = time.perf_counter() - begin
        if step_seconds > seconds / 2:
            break
    slow = step_seconds > seconds
    steps, start = 0, time.perf_counter()
    while steps < (1 if slow else min_steps) or (not slow and time.perf_counter() - start < seconds):
        step(steps, (steps + 1) % READ_LOSS_EVERY == 0)
        steps += 1
    synchronize(device)
    elapsed = time.perf_counter() - start
    return {"samplesPerSec": steps * batch / elapsed, "steps": steps, "seconds": elapsed, "finalLoss": last[0]}


def matmul_gflops(n, device, seconds=1.0):
    """float32 n x n x n products per second, as GFLOP/s (2 n^3 each)."""
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    torch.mm(a, b)
    synchronize(device)
    count, start = 0, time.perf_counter()
    while count < 2 or time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    synchronize(device)
    return count * 2 * n ** 3 / (time.perf_counter() - start) / 1e9


class ThreadConfig:
    """T+B: torch's intra-op (OpenMP) threads and OpenBLAS's own threads, which Debian's torch calls
    from inside its pool; both set at run time."""

    def __init__(self, text, openblas):
        self.name = text
        self.torch_threads, self.blas_threads = (int(part) for part in text.split("+"))
        self.openblas = openblas

    def apply(self):
        torch.set_num_threads(self.torch_threads)
        if self.openblas is not None:
            self.openblas.openblas_set_num_threads(self.blas_threads)


def load_openblas():
    """The OpenBLAS that torch already loaded (dlopen by soname returns the same library)."""
    try:
        library = ctypes.CDLL("libblas.so.3")
        library.openblas_set_num_threads  # noqa: B018 (raises AttributeError when it is not OpenBLAS)
        return library
    except (OSError, AttributeError):
        return None


def blas_info():
    try:
        config = torch.__config__.show()
        start = config.find("BLAS_INFO=")
        if start >= 0:
            return config[start + len("BLAS_INFO="):].split(",")[0]
    except Exception:  # noqa: BLE001
        pass
    return "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("specs")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--configs", default="1+2,2+1", help="CPU thread configurations T+B")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--matmul", type=int, default=1024, help="size of the square product timed for the peak")
    args = parser.parse_args()
    specs = json.load(open(args.specs))
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": f"torch {torch.__version__} sees no CUDA device"}))
        sys.exit(4)
    if device.type == "cuda":
        # float32 as webgpu computes it: no TF32 in products or convolutions (cuDNN allows it by
        # default); cuDNN picks its fastest convolution algorithms for the fixed shapes.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    if device.type == "cpu":
        # gowide's native addon flushes subnormal floats to zero (they slow training several times
        # once values underflow); PyTorch at its best does the same, through its own switch.
        torch.set_flush_denormal(True)
    openblas = load_openblas() if device.type == "cpu" else None
    configs = [ThreadConfig(text, openblas) for text in args.configs.split(",")] if device.type == "cpu" else []
    labels = [config.name for config in configs] or [args.device]
    torch.manual_seed(0)
    for item in specs:
        for config, label in zip(configs or [None], labels):
            if config:
                config.apply()
            try:
                result = measure(item["torch"], args.seconds, args.batch, device)
                print(json.dumps({"name": item["name"], "config": label, **result}), flush=True)
            except Exception as error:  # noqa: BLE001
                print(json.dumps({"name": item["name"], "config": label, "error": f"{type(error).__name__}: {error}"}), flush=True)
    for config, label in zip(configs or [None], labels):
        if config:
            config.apply()
        print(json.dumps({"matmul": args.matmul, "config": label, "gflops": matmul_gflops(args.matmul, device)}), flush=True)
    print(json.dumps({
        "done": True,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "blas": blas_info(),
        "openblasThreadsSettable": openblas is not None,
    }))


if __name__ == "__main__":
    main()
