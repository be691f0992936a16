"""Inference engines behind one ``predict``: PyTorch (optionally ``torch.compile``d) and onnxruntime."""

from relx.errors import RelxConfigError

ENGINES = ("torch", "torch_compile", "onnx", "onnx_int8")
TORCH_ENGINES = ("torch", "torch_compile")  # the PyTorch path (any device); the others run in onnxruntime on the CPU


def check_engine(engine: str) -> str:
    """``engine`` if it is one of ENGINES, else a RelxConfigError listing them."""
    if engine not in ENGINES:
        raise RelxConfigError(f"unknown engine {engine!r} (use {', '.join(ENGINES)})")
    return engine
