"""The zoo's mobilenet space (zoo/mobilenet.yaml) as a weight-sharing supernet in plain Python
PyTorch, written the way a once-for-all user would: dynamic modules that slice their largest
weight. Times one training step of one path, for comparison with nasforge's C++ supernet
(bench/python_comparison.sh runs both).

Before it times anything it checks that it is the same network as nasforge's: it loads the C++
supernet's initial state from DIR (written by `supernet_step_bench --dump DIR`), and requires
the same parameter count and the same eval-mode logits on the same real batch, to 1e-4. It then
times on that batch. Either check failing exits 1 with what differed.

usage: /usr/bin/python3 mobilenet_supernet.py --from DIR --steps 20 --threads 2
"""
import argparse
import os
import re
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DynamicConv2d(nn.Module):
    def __init__(self, max_in, max_out, max_kernel, stride=1, depthwise=False):
        super().__init__()
        self.max_kernel, self.stride, self.depthwise = max_kernel, stride, depthwise
        shape = (max_out, 1 if depthwise else max_in, max_kernel, max_kernel)
        self.weight = nn.Parameter(torch.randn(shape) * 0.1)

    def forward(self, x, out_channels, kernel):
        in_channels = x.size(1)
        out = in_channels if self.depthwise else out_channels
        w = self.weight[:out] if self.depthwise else self.weight[:out, :in_channels]
        off = (self.max_kernel - kernel) // 2
        w = w[:, :, off:off + kernel, off:off + kernel]
        return F.conv2d(x, w, None, self.stride, kernel // 2, 1,
                        in_channels if self.depthwise else 1)


class DynamicBatchNorm2d(nn.Module):
    def __init__(self, max_features):
        super().__init__()
        self.bn = nn.BatchNorm2d(max_features)

    def forward(self, x):
        c = x.size(1)
        bn = self.bn
        return F.batch_norm(x, bn.running_mean[:c], bn.running_var[:c], bn.weight[:c],
                            bn.bias[:c], self.training, bn.momentum, bn.eps)


class DynamicLinear(nn.Module):
    def __init__(self, max_in, max_out):
        super().__init__()
        self.linear = nn.Linear(max_in, max_out)

    def forward(self, x, out_features):
        return F.linear(x, self.linear.weight[:out_features, :x.size(-1)],
                        self.linear.bias[:out_features])


def make_divisible(v, divisor=8):
    r = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return r + divisor if r < 0.9 * v else r


def act(x, name):
    return F.hardswish(x) if name == "hswish" else torch.clamp(x, 0, 6)


class DynamicMBConv(nn.Module):
    def __init__(self, max_in, max_out, max_kernel, max_expand, stride, se, activation):
        super().__init__()
        max_mid = max_in * max_expand
        self.stride, self.use_se, self.activation = stride, se, activation
        self.expand = DynamicConv2d(max_in, max_mid, 1)
        self.expand_bn = DynamicBatchNorm2d(max_mid)
        self.dw = DynamicConv2d(max_mid, max_mid, max_kernel, stride, depthwise=True)
        self.dw_bn = DynamicBatchNorm2d(max_mid)
        if se:
            self.se_reduce = DynamicLinear(max_mid, make_divisible(max_mid / 4))
            self.se_expand = DynamicLinear(make_divisible(max_mid / 4), max_mid)
        self.project = DynamicConv2d(max_mid, max_out, 1)
        self.project_bn = DynamicBatchNorm2d(max_out)

    def forward(self, x, out, kernel, expand):
        mid = x.size(1) * expand
        h = act(self.expand_bn(self.expand(x, mid, 1)), self.activation)
        h = act(self.dw_bn(self.dw(h, mid, kernel)), self.activation)
        if self.use_se:
            s = F.relu(self.se_reduce(h.mean((2, 3)), make_divisible(mid / 4)))
            h = h * F.hardsigmoid(self.se_expand(s, mid))[:, :, None, None]
        h = self.project_bn(self.project(h, out, 1))
        return h + x if self.stride == 1 and x.size(1) == out else h


