"""Learned output shapes: what tools without an `outputSchema` return, learned from their results.

`infer` works out and merges the shape of plain values (never their values); `ShapeRegistry` keeps
one per (server, tool), fed by the bridge's `Hooks.observe` and kept in a store. See
docs/typed-results.md.
"""

from .infer import Shape, merge, shape_of, to_json_schema, valid_shape
from .registry import SHARED_NOTE, Learned, ShapeRegistry, shape_key

__all__ = [
    "SHARED_NOTE",
    "Learned", "Shape", "ShapeRegistry", "merge", "shape_key", "shape_of", "to_json_schema", "valid_shape"]
