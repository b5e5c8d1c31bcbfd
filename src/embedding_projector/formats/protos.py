"""The protobuf messages of TensorBoard's projector, defined in code (no protoc step).

Field names, numbers, types and the ``proto3`` syntax match TensorBoard's
``tensorboard/plugins/projector/projector_config.proto`` and TensorFlow's
``checkpoint_state.proto``, so that ``text_format`` reads and writes exactly the
text those tools read and write. The descriptors live in a private pool: having
TensorBoard imported in the same process does not clash with them.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_Field = descriptor_pb2.FieldDescriptorProto

# (name, number, type, repeated, message type name or None)
_FieldSpec: TypeAlias = tuple[str, int, int, bool, str | None]

_PROJECTOR_MESSAGES: dict[str, list[_FieldSpec]] = {
    "SpriteMetadata": [
        ("image_path", 1, _Field.TYPE_STRING, False, None),
        # [width, height] of a single image in the sprite.
        ("single_image_dim", 2, _Field.TYPE_UINT32, True, None),
    ],
    "EmbeddingInfo": [
        ("tensor_name", 1, _Field.TYPE_STRING, False, None),
        ("metadata_path", 2, _Field.TYPE_STRING, False, None),
        ("bookmarks_path", 3, _Field.TYPE_STRING, False, None),
        # [N, D]; if missing, inferred from the checkpoint or the tensor file.
        ("tensor_shape", 4, _Field.TYPE_UINT32, True, None),
        ("sprite", 5, _Field.TYPE_MESSAGE, False, ".tensorboard.projector.SpriteMetadata"),
        # When set, the tensor comes from this file instead of a checkpoint.
        ("tensor_path", 6, _Field.TYPE_STRING, False, None),
    ],
    "ProjectorConfig": [
        ("model_checkpoint_path", 1, _Field.TYPE_STRING, False, None),
        ("embeddings", 2, _Field.TYPE_MESSAGE, True, ".tensorboard.projector.EmbeddingInfo"),
        ("model_checkpoint_dir", 3, _Field.TYPE_STRING, False, None),
    ],
}

_CHECKPOINT_MESSAGES: dict[str, list[_FieldSpec]] = {
    "CheckpointState": [
        ("model_checkpoint_path", 1, _Field.TYPE_STRING, False, None),
        ("all_model_checkpoint_paths", 2, _Field.TYPE_STRING, True, None),
        ("all_model_checkpoint_timestamps", 3, _Field.TYPE_DOUBLE, True, None),
        ("last_preserved_timestamp", 4, _Field.TYPE_DOUBLE, False, None),
    ],
}


def _file_proto(
    name: str, package: str, messages: dict[str, list[_FieldSpec]]
) -> descriptor_pb2.FileDescriptorProto:
    """A ``proto3`` file descriptor declaring ``messages`` in ``package``."""
    file_proto = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    for message_name, fields in messages.items():
        message = file_proto.message_type.add(name=message_name)
        for field_name, number, field_type, repeated, type_name in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                type=field_type,
                label=_Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL,
            )
            if type_name is not None:
                field.type_name = type_name
    return file_proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.AddSerializedFile(
    _file_proto(
        "tensorboard/plugins/projector/projector_config.proto",
        "tensorboard.projector",
        _PROJECTOR_MESSAGES,
    ).SerializeToString()
)
_POOL.AddSerializedFile(
    _file_proto(
        "tensorflow/python/training/checkpoint_state.proto", "tensorflow", _CHECKPOINT_MESSAGES
    ).SerializeToString()
)


def _message_class(full_name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


# The classes are created at run time from the descriptors above, so a type checker
# cannot know their fields. They are typed ``Any`` (and so are their instances, via the
# aliases below) rather than described by a hand-written stub that could drift from
# the descriptors.
SpriteMetadata: Any = _message_class("tensorboard.projector.SpriteMetadata")
EmbeddingInfo: Any = _message_class("tensorboard.projector.EmbeddingInfo")
ProjectorConfig: Any = _message_class("tensorboard.projector.ProjectorConfig")
CheckpointState: Any = _message_class("tensorflow.CheckpointState")

SpriteMetadataMessage: TypeAlias = Any
"""An instance of :data:`SpriteMetadata`."""
EmbeddingInfoMessage: TypeAlias = Any
"""An instance of :data:`EmbeddingInfo`."""
ProjectorConfigMessage: TypeAlias = Any
"""An instance of :data:`ProjectorConfig`."""
CheckpointStateMessage: TypeAlias = Any
"""An instance of :data:`CheckpointState`."""
