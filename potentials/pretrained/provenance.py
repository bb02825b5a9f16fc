"""Add ``closest_pairs_A`` to a shipped potential trained before equiforce recorded it.

``python -m potentials.pretrained.provenance NAME DATA.extxyz`` checks that DATA is the
file the potential was trained on (the SHA-256 in its provenance), takes the training
split exactly as ``equiforce train`` did, and rewrites only the file's metadata
(atomically); the weights and the TorchScript code are unchanged.
"""
from __future__ import annotations

import argparse
import json

import torch

from ..files import atomic_path
from ..closest_pairs import closest_pairs
from .._metadata import METADATA_KEY
from ..train.data import data_hash, read_frames, split_indices
from . import pretrained_path

__all__ = ["record_closest_pairs"]


def record_closest_pairs(name: str, data_path: str, regenerated: bool = False) -> dict[str, float]:
    """Write the closest training pair distances into shipped potential ``name``.

    ``regenerated``: DATA was made again with the model card's command but is not bitwise
    the training file (e.g. GFN2-xTB labels differ in the last digits, so the MD frames
    drift apart); the floors are then those of an equivalent sample, and the provenance
    says so (``closest_pairs_source``).
    """
    path = pretrained_path(name)
    extra = {METADATA_KEY: ""}
    module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    metadata = json.loads(extra[METADATA_KEY])
    provenance = metadata["provenance"]
    frames = read_frames(data_path, species=metadata["species"])
    same = data_hash(frames) == provenance["data_sha256"]
    if not same and not regenerated:
        raise ValueError(f"{data_path} is not the training data of {name} (SHA-256 differs); "
                         "pass --regenerated if it was made again with the model card's command")
    provenance["closest_pairs_source"] = (
        "training split of the training data" if same else
        f"training split of data regenerated with the model card's command ({data_hash(frames)})")
    training = provenance["train_config"]
    train_idx, _, _ = split_indices(len(frames), training["data"]["split"],
                                    training["training"]["seed"])
    provenance["closest_pairs_A"] = closest_pairs((frames[i].atoms for i in train_idx),
                                                  metadata["cutoff"])
    with atomic_path(path) as tmp:
        torch.jit.save(module, str(tmp), _extra_files={METADATA_KEY: json.dumps(metadata)})
    return provenance["closest_pairs_A"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("data")
    parser.add_argument("--regenerated", action="store_true",
                        help="DATA was made again with the same command but differs bitwise")
    args = parser.parse_args()
    print(args.name, record_closest_pairs(args.name, args.data, args.regenerated))


if __name__ == "__main__":
    main()
