"""The peers of ChainRule's benchmark: the same workloads W1-W5 in NumPy (hand-written
backprop), PyTorch eager, JAX jit and micrograd, printed as JSON lines.

Each step is forward + backward + SGD update; the number is the median of many timed steps
after warm-up. Run through Benchmarks/peers/run.sh, which also runs `chainrule-bench` in the
same session so that the ratios compare like with like.
"""

import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")

import numpy as np

QUICK = "--quick" in sys.argv


def median_seconds(step, warmup, repeats, min_time=0.2):
    """Median wall time of one call of `step`, after `warmup` calls."""
    for _ in range(warmup):
        step()
    times = []
    deadline = time.perf_counter() + (0.02 if QUICK else min_time)
    while len(times) < repeats or time.perf_counter() < deadline:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        if QUICK and len(times) >= 3:
            break
    return statistics.median(times)


def emit(workload, peer, seconds, **extra):
    print(json.dumps({"workload": workload, "peer": peer, "median_us": seconds * 1e6, **extra}), flush=True)


rng = np.random.default_rng(0)
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def mlp_shapes(sizes):
    return [(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]


def glorot(shape):
    limit = math.sqrt(6 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


MLP = {"W2": ([784, 128, 10], 64), "W3": ([784, 1024, 1024, 10], 256)}
# Each MLP workload runs twice: "W2" with SGD (lr 0.01) and "W2-Adam" with Adam's defaults
# (lr 1e-3, betas 0.9/0.999, eps 1e-8), the optimizer users train with.
OPTIMIZERS = {"": "sgd", "-Adam": "adam"}
ADAM = (np.float32(1e-3), np.float32(0.9), np.float32(0.999), np.float32(1e-8))


def mlp_data(sizes, batch):
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], size=batch)
    return x, labels


# ---------------------------------------------------------------- NumPy (hand backprop)
def numpy_w1():
    w1, b1 = glorot((2, 2)), np.zeros(2, np.float32)
    w2, b2 = glorot((2, 1)), np.zeros(1, np.float32)
    lr = np.float32(0.5)

    def step():
        nonlocal w1, b1, w2, b2
        a1 = np.tanh(XOR_X @ w1 + b1)
        z2 = a1 @ w2 + b2
        a2 = 1 / (1 + np.exp(-z2))
        dz2 = (a2 - XOR_Y) / 4  # BCE on a sigmoid: dL/dz = (a − y)/n
        dw2, db2 = a1.T @ dz2, dz2.sum(0)
        dz1 = (dz2 @ w2.T) * (1 - a1 * a1)
        dw1, db1 = XOR_X.T @ dz1, dz1.sum(0)
        w1 -= lr * dw1; b1 -= lr * db1; w2 -= lr * dw2; b2 -= lr * db2

    return step


def numpy_mlp(sizes, batch, optimizer="sgd"):
    weights = [glorot(s) for s in mlp_shapes(sizes)]
    biases = [np.zeros(s[1], np.float32) for s in mlp_shapes(sizes)]
    x, labels = mlp_data(sizes, batch)
    onehot = np.eye(sizes[-1], dtype=np.float32)[labels]
    lr = np.float32(0.01)
    moments = {}
    t = [0]

    def update(key, p, g):
        """p ← p − η g (SGD) or PyTorch's Adam step, in place, for one array."""
        if optimizer == "sgd":
            p -= lr * g
            return
        eta, b1, b2, eps = ADAM
        m, v = moments.setdefault(key, (np.zeros_like(p), np.zeros_like(p)))
        m *= b1; m += (1 - b1) * g
        v *= b2; v += (1 - b2) * g * g
        c1, c2 = 1 - 0.9 ** t[0], 1 - 0.999 ** t[0]
        p -= eta * (m / c1) / (np.sqrt(v / c2) + eps)

    def step():
        t[0] += 1
        activations = [x]
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = activations[-1] @ w + b
            activations.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
        logits = activations[-1]
        shifted = logits - logits.max(1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(1, keepdims=True)
        dz = (p - onehot) / batch
        for i in reversed(range(len(weights))):
            a = activations[i]
            dw, db = a.T @ dz, dz.sum(0)
            if i > 0:
                dz = (dz @ weights[i].T) * (a > 0)
            update(("w", i), weights[i], dw)
            update(("b", i), biases[i], db)

    return step


# ---------------------------------------------------------------- PyTorch eager
def torch_steps():
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)

    def w1():
        model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        x, y = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)
        loss_fn = torch.nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        return step

    def mlp(sizes, batch, optimizer="sgd"):
        layers = []
        for i, (n_in, n_out) in enumerate(mlp_shapes(sizes)):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        if optimizer == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
        else:
            opt = torch.optim.Adam(model.parameters())  # defaults, foreach implementation
        x, labels = mlp_data(sizes, batch)
        x, labels = torch.from_numpy(x), torch.from_numpy(labels)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(x), labels).backward()
            opt.step()

        return step

    def matmul(n):
        a, b = torch.randn(n, n), torch.randn(n, n)
        return lambda: torch.mm(a, b)

    return torch.__version__, w1, mlp, matmul


