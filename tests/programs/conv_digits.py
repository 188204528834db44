"""A convolutional classifier for the 8x8 digits, written as a PyTorch user writes one: an
``nn.Module`` subclass, weights initialised through ``weight.data`` in ``self.apply``, a
``DataLoader`` with a seeded generator, ``train()``/``eval()``, a ``state_dict`` saved and
loaded, and the accuracy printed.

It is a PyTorch program: only the import block below differs from the one that runs on
PyTorch. The digits ship with scikit-learn, so nothing is downloaded.
"""

import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
digits = load_digits()
images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
labels = torch.from_numpy(digits.target).long()
perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
train_idx, test_idx = perm[:1400], perm[1400:]
train_ds = TensorDataset(images[train_idx], labels[train_idx])
test_ds = TensorDataset(images[test_idx], labels[test_idx])
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True,
                          generator=torch.Generator().manual_seed(1))
test_loader = DataLoader(test_ds, batch_size=256)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.1)
        self.fc1 = nn.Linear(16 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.data.normal_(0.0, (2.0 / fan_in) ** 0.5)
            if module.bias is not None:
                module.bias.data.zero_()

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def evaluate(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for data, target in loader:
            output = model(data)
            loss_sum += F.cross_entropy(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            total += target.size(0)
    return loss_sum / total, correct / total


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
for epoch in range(1, 7):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()
    scheduler.step()
    test_loss, acc = evaluate(model, test_loader)
    print(f"epoch {epoch}: train loss {loss.item():.4f}  test loss {test_loss:.4f}  "
          f"accuracy {100.0 * acc:.1f}%")

# save, load into a fresh model, and check it predicts the same
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "digits_cnn.pt")
    torch.save(model.state_dict(), path)
    restored = Net()
    restored.load_state_dict(torch.load(path))
_, restored_acc = evaluate(restored, test_loader)
print(f"restored accuracy {100.0 * restored_acc:.1f}%")

assert acc > 0.85, acc
assert restored_acc == acc
