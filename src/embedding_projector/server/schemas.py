"""The HTTP contract: one pydantic model for every JSON body the API reads or answers.

The OpenAPI document built from these models is committed (``web/src/api/openapi.json``)
and the page's TypeScript types are generated from it, so the page and the server cannot
drift apart unnoticed (``scripts/api_contract.py``; docs/decisions.md). Request models
refuse unknown fields. The projection request and the method descriptions are built from
the methods' records (:data:`.compute.methods.METHODS`), where their parameters are
declared once.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, create_model

from embedding_projector.compute.analyses import AnalysisName
from embedding_projector.compute.methods import (
    DEFAULT_SEED,
    METHODS,
    Method,
    MethodName,
    ProjectionName,
)
from embedding_projector.compute.neighbour_sets import DEFAULT_K
from embedding_projector.compute.params import Param, params_of
from embedding_projector.compute.sample import DEFAULT_SAMPLE, SAMPLE_ABOVE
from embedding_projector.dataset.metadata import ColumnKind

FORBID = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """A JSON answer: every field is always sent (so the generated types need not guess)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


Dims = Literal[2, 3]
Pair = tuple[int, int]


# --- errors ---------------------------------------------------------------------------


class ErrorInfo(Answer):
    """What went wrong."""

    code: str = Field(description="Stable machine-readable code, e.g. `invalid_parameter`.")
    message: str = Field(description="One sentence naming the file or field and the problem.")
    detail: str | None = Field(None, description="Low-level context, when there is some.")


class ErrorBody(Answer):
    """The body of every 4xx and 5xx answer."""

    error: ErrorInfo


# --- the server and its data ------------------------------------------------------------


class Health(Answer):
    """The server answers."""

    status: Literal["ok"] = "ok"


class BelowNInfo(Answer):
    """An upper bound that depends on the number of points N."""

    offset: int
    divisor: int


class ParamInfo(Answer):
    """A method's parameter as the page offers it (:class:`.compute.params.Param`)."""

    default: int | float | str | None
    description: str
    low: float | None
    high: float | None
    low_inclusive: bool
    integer: bool
    step: float | None
    choices: list[str]
    auto: bool = Field(description='The string "auto" is accepted too.')
    below_n: BelowNInfo | None = Field(
        description="value < (N + offset) / divisor; a default above that is lowered to fit."
    )

    @classmethod
    def of(cls, spec: Param) -> ParamInfo:
        """The description of one parameter."""
        bound = None if spec.below_n is None else BelowNInfo(**vars(spec.below_n))
        return cls(
            default=spec.default,
            description=spec.doc,
            low=spec.low,
            high=spec.high,
            low_inclusive=spec.low_inclusive,
            integer=spec.integer,
            step=spec.step,
            choices=list(spec.choices),
            auto=spec.auto,
            below_n=bound,
        )


class MethodInfo(Answer):
    """A projection method: its parameters, defaults and ranges."""

    title: str
    min_samples: int
    params: dict[str, ParamInfo]

    @classmethod
    def of(cls, method: Method) -> MethodInfo:
        """The description of one method."""
        params = {name: ParamInfo.of(spec) for name, spec in params_of(method.params).items()}
        return cls(title=method.title, min_samples=method.min_samples, params=params)


class RunInfo(Answer):
    """A run (a folder with a projector config or a checkpoint)."""

    name: str
    warnings: list[str]
    embeddings: list[str] = Field(description="The ids of its embeddings.")


class ColumnInfo(Answer):
    """A metadata column."""

    name: str
    kind: ColumnKind
    distinct: int = Field(description="Number of distinct present values.")


class SpriteInfo(Answer):
    """The sprite atlas: its size, one thumbnail's size, and the grid of thumbnails."""

    image_size: Pair
    single_image_dim: Pair
    grid: Pair


class EmbeddingInfo(Answer):
    """An embedding of the workspace."""

    id: str
    run: str
    name: str
    tensor_name: str
    shape: Pair = Field(description="N points × D dimensions.")
    dtype: str = Field(description="As stored (vectors are served as float32).")
    columns: list[ColumnInfo]
    has_sprite: bool
    sprite: SpriteInfo | None
    bookmarks: int = Field(description="How many saved states it has.")
    steps: int = Field(description="How many steps (checkpoints of a training run) it has.")
    warnings: list[str]