def torch_conv_step():
    """Conv: the CNN of chainrule-bench's ConvolutionWorkload.swift in nn.Conv2d, SGD lr 0.01."""
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.from_numpy(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 10, 64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), labels).backward()
        opt.step()

    return step


# ---------------------------------------------------------------- JAX jit
def jax_steps():
    import jax
    import jax.numpy as jnp

    def sgd(loss):
        @jax.jit
        def update(params, x, y):
            grads = jax.grad(loss)(params, x, y)
            return jax.tree_util.tree_map(lambda p, g: p - lr_of(params) * g, params, grads)

        return update

    lr_table = {}

    def lr_of(params):
        return lr_table["lr"]

    def w1():
        lr_table["lr"] = 0.5
        params = [jnp.array(glorot((2, 2))), jnp.zeros(2), jnp.array(glorot((2, 1))), jnp.zeros(1)]

        def loss(p, x, y):
            z2 = jnp.tanh(x @ p[0] + p[1]) @ p[2] + p[3]
            return jnp.mean(jnp.maximum(z2, 0) - z2 * y + jnp.log1p(jnp.exp(-jnp.abs(z2))))

        update = sgd(loss)
        x, y = jnp.array(XOR_X), jnp.array(XOR_Y)
        state = {"p": params}

        def step():
            state["p"] = update(state["p"], x, y)
            jax.block_until_ready(state["p"])

        return step

    def mlp(sizes, batch, optimizer="sgd"):
        lr_table["lr"] = 0.01
        params = []
        for s in mlp_shapes(sizes):
            params += [jnp.array(glorot(s)), jnp.zeros(s[1])]
        x, labels = mlp_data(sizes, batch)
        x, labels = jnp.array(x), jnp.array(labels)

        def loss(p, x, labels):
            h = x
            for i in range(0, len(p), 2):
                h = h @ p[i] + p[i + 1]
                if i < len(p) - 2:
                    h = jnp.maximum(h, 0)
            logp = jax.nn.log_softmax(h)
            return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

        if optimizer == "sgd":
            update = sgd(loss)
            state = {"p": params}

            def step():
                state["p"] = update(state["p"], x, labels)
                jax.block_until_ready(state["p"])

            return step
        import optax

        adam = optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-8)

        @jax.jit
        def adam_update(p, opt_state, x, labels):
            grads = jax.grad(loss)(p, x, labels)
            updates, opt_state = adam.update(grads, opt_state, p)
            return optax.apply_updates(p, updates), opt_state

        state = {"p": params, "o": adam.init(params)}

        def step():
            state["p"], state["o"] = adam_update(state["p"], state["o"], x, labels)
            jax.block_until_ready(state["p"])

        return step

    def matmul(n):
        a = jnp.array(rng.standard_normal((n, n)).astype(np.float32))
        b = jnp.array(rng.standard_normal((n, n)).astype(np.float32))
        f = jax.jit(lambda a, b: a @ b)
        return lambda: f(a, b).block_until_ready()

    return jax.__version__, w1, mlp, matmul


