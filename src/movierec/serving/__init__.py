"""Serving: model directories (exported model + vocabulary + titles + seen movies).

The HTTP API lives in `movierec.serving.api` (`create_app`); it is not imported here so that
loading a model directory does not import FastAPI.
"""

from movierec.serving.model_dir import FORMAT, TrainedModel, load_model_dir, save_model_dir

__all__ = ["FORMAT", "TrainedModel", "load_model_dir", "save_model_dir"]
