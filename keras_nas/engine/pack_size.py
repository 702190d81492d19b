"""How many candidates train together in one pack (`engine.pack_loop`).

A pack pays while each candidate's step is dominated by the framework's
overhead per step rather than by its arithmetic: then `k` candidates in
one step cost little more than one. Once the pack's arithmetic fills the
device, a larger pack only adds memory. So `PackSize("auto")` fills a pack
until its candidates' summed FLOPs per sample reach the device's share
(`CPU_FLOPS_PER_CORE` times the cores; `GPU_FLOPS` on a GPU), their summed
weights (with the optimizer's state and gradients) a share of the GPU's
memory, or the count `MOST` of the device kind. The constants come from
`benchmarks/packing.py` (benchmarks/README.md, "Packed training").
`PackSize(1)` trains one candidate at a time.
"""

import dataclasses
import functools
import os
import shutil
import subprocess

import keras

__all__ = ["CPU_FLOPS_PER_CORE", "GPU_FLOPS", "MOST", "PackSize", "device"]

#: The most candidates in one pack, by device kind.
MOST = {"cpu": 8, "gpu": 16}
#: Summed FLOPs per sample of a pack, per CPU core, before it is full.
CPU_FLOPS_PER_CORE = 2_000_000
#: Summed FLOPs per sample of a pack on one GPU before it is full.
GPU_FLOPS = 200_000_000
#: The share of a GPU's memory a pack's weights, gradients and optimizer
#: state (16 bytes a weight) may take; activations need the rest.
GPU_MEMORY_SHARE = 0.1


@dataclasses.dataclass(frozen=True)
class PackSize:
    """How many candidates a pack trains at once.

    Args:
        size: `"auto"` (filled by the candidates' FLOPs and weights against
            the device: see the module's docstring) or an integer of at
            least 1: that many at most, `1` for one at a time. Defaults to
            `"auto"`.
    """

    size: object = "auto"

    def __post_init__(self):
        size = self.size
        if size != "auto" and (isinstance(size, bool)
                               or not isinstance(size, int) or size < 1):
            raise ValueError(
                "`pack_size` must be 'auto' or an integer of at least 1 "
                f"(1 trains one candidate at a time). Received: "
                f"pack_size={size!r}.")

    def most(self):
        """The most candidates a pack takes."""
        if self.size == "auto":
            return MOST[device()[0]]
        return self.size

    def has_room(self, costs):
        """Whether a pack holding candidates of `costs` (`{"params",
        "flops"}` each) takes one more."""
        if len(costs) >= self.most():
            return False
        if self.size != "auto":
            return True
        kind, amount = device()
        flops = sum(c["flops"] for c in costs)
        if kind == "cpu":
            return flops < CPU_FLOPS_PER_CORE * amount
        weights = 16 * sum(c["params"] for c in costs)
        return flops < GPU_FLOPS and (
            not amount or weights < GPU_MEMORY_SHARE * amount)


@functools.lru_cache(maxsize=None)
def device():
    """`("gpu", memory in bytes or 0 if unknown)` when the backend trains
    on a GPU, else `("cpu", cores this process may use)`."""
    if _backend_has_gpu():
        return "gpu", _gpu_memory()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return "cpu", cores


def _backend_has_gpu():
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return jax.default_backend() in ("gpu", "cuda", "rocm")
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "torch":
            import torch

            return torch.cuda.is_available()
    except Exception:  # A broken driver: train as on a CPU.
        return False
    return False


def _gpu_memory():
    """The first GPU's memory in bytes, from `nvidia-smi`; 0 if unknown."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total",
             "--format=csv,noheader,nounits"], capture_output=True,
            text=True, timeout=10).stdout.split()
        return int(out[0]) * 2 ** 20 if out else 0
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0