# ---------------------------------------------------------------- micrograd
def micrograd_steps():
    from micrograd.engine import Value

    def unary(v, value, derivative, op):
        """A micrograd node for an op the PyPI release lacks (0.1.0 has + * ** relu only)."""
        out = Value(value, (v,), op)

        def backward():
            v.grad += derivative * out.grad

        out._backward = backward
        return out

    def log(v):
        return unary(v, math.log(v.data), 1 / v.data, "log")

    def tanh(v):
        t = math.tanh(v.data)
        return unary(v, t, 1 - t * t, "tanh")

    def sigmoid(v):
        s = 1 / (1 + math.exp(-v.data))
        return unary(v, s, s * (1 - s), "sigmoid")

    def w1():
        rand = np.random.default_rng(1)
        w1 = [[Value(rand.uniform(-1, 1)) for _ in range(2)] for _ in range(2)]
        b1 = [Value(0.0) for _ in range(2)]
        w2 = [Value(rand.uniform(-1, 1)) for _ in range(2)]
        b2 = Value(0.0)
        params = [p for row in w1 for p in row] + b1 + w2 + [b2]

        def step():
            for p in params:
                p.grad = 0
            total = Value(0.0)
            for x, y in zip(XOR_X.tolist(), XOR_Y[:, 0].tolist()):
                h = [tanh(sum((w1[i][j] * x[i] for i in range(2)), b1[j])) for j in range(2)]
                a = sigmoid(sum((w2[j] * h[j] for j in range(2)), b2))
                total = total + -(log(a) * y + log(1 - a) * (1 - y))
            loss = total * 0.25
            loss.backward()
            for p in params:
                p.data -= 0.5 * p.grad

        return step

    def w4():
        """2→16→16→1 tanh MLP of scalar nodes: 980 nodes built, evaluated and differentiated."""
        rand = np.random.default_rng(4)
        sizes = [2, 16, 16, 1]
        layers = [
            [([Value(rand.uniform(-1, 1)) for _ in range(n_in)], Value(0.0)) for _ in range(n_out)]
            for n_in, n_out in mlp_shapes(sizes)
        ]

        def step():
            h = [Value(0.5), Value(-1.0)]
            for layer in layers:
                h = [tanh(sum((w * x for w, x in zip(ws, h)), b)) for ws, b in layer]
            h[0].backward()

        return step

    return "0.1.0", w1, w4


# ---------------------------------------------------------------- driver
def sweep():
    """PyTorch on the MLP configurations of `chainrule-bench --sweep`."""
    _, _, mlp, _ = torch_steps()
    repeats = 3 if QUICK else 20
    for batch in (1, 8, 64, 512):
        seconds = median_seconds(mlp([784, 128, 10], batch), 3, repeats)
        emit("sweep", "torch", seconds, sweep="batch", x=float(batch))
    for width in (64, 256, 1024, 4096):
        seconds = median_seconds(mlp([784, width, 10], 64), 3, repeats)
        emit("sweep", "torch", seconds, sweep="width", x=float(width))


def main():
    if "--sweep" in sys.argv:
        sweep()
        return
    repeats = 5 if QUICK else 50
    emit("W1", "numpy", median_seconds(numpy_w1(), 50, repeats * 10), version=np.__version__)
    for name, (sizes, batch) in MLP.items():
        for suffix, optimizer in OPTIMIZERS.items():
            step = numpy_mlp(sizes, batch, optimizer)
            emit(name + suffix, "numpy", median_seconds(step, 5, repeats))
    for n in (64, 128, 256, 512, 1024):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        seconds = median_seconds(lambda: a @ b, 3, repeats)
        emit(f"W5 n={n}", "numpy", seconds, gflops=2 * n**3 / seconds / 1e9)

    for peer, factory in (("torch", torch_steps), ("jax", jax_steps)):
        try:
            version, w1, mlp, matmul = factory()
        except Exception as error:  # a peer that cannot be installed is reported, not fatal
            print(json.dumps({"peer": peer, "error": repr(error)}), flush=True)
            continue
        emit("W1", peer, median_seconds(w1(), 50, repeats * 10), version=version)
        for name, (sizes, batch) in MLP.items():
            for suffix, optimizer in OPTIMIZERS.items():
                try:
                    step = mlp(sizes, batch, optimizer)
                except ImportError as error:  # optax missing: report, go on
                    print(json.dumps({"peer": peer, "error": repr(error)}), flush=True)
                    continue
                emit(name + suffix, peer, median_seconds(step, 5, repeats))
        for n in (64, 128, 256, 512, 1024):
            seconds = median_seconds(matmul(n), 3, repeats)
            emit(f"W5 n={n}", peer, seconds, gflops=2 * n**3 / seconds / 1e9)

    try:
        emit("Conv", "torch", median_seconds(torch_conv_step(), 5, repeats))
    except Exception as error:
        print(json.dumps({"peer": "torch", "error": repr(error)}), flush=True)

    version, w1, w4 = micrograd_steps()
    emit("W1", "micrograd", median_seconds(w1(), 10, repeats), version=version)
    seconds = median_seconds(w4(), 5, repeats)
    emit("W4", "micrograd", seconds, nodes_per_second=980 / seconds)


if __name__ == "__main__":
    main()
