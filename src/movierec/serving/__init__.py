"""Serving: model directories (exported model + vocabulary + titles + seen movies) and the hot path.

The HTTP API lives in `movierec.serving.api` (`create_app`); it is not imported here so that
loading a model directory does not import FastAPI.
"""

from movierec.serving.engine import ServingEngine
from movierec.serving.model_dir import FORMAT, TrainedModel, check_model_out, load_model_dir, save_model_dir
from movierec.serving.specs import ModelSpec, model_specs

__all__ = [
    "FORMAT",
    "ModelSpec",
    "TrainedModel",
    "ServingEngine",
    "check_model_out",
    "load_model_dir",
    "model_specs",
    "save_model_dir",
]