#: The ``?step=`` of a route that can read one step of an embedding instead of its own vectors.
StepQuery = Annotated[
    int | None,
    Query(description="A step's index (`GET /api/embeddings/{id}/steps`); none: its own vectors."),
]


class StepInfo(Answer):
    """One step of an embedding, as far as its header tells."""

    index: int = Field(description="Position in the list, 0 = oldest; the `{index}` of routes.")
    step: int | None = Field(description="Training step or checkpoint number, if known.")
    label: str = Field(description="The checkpoint's name (`ckpt-3`) or tensor's (`words:00100`).")
    file: str = Field(description="The checkpoint prefix or tensor file, in the opened folder.")
    shape: Pair | None = Field(description="`[N, D]`; null when unavailable.")
    dtype: str | None = Field(description="The element type as stored; null when unavailable.")
    default: bool = Field(description="The embedding's own vectors (the latest step).")
    available: bool = Field(description="Its header reads (and its vectors, once read, too).")
    alignable: bool = Field(description="Same shape as the default step: the same points.")
    message: str | None = Field(description="Why it is unavailable or not alignable.")


class StepList(Answer):
    """The steps of one embedding, oldest first."""

    embedding: str = Field(description="The embedding's id.")
    default: int = Field(description="Index of the default step.")
    steps: list[StepInfo]


class BookmarksSaved(Answer):
    """Where the bookmarks were saved."""

    saved: int
    path: str


class SelectionSaved(Answer):
    """The selection was recorded."""

    selected: int


# --- neighbours -----------------------------------------------------------------------

Metric = Literal["cosine", "euclidean"]


class NeighborQuery(BaseModel):
    """A neighbour query by raw vector or by a set of rows (their centroid)."""

    model_config = FORBID

    vector: list[float] | None = Field(None, description="A raw query vector of D numbers.")
    indices: list[int] | None = Field(None, description="Rows whose centroid is the query.")
    k: int = 100
    metric: Metric = "cosine"
    spherize: bool = False


class Neighbors(Answer):
    """The nearest rows, nearest first, and their distances."""

    indices: list[int]
    distances: list[float]


# --- projections ----------------------------------------------------------------------

JobState = Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]


class FaithfulnessSummary(Answer):
    """How faithful a layout is overall (``compute.analyses``)."""

    k: int = Field(description="Neighbours compared per point.")
    mean: float = Field(description="The mean share of each point's k neighbours kept, 0..1.")
    below: float = Field(description="The share of points that keep fewer than 30 %.")


class ClustersSummary(Answer):
    """The clusters found (``compute.analyses``); cluster c is ``names[c]``."""

    names: list[str]
    sizes: list[int] = Field(description="Points in each cluster (largest first).")
    noise: float = Field(description="The share of points in no cluster (label -1).")
    min_cluster_size: int
    sample_size: int = Field(description="Points HDBSCAN saw (the rest: nearest one's label).")


class JobStatus(Answer):
    """A job: a projection, a reading of a layout, a timeline, or a comparison's overlap
    (``compute.jobstate.Job.status``)."""

    id: str
    method: MethodName | AnalysisName | Literal["drift", "overlap"] = Field(
        description="`drift`: a timeline job of per-point drift, not a layout; `overlap`: "
        "a comparison's per-point overlap of k-NN sets (`POST /api/compare`)."
    )
    dims: int = Field(
        description="Columns of the layout made (a projection) or read (an overlap: 1)."
    )
    state: JobState
    paused: bool
    progress: float = Field(description="0..1")
    iteration: int | None
    message: str | None
    error: str | None
    cached: bool = Field(description="Done at once: an identical request was computed before.")
    has_layout: bool
    elapsed: float | None = Field(description="Seconds since it started running.")
    components: list[int] | None = Field(None, description="PCA: the components shown.")
    explained_variance_ratio: list[float] | None = Field(
        None, description="PCA: the share of the variance of each of the first 10 components."
    )
    steps: int | None = Field(None, description="Timelines: how many steps it has.")
    steps_done: list[int] | None = Field(
        None, description="Timelines: the steps (0 = its first) whose result is ready."
    )
    summary: FaithfulnessSummary | ClustersSummary | None = Field(
        None, description="A finished faithfulness or clusters job: what it found."
    )


