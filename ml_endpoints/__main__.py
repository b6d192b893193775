"""`python -m ml_endpoints serve|train`: the container's two entry points (SageMaker runs the image with
`serve` for an endpoint and `train` for a training job) and the local way to start a model server."""

from __future__ import annotations

import argparse
import os
import sys


def serve(model: str, host: str, port: int, model_dir: str | None = None, log_level: str = "info") -> int:
    """Run the model server for `model` (a built-in name or `module:Class`) until interrupted."""
    import uvicorn

    if model_dir:
        os.environ["MODEL_DIR"] = model_dir
    from ml_endpoints.models import load_model_class
    from ml_endpoints.server import create_app

    app = create_app(load_model_class(model))
    print(
        f"model server for {model} on http://{host}:{port} (model dir: {os.environ.get('MODEL_DIR', '.')})",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
    return 0


def add_serve_arguments(parser: argparse.ArgumentParser, model_default: str | None = None) -> None:
    parser.add_argument(
        "model",
        nargs=None if model_default is None else "?",
        default=model_default,
        help="text_classifier, span_tagger, or module:Class",
    )
    parser.add_argument("--host", default=os.environ.get("LABELSTACK_ML_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LABELSTACK_ML_PORT", "9090")))
    parser.add_argument("--model-dir", default=None, help="artifacts and state (default: $MODEL_DIR or .)")
    parser.add_argument("--log-level", default="info")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml_endpoints", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(
        commands.add_parser("serve", help="run the model server"),
        model_default=os.environ.get("LABELSTACK_ML_MODEL", "text_classifier"),
    )
    commands.add_parser("train", help="train the text classifier in the /opt/ml layout")
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        from ml_endpoints.train import main as train

        return train(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return serve(args.model, args.host, args.port, args.model_dir, args.log_level)


if __name__ == "__main__":
    sys.exit(main())
