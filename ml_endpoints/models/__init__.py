"""Built-in models, one file each, and how a model is named on the command line."""

from __future__ import annotations

import importlib

BUILT_IN = {
    "text_classifier": "ml_endpoints.models.text_classifier:TextClassifier",
    "span_tagger": "ml_endpoints.models.span_tagger:SpanTagger",
}


def load_model_class(spec: str):
    """The model class a name stands for: a built-in name, or `package.module:ClassName`."""
    target = BUILT_IN.get(spec, spec)
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"unknown model {spec!r}: use one of {', '.join(BUILT_IN)} or module:Class")
    model = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(model):
        raise TypeError(f"{module_name} has no class {attribute!r}")
    return model