class StatusFrame(JobStatus):
    """WebSocket text frame: the job's status changed."""

    type: Literal["status"] = "status"


class LayoutFrame(Answer):
    """WebSocket text frame announcing the binary frame of float32 coordinates after it."""

    type: Literal["layout"] = "layout"
    iteration: int | None
    shape: Pair
    sample_of: int | None = Field(
        default=None,
        description="The layout has this many rows, more than `lod_threshold`: the float32 "
        "frame holds a sample of them, and an int32 frame of the sampled rows follows it.",
    )
    step: int | None = Field(
        None, description="Timelines: the step (0 = its first) these coordinates are of."
    )


class LeftOut(Answer):
    """A step of the embedding that a timeline leaves out, and why."""

    index: int = Field(description="The step's index in `GET /api/embeddings/{id}/steps`.")
    label: str
    message: str


class TimelineStarted(Answer):
    """A timeline job over the steps that can be aligned, and the steps left out."""

    job: JobStatus
    steps: list[int] = Field(
        description="Index (as in `GET /api/embeddings/{id}/steps`) of each step of the job, "
        "oldest first: step `s` of the job is embedding step `steps[s]`."
    )
    left_out: list[LeftOut]


class DriftRequest(BaseModel):
    """Per-point drift over the steps: neighbours kept from the previous step and the last."""

    model_config = FORBID

    k: int = Field(10, ge=1, description="Nearest neighbours per point (in the original space).")
    metric: Metric = "cosine"


class ErrorFrame(Answer):
    """WebSocket text frame sent instead of any status when the job is unknown."""

    type: Literal["error"] = "error"
    message: str


#: Models of the job stream's frames: not routes, added to the OpenAPI document by hand.
STREAM_FRAMES = (StatusFrame, LayoutFrame, ErrorFrame)


def _param_field(spec: Param) -> Any:
    """A request field: absent means the default (lowered to fit N where N bounds it)."""
    schema: dict[str, Any] = {} if spec.default is None else {"default": spec.default}
    if spec.low is not None:
        schema["minimum" if spec.low_inclusive else "exclusiveMinimum"] = spec.low
    if spec.high is not None:
        schema["maximum"] = spec.high
    description = spec.doc
    if spec.below_n is not None:
        description += (
            f" Must be < {spec.below_n.formula()}; when absent, the default is lowered to fit."
        )
    return Field(None, description=description, json_schema_extra=schema)


def _request_model(method: Method) -> type[BaseModel]:
    hints = get_type_hints(method.params)
    fields: dict[str, Any] = {
        name: (hints[name], _param_field(spec)) for name, spec in params_of(method.params).items()
    }
    if method.name == "tsne":
        fields["supervise_column"] = (
            str | None,
            Field(None, description="A metadata column whose values label the points."),
        )
    if method.name != "pca":  # read by compute.spec before the method's own parameters
        fields["sample"] = (
            int | None,
            Field(
                None,
                ge=1,
                description="Fit on this many points drawn by the seed and place the others "
                "by transform; null: all up to `sample.above` points, else `sample.size`.",
            ),
        )
    name = method.params.__name__.removesuffix("Params")
    params = create_model(f"{name}Params", __config__=FORBID, **fields)
    return create_model(
        f"{name}Request",
        __config__=FORBID,
        __doc__=f"A {method.title} projection.",
        method=(Literal[method.name], ...),  # type: ignore[arg-type]
        dims=(Dims, 2),
        spherize=(bool, False),
        seed=(int | None, Field(DEFAULT_SEED, description="null: a random start.")),
        params=(params, Field(default_factory=params)),
    )


# Models built from the registry, one field or member per method. mypy sees them as
# BaseModel: their fields exist only at run time.
if TYPE_CHECKING:
    Methods = BaseModel
    ProjectionRequest = BaseModel
