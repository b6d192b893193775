"""Serve any model class with PyPI label-studio-ml 1.0.9's own server (its Flask app), unchanged.

python -m tests.ml.serve_legacy PORT MODEL_DIR module:Class
"""

from __future__ import annotations

import importlib
import sys

from label_studio_ml.api import init_app


def main() -> None:
    port, model_dir, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    module, _, name = target.partition(":")
    app = init_app(getattr(importlib.import_module(module), name), model_dir=model_dir)
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
