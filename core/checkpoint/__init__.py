"""Checkpoints: the one door for atomic writes, checksummed JSON and tensor files, module
checkpoint metadata, and rebuilding what a checkpoint names.

A module checkpoint is a directory of a checksummed ``rlmodule.json`` and tensor files
written by a registered checkpoint format (see :func:`save_module`). The same pieces serve
any other checkpoint (a trainer's whole-algorithm checkpoint, recorded episodes):

* :func:`atomic_directory` -- ``with atomic_directory(path, marker_file="state.json") as tmp:``
  write into ``tmp``; on success it is fsynced and swapped in for ``path`` atomically;
  :func:`atomic_write_file` does the same for one file.
* :func:`write_json_file` / :func:`read_json_file` -- a JSON object with a checksum of its
  contents, read back with limits on size and depth; :func:`read_versioned_json` checks its
  ``format`` and ``version`` first.
* :func:`write_tensor_file` / :func:`read_tensor_file` -- one flat ``{name: tensor}`` file in
  a registered format, described by a JSON entry that carries its checksum; reading verifies
  the checksum before parsing.
* :func:`provenance`, :func:`resolve_class`, :func:`pins_of` -- how a checkpoint names a
  registered class, and how such a name becomes a class again without importing anything
  the file names.
* :func:`structure` -- the one schema check: a parsed JSON value against the attrs class
  of its file kind (:class:`ModuleMetadata`, :class:`TensorEntry`, :class:`ClassRef`,
  :class:`ListedFile`, or a
  caller's own class built from :data:`Count`, :data:`Finite`, :data:`FileName`,
  :data:`JSONObject` and :func:`requires`), as one error naming the file, the field path,
  what arrived and what was expected; :class:`TensorSpec` / :func:`check_tensors` and
  :func:`space_problem` do the same for arrays.

Importing this package is cheap: torch and gymnasium are imported when tensors or spaces
are first read or written.

Example::

    path = module.save_to_path("ckpt")               # safetensors; format="torch" also works
    same = RLModule.from_checkpoint("ckpt")           # class resolved by registered name
"""

from __future__ import annotations

from ._atomic import atomic_directory, atomic_write_file, recover_interrupted_commit
from ._build import (
    build_from_node,
    check_action_dists,
    module_fields,
    node_spaces,
    pins_of,
    resolve_class,
    space_mismatch,
)
from ._formats import CheckpointFormat, ExportFormat, resolve_format
from ._json_file import (
    CHECKSUM_KEY,
    MAX_DEPTH,
    MAX_JSON_BYTES,
    read_json_file,
    read_versioned_json,
    signed_json,
    verify_checksum,
    write_json_file,
)
from ._metadata import (
    CHECKPOINT_FORMAT_VERSION,
    METADATA_FILE,
    dist_record,
    module_metadata,
    provenance,
    read_metadata,
)
from ._metadata_schema import (
    ClassRef,
    FormatRef,
    ListedFile,
    ModuleMetadata,
    ModuleNode,
    TensorEntry,
)
from ._module import (
    DEFAULT_FORMAT,
    check_build_size,
    load_module,
    restore_module,
    save_module,
    stored_elements,
)
from ._schema import (
    Count,
    FileName,
    Finite,
    JSONObject,
    SchemaMismatch,
    TensorSpec,
    check_tensors,
    register_hook,
    requires,
    space_problem,
    structure,
    structure_value,
)
from ._tensor_file import (
    CHECKSUM_ALGORITHM,
    contained_file,
    file_checksum,
    lies_within,
    links_allowed_into,
    read_tensor_file,
    verify_tensor_file,
    write_tensor_file,
)

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CHECKSUM_ALGORITHM",
    "CHECKSUM_KEY",
    "DEFAULT_FORMAT",
    "MAX_DEPTH",
    "MAX_JSON_BYTES",
    "METADATA_FILE",
    "CheckpointFormat",
    "ClassRef",
    "Count",
    "ExportFormat",
    "FileName",
    "Finite",
    "FormatRef",
    "JSONObject",
    "ListedFile",
    "ModuleMetadata",
    "ModuleNode",
    "SchemaMismatch",
    "TensorEntry",
    "TensorSpec",
    "atomic_directory",
    "atomic_write_file",
    "build_from_node",
    "check_action_dists",
    "check_build_size",
    "check_tensors",
    "contained_file",
    "dist_record",
    "file_checksum",
    "lies_within",
    "links_allowed_into",
    "load_module",
    "module_fields",
    "module_metadata",
    "node_spaces",
    "pins_of",
    "provenance",
    "read_json_file",
    "read_metadata",
    "read_tensor_file",
    "read_versioned_json",
    "recover_interrupted_commit",
    "register_hook",
    "requires",
    "resolve_class",
    "resolve_format",
    "restore_module",
    "save_module",
    "signed_json",
    "space_mismatch",
    "space_problem",
    "stored_elements",
    "structure",
    "structure_value",
    "verify_checksum",
    "verify_tensor_file",
    "write_json_file",
    "write_tensor_file",
]