class MobileNetSupernet(nn.Module):
    # (max width, stride, squeeze-excite, activation) of the three elastic stages
    STAGES = [(32, 2, False, "relu6"), (48, 2, True, "hswish"), (80, 1, True, "hswish")]

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.Hardswish())
        self.first = nn.Sequential(  # mbconv out 16, kernel 3, expand 1
            nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
            nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.stages = nn.ModuleList()
        max_in = 16
        for width, stride, se, activation in self.STAGES:
            blocks = nn.ModuleList()
            for b in range(4):
                blocks.append(DynamicMBConv(max_in if b == 0 else width, width, 7, 6,
                                            stride if b == 0 else 1, se, activation))
            self.stages.append(blocks)
            max_in = width
        self.final = DynamicConv2d(80, 256, 1)
        self.final_bn = DynamicBatchNorm2d(256)
        self.classifier = nn.Linear(256, 10)

    def forward(self, x, arch):
        h = self.stem(x)
        h = h + self.first(h)
        for blocks, (depth, width, kernels) in zip(self.stages, arch):
            for b in range(depth):
                h = blocks[b](h, width, kernels[b][0], kernels[b][1])
        h = F.hardswish(self.final_bn(self.final(h, 256, 1)))
        h = F.dropout(h.mean((2, 3)), 0.1, self.training)
        return self.classifier(h)


def parse(arch):
    """'stage1=d3w24:k3e4,...' -> [(depth, width, [(kernel, expand), ...]), ...]"""
    stages = []
    for part in arch.split("/"):
        head, blocks = part.split("=")[1].split(":")
        d, w = map(int, re.match(r"d(\d+)w(\d+)", head).groups())
        ks = [tuple(map(int, re.match(r"k(\d+)e(\d+)", b).groups())) for b in blocks.split(",")]
        stages.append((d, w, ks))
    return stages


def python_name(cpp_name):
    """The name in MobileNetSupernet of the C++ supernet's tensor `cpp_name`."""
    rules = [
        (r"stem\.block\.conv\.(.*)", r"stem.0.\1"),
        (r"stem\.block\.bn\.(.*)", r"stem.1.\1"),
        (r"mbconv1\.block\.dw\.(.*)", r"first.0.\1"),
        (r"mbconv1\.block\.dw_bn\.(.*)", r"first.1.\1"),
        (r"mbconv1\.block\.project\.(.*)", r"first.3.\1"),
        (r"mbconv1\.block\.project_bn\.(.*)", r"first.4.\1"),
        (r"stage(\d)\.block(\d)\.(\w+_bn)\.(.*)", None),
        (r"stage(\d)\.block(\d)\.(se_\w+)\.(.*)", None),
        (r"stage(\d)\.block(\d)\.(\w+)\.(.*)", None),
        (r"conv1\.block\.conv\.(.*)", r"final.\1"),
        (r"conv1\.block\.bn\.(.*)", r"final_bn.bn.\1"),
        (r"head\.classifier\.(.*)", r"classifier.\1"),
    ]
    for pattern, repl in rules:
        m = re.fullmatch(pattern, cpp_name)
        if not m:
            continue
        if repl:
            return m.expand(repl)
        stage, block, module, rest = int(m[1]) - 1, int(m[2]) - 1, m[3], m[4]
        inner = ".bn" if module.endswith("_bn") else ".linear" if module.startswith("se_") else ""
        return f"stages.{stage}.{block}.{module}{inner}.{rest}"
    raise SystemExit(f"self-check: no Python tensor for the C++ tensor '{cpp_name}'")


def read_tensors(dir_, stem):
    """The tensors that supernet_step_bench --dump wrote to DIR/STEM.txt and DIR/STEM.bin."""
    with open(os.path.join(dir_, stem + ".bin"), "rb") as f:
        data = bytearray(f.read())
    out, offset = {}, 0
    for line in open(os.path.join(dir_, stem + ".txt")):
        name, dtype, *shape = line.split()
        dtype = torch.float32 if dtype == "float32" else torch.int64
        n = 1
        for d in shape:
            n *= int(d)
        t = torch.frombuffer(data, dtype=dtype, count=n, offset=offset)
        out[name] = t.reshape([int(d) for d in shape]).clone()
        offset += n * t.element_size()
    if offset != len(data):
        raise SystemExit(f"self-check: {stem}.bin holds {len(data)} bytes, the index {offset}")
    return out


def load_and_check(net, dir_):
    """Loads the C++ initial state into `net`; returns (arch, images, labels) after checking the
    parameter count and the eval-mode logits against the C++ network's."""
    cpp_params = int(open(os.path.join(dir_, "params.txt")).read())
    py_params = sum(p.numel() for p in net.parameters())
    print(f"self-check parameters: C++ {cpp_params}, Python {py_params}")
    if py_params != cpp_params:
        raise SystemExit("self-check FAILED: the parameter counts differ")
    state = {python_name(k): v for k, v in read_tensors(dir_, "state").items()}
    missing = set(net.state_dict()) - set(state)
    if missing:
        raise SystemExit(f"self-check FAILED: the C++ state has no value for {sorted(missing)}")
    for name, value in net.state_dict().items():
        if value.shape != state[name].shape:
            raise SystemExit(f"self-check FAILED: {name} is {list(value.shape)} in Python, "
                             f"{list(state[name].shape)} in C++")
    net.load_state_dict(state)
    batch = read_tensors(dir_, "batch")
    arch_string = open(os.path.join(dir_, "arch.txt")).read().strip()
    arch = parse(arch_string)
    net.eval()
    with torch.no_grad():
        logits = net(batch["images"], arch)
    net.train()
    expected = read_tensors(dir_, "logits")["logits"]
    diff = (logits - expected).abs().max().item()
    # Logits at initialisation are small (about 0.03), so the difference must also be within
    # 1e-4 of their scale: an off-by-one kernel slice moves them by about 2e-4.
    scale = expected.abs().max().item()
    print(f"self-check logits: max |Python - C++| = {diff:.2e}, {diff / scale:.2e} of the largest "
          f"|logit| {scale:.3f}, over {tuple(logits.shape)} (tolerance 1e-4 absolute and "
          f"relative), {arch_string}")
    if not (diff <= 1e-4 and diff <= 1e-4 * scale):
        raise SystemExit("self-check FAILED: the logits differ")
    return arch, batch["images"], batch["labels"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="from_dir", required=True,
                   help="the folder written by supernet_step_bench --dump")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = MobileNetSupernet().train()
    arch, x, y = load_and_check(net, a.from_dir)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    times = []
    for step in range(a.steps + 3):
        t = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(net(x, arch), y).backward()
        opt.step()
        if step >= 3:
            times.append(1000 * (time.perf_counter() - t))
    print(f"python step ms {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
