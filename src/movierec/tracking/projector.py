"""Movie embeddings for TensorBoard's embedding projector, written as TSV (no TensorFlow checkpoint).

The run folder gets `embeddings.tsv` (one vector per line), `metadata.tsv` (title, genres,
popularity per line, with a header) and `projector_config.pbtxt` pointing at both. The
projector lists a folder only if it also holds an event file; the compare job writes one
there (HParams and test scalars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

from movierec._io import atomic_path, write_text_atomic

__all__ = ["write_projector", "PROJECTOR_CONFIG"]

PROJECTOR_CONFIG = "projector_config.pbtxt"  # the file name the projector plugin looks for


def write_projector(
    run_dir: Path, vectors: np.ndarray, items: pd.DataFrame, popularity: np.ndarray, name: str = "movie_embedding"
) -> None:
    """Saves item embeddings with titles, genres and popularity for the embedding projector.

    Args:
        run_dir: The model's run folder.
        vectors: `[n_items, dim]` movie embeddings, rows aligned with `items`.
        items: Canonical items table in vocabulary order (`title`, `genres`).
        popularity: `[n_items]` training interaction counts.
        name: Tensor name shown in the projector's menu.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = pd.DataFrame(
        {
            "title": items["title"].astype(str).str.replace("\t", " ").replace("", "(untitled)"),
            "genres": items["genres"].astype(str).replace("", "(none)"),
            "popularity": np.asarray(popularity).astype(int),
        }
    )
    with atomic_path(run_dir / "metadata.tsv") as tmp:
        meta.to_csv(tmp, sep="\t", index=False)
    with atomic_path(run_dir / "embeddings.tsv") as tmp:
        np.savetxt(tmp, np.asarray(vectors, dtype=np.float32), delimiter="\t", fmt="%.6g")
    config = ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = name
    embedding.tensor_path = "embeddings.tsv"
    embedding.metadata_path = "metadata.tsv"
    write_text_atomic(run_dir / PROJECTOR_CONFIG, text_format.MessageToString(config))
