#!/usr/bin/env python3
"""GPU run of the PyTorch EGNN peer (scripts/torch_egnn.py): the same flags, plus
  --device DEV   torch device (default cuda)
  --tf32         allow TF32 tensor cores in float32 matrix products (default off, as in adjoint)
Tensors are created on the device through torch.set_default_device; the timed step ends in
loss.item(), which synchronises. Prints the peer's JSON line with device fields added.
"""
import contextlib
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    device, tf32, rest = "cuda", False, []
    argv = sys.argv[1:]
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--device" and i + 1 < len(argv):
            device, i = argv[i + 1], i + 2
            continue
        if a.startswith("--device="):
            device = a.split("=", 1)[1]
        elif a == "--tf32":
            tf32 = True
        else:
            rest.append(a)
        i += 1
    import torch
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(json.dumps({"bench": "egnn", "impl": "torch-cuda", "error": "torch.cuda.is_available() is false",
                          "torch": torch.__version__}))
        raise SystemExit(2)
    if device != "cpu":
        if not hasattr(torch, "set_default_device"):
            print(json.dumps({"bench": "egnn", "impl": "torch-cuda", "error": "torch %s lacks set_default_device (needs 2.0)"
                              % torch.__version__}))
            raise SystemExit(2)
        torch.set_default_device(device)
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    import torch_egnn
    sys.argv = [sys.argv[0]] + rest
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        torch_egnn.main()
    for line in out.getvalue().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            print(line)
            continue
        rec["impl"] = "torch-" + device.split(":")[0]
        rec["device"] = device
        rec["tf32"] = tf32
        if device.startswith("cuda"):
            rec["gpu"] = torch.cuda.get_device_name()
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
