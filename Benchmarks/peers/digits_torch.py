"""The README's digits command in PyTorch: the same network, optimizer, batch size and split
size as `chainrule train --data Data/digits/digits.csv --label label` (64 → hidden → 10, ReLU,
softmax cross-entropy, Adam lr 0.01, batch 32, 80 % training rows, features standardised with
the training rows' mean and standard deviation), timed the same way: samples trained per second
over the whole training loop, validation after each epoch included.

    python digits_torch.py CSV --hidden 32 --epochs 20
"""

import argparse
import json
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("csv")
parser.add_argument("--hidden", default="32")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.01)
args = parser.parse_args()

torch.set_num_threads(2)
torch.manual_seed(1)
table = np.genfromtxt(args.csv, delimiter=",", names=True, dtype=np.float32)
names = table.dtype.names
features = np.stack([table[n] for n in names if n != "label"], axis=1)
labels = table["label"].astype(np.int64)
order = np.random.default_rng(1).permutation(len(labels))
cut = int(round(0.8 * len(labels)))
train, valid = order[:cut], order[cut:]
mean, std = features[train].mean(0), features[train].std(0)
std[std == 0] = 1
x = torch.from_numpy((features - mean) / std)
y = torch.from_numpy(labels)

sizes = [x.shape[1]] + [int(h) for h in args.hidden.split(",")] + [10]
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
loss_fn = torch.nn.CrossEntropyLoss()
generator = torch.Generator().manual_seed(1)
train_x, train_y, valid_x, valid_y = x[train], y[train], x[valid], y[valid]

# One untimed forward and backward first, so that PyTorch's one-time set-up is not counted
# (generous to the peer: ChainRule's first step is timed).
loss_fn(model(train_x[: args.batch_size]), train_y[: args.batch_size]).backward()
optimizer.zero_grad()

start = time.perf_counter()
for epoch in range(args.epochs):
    permutation = torch.randperm(len(train_y), generator=generator)
    for i in range(0, len(train_y), args.batch_size):
        index = permutation[i : i + args.batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(train_x[index]), train_y[index])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(valid_x).argmax(1) == valid_y).float().mean().item()
elapsed = time.perf_counter() - start
print(json.dumps({
    "peer": "torch", "hidden": args.hidden, "epochs": args.epochs,
    "samples_per_second": args.epochs * len(train_y) / elapsed,
    "validation_accuracy": accuracy, "torch": torch.__version__,
}))