else:
    Methods = create_model(
        "Methods",
        __base__=Answer,
        __doc__="Every projection method, by name.",
        **{name: (MethodInfo, ...) for name in METHODS},
    )
    ProjectionRequest = Annotated[
        functools.reduce(operator.or_, (_request_model(m) for m in METHODS.values())),
        Field(discriminator="method"),
    ]


class SampleInfo(Answer):
    """When t-SNE and UMAP are fitted on a sample, every other point placed by ``transform``."""

    above: int = Field(
        description="Above this many points, a request without `sample` is fitted on a sample."
    )
    size: int = Field(description="The points of that sample, drawn at random by the seed.")


class ServerConfig(Answer):
    """What the page needs to start."""

    version: str
    projection: ProjectionName | None = Field(
        description="The projection to show first (`--projection`), or null."
    )
    seed: int = Field(description="The seed of a projection request that names none.")
    lod_threshold: int = Field(
        description="Layouts of more points reach the page as tiles (`--lod-threshold`)."
    )
    methods: Methods
    sample: SampleInfo
    cluster: bool = Field(
        description="Projections run on a Dask cluster, where a job can be stopped but not "
        "paused or perturbed."
    )

    @classmethod
    def of(
        cls, version: str, projection: str | None, lod_threshold: int, *, cluster: bool = False
    ) -> ServerConfig:
        """The configuration of a server (``cluster``: it computes on a Dask cluster)."""
        methods = {name: MethodInfo.of(method) for name, method in METHODS.items()}
        sample = SampleInfo(above=SAMPLE_ABOVE, size=DEFAULT_SAMPLE)
        return cls.model_validate(
            {"version": version, "projection": projection, "seed": DEFAULT_SEED,
             "lod_threshold": lod_threshold, "methods": methods, "sample": sample,
             "cluster": cluster}
        )  # fmt: skip


class AxisQuery(BaseModel):
    """The points an axis end is made of: a search of a metadata column."""

    model_config = FORBID

    text: str
    column: str | None = None
    regex: bool = False


class CustomRequest(BaseModel):
    """TensorBoard's Custom projection: x = right - left, y = up - down."""

    model_config = FORBID

    left: AxisQuery
    right: AxisQuery
    up: AxisQuery
    down: AxisQuery
    spherize: bool = False


class FaithfulnessRequest(BaseModel):
    """The faithfulness of a finished layout: the projection job ``job``, or ``custom``."""

    model_config = FORBID

    job: str | None = Field(None, description="A finished projection job of this embedding.")
    custom: CustomRequest | None = Field(None, description="Or a custom projection.")
    k: int = Field(DEFAULT_K, ge=1, description="Neighbours compared per point.")
    metric: Metric = "cosine"
    spherize: bool = Field(False, description="Neighbours in the spherized original space.")


class ClustersRequest(BaseModel):
    """Clusters of a finished layout (``job`` or ``custom``), or of the vectors' PCA (neither)."""

    model_config = FORBID

    job: str | None = Field(None, description="A finished projection job of this embedding.")
    custom: CustomRequest | None = Field(None, description="Or a custom projection.")
    min_cluster_size: int | None = Field(
        None, ge=2, description="Fewest points in a cluster; default: √N, at least 10."
    )
    name_column: str | None = Field(
        None, description="A metadata column to name the clusters by (text or categorical)."
    )


# --- layouts and their tiles (level of detail) -----------------------------------------


class LayoutInfo(Answer):
    """A layout the server holds for the page: a projection's coordinates, by id."""

    id: str = Field(description="Names these coordinates and their tiles, for good.")
    n: int = Field(description="Rows (points), finite or not.")
    dims: Dims
    low: list[float] = Field(description="The smallest finite coordinate on each axis.")
    high: list[float] = Field(description="The largest finite coordinate on each axis.")
    tiled: bool = Field(
        description="More rows than `lod_threshold`: the page loads tiles "
        "(`GET /api/layouts/{id}/tiles`), not every coordinate."
    )


class TileNodes(Answer):
    """The tiles of a layout, one entry per tile in each list, parents before children."""

    depth: list[int] = Field(description="0 for the root tile.")
    cell: list[list[int]] = Field(description="The cell's integer coordinates at its depth.")
    parent: list[int] = Field(description="Index of the parent tile; -1 for the root.")
    count: list[int] = Field(description="Rows in the tile.")
    total: list[int] = Field(description="Rows in the tile and every tile below it.")
    level_counts: list[list[int]] = Field(
        description="How many of the tile's rows (the first ones) belong to each level."
    )


class TileIndex(Answer):
    """How a layout is cut into tiles (a quadtree in 2-D, an octree in 3-D).

    The root cell is the square (cube) of edge `size` from `low`; the cell of a tile at
    depth `d` and integer coordinates `c` spans `low + c * size / 2**d` and one such
    step further. Level `l` is a density-preserving sample of `levels[l]` rows (the last
    level is every row); in every tile, its rows are the first `level_counts[l]` ones.
    """

    layout: str
    dims: Dims
    low: list[float]
    size: float
    capacity: int = Field(description="Rows a tile holds before its cell is split.")
    levels: list[int]
    outliers: int = Field(description="Rows of sparse places kept in level 0 (the root tile).")
    tiles: TileNodes


class SelectRequest(BaseModel):
    """A rectangle or lasso drawn on the plot, and the camera it was drawn with."""

    model_config = FORBID

    matrix: list[float] = Field(
        min_length=16,
        max_length=16,
        description="Layout coordinates to CSS pixels: a 4 x 4 matrix, column-major.",
    )
    rectangle: list[float] | None = Field(
        None, min_length=4, max_length=4, description="`[x0, y0, x1, y1]`: opposite corners."
    )
    polygon: list[float] | None = Field(
        None, max_length=20_000, description="`[x0, y0, x1, y1, ...]`: the lasso's vertices."
    )


# --- comparisons ----------------------------------------------------------------------


class CompareSide(BaseModel):
    """One of the two embeddings compared: an embedding, or one of its steps."""

    model_config = FORBID

    embedding: str = Field(description="An embedding id (`GET /api/embeddings`).")
    step: int | None = Field(
        None, description="A step's index (`GET /api/embeddings/{id}/steps`); none: its own."
    )


class CompareSides(BaseModel):
    """Two embeddings of the same items."""

    model_config = FORBID

    a: CompareSide
    b: CompareSide


class CompareRequest(CompareSides):
    """Two embeddings of the same items, and the neighbourhoods to compare."""

    k: int = Field(10, description="Neighbours per point, in both spaces.")
    metric: Metric = "cosine"


class Comparison(Answer):
    """A comparison started: how its rows were paired, and the job computing the overlap."""

    a: CompareSide
    b: CompareSide
    rows: int = Field(description="Points compared (the rows of a).")
    aligned_by: str | None = Field(
        description="The metadata column of unique labels the rows were paired by; "
        "none: row i of a is row i of b."
    )
    job: JobStatus


# --- OpenAPI entries of the routes that do not answer JSON --------------------------------

#: Every route may answer one of these.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request cannot be served (see `code`)."},
    "5XX": {"model": ErrorBody, "description": "A bug or a full disk (see the server log)."},
}


def binary_responses(
    media_type: str, description: str, *, shape: bool = False, ranges: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route answering bytes of ``media_type``."""
    headers: dict[str, Any] = {}
    if shape:
        headers["X-Shape"] = {
            "description": "The array's shape, comma-separated (e.g. `1000,2`).",
            "schema": {"type": "string"},
        }
        headers["X-Dtype"] = {"description": "`float32` or `int32`.", "schema": {"type": "string"}}
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    answer = {"description": description, "content": content, "headers": headers}
    responses: dict[int | str, dict[str, Any]] = {200: answer}
    if ranges:
        responses[206] = {**answer, "description": "The byte range asked for (`Range`)."}
    return responses


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its JSON body itself (to bound and parse it)."""
    return _body("application/json", schema, description)


def binary_body(media_type: str, description: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is bytes."""
    return _body(media_type, {"type": "string", "format": "binary"}, description)


def _body(media_type: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    content = {media_type: {"schema": schema}}
    return {"requestBody": {"required": True, "description": description, "content": content}}
