"""The table of what an image must be: ``[tool.image-checks]``, one pydantic model.

The table lives in a ``pyproject.toml`` or a standalone TOML file (``--image-table``). Keys are
written with dashes; an unknown key, a wrong type or a missing required key fails the session
with one line naming each. The top level holds what every image is held to; each section
switches on a group of checks and, when absent, its checks are listed as "not configured":

- ``[tool.image-checks.http]``: the image serves HTTP (health path, port binding, start-up);
- ``[tool.image-checks.docs]``: it serves an OpenAPI document and its browser page;
- ``[tool.image-checks.python]``: it runs a Python application (interpreter, venv, bytecode,
  SBOM of its distributions, licences);
- ``[tool.image-checks.build]``: it is built from a build context the suite can read and
  rebuild (``--build-context`` or ``context`` here);
- ``[tool.image-checks.deployment]``: Kubernetes manifests and a compose file deploy it.

The environment variables the harness reads are fields of :class:`Environment`, part of the
same model (``Table.environment``); ``docs/reference.md`` of the package lists every key.
"""

from __future__ import annotations

import fnmatch
import signal
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SCHEMA_VERSION = 1
Section = Literal["http", "docs", "python", "build", "deployment"]
SECTIONS: tuple[Section, ...] = ("http", "docs", "python", "build", "deployment")
NonEmpty = Annotated[tuple[str, ...], Field(min_length=1)]  # a check over it checks something


def _dashed(name: str) -> str:
    return name.replace("_", "-")


class _Table(BaseModel):
    """Keys are written with dashes; unknown keys are errors; values never change."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=_dashed, populate_by_name=True
    )


class Environment(BaseSettings):
    """What the harness reads from the environment; command-line options take precedence."""

    model_config = SettingsConfigDict(env_prefix="IMAGE_CHECKS_", frozen=True, extra="ignore")

    image: str | None = None  # IMAGE_CHECKS_IMAGE: the image under test (as --image)
    table: Path | None = None  # IMAGE_CHECKS_TABLE: the table's file (as --image-table)
    build_context: Path | None = None  # IMAGE_CHECKS_BUILD_CONTEXT (as --build-context)
    dockerfile: Path | None = None  # IMAGE_CHECKS_DOCKERFILE (as --dockerfile)
    base: str | None = None  # IMAGE_CHECKS_BASE: the base of an image that does not label it
    reports: Path = Path("reports")  # IMAGE_CHECKS_REPORTS: facts, SBOM and screenshots
    allow_no_engine: bool = False  # IMAGE_CHECKS_ALLOW_NO_ENGINE=1: skip without an engine
    require_complete: bool = False  # IMAGE_CHECKS_REQUIRE_COMPLETE=1 (as --require-complete)
    release: Path | None = None  # IMAGE_CHECKS_RELEASE: the release record (as --release)
    release_index: Path | None = None  # IMAGE_CHECKS_RELEASE_INDEX (as --release-index)
    ci: bool = Field(False, validation_alias=AliasChoices("CI"))  # CI: never skip
    docker: str | None = Field(None, validation_alias=AliasChoices("DOCKER"))  # a BuildKit CLI
    cosign: str | None = Field(None, validation_alias=AliasChoices("COSIGN"))  # cosign 2
    chromium: Path = Field(
        Path("/usr/bin/chromium"), validation_alias=AliasChoices("CHROMIUM_BINARY")
    )
    chromedriver: Path = Field(
        Path("/usr/bin/chromedriver"), validation_alias=AliasChoices("CHROMEDRIVER")
    )


class Base(_Table):
    """A runtime base the image may be built on, named by the table, with its size budget."""

    name: str  # the table's own name for it, used in messages and the report
    match: str  # glob on the image's org.opencontainers.image.base.name label
    max_image_mb: float  # uncompressed size budget of an image on this base
    platform: str | None = None  # os/arch this budget is for (linux/arm64); None: any platform


class Emulation(_Table):
    """How time and memory budgets scale when the image runs under emulation.

    Under emulation (the image's platform is not the engine's: QEMU runs it) time and memory
    measure QEMU as much as the image. Sizes, layers, files and metadata are the artefact's and
    never scale.
    """

    time_factor: float = Field(1.0, ge=1)  # start-up, stop, HEALTHCHECK timeout budgets
    memory_factor: float = Field(1.0, ge=1)  # memory budgets (QEMU's translation cache counts)


class Http(_Table):
    """The image serves HTTP on ``port`` (the top level's)."""

    health_path: str = "/health"  # answers 200 once the service is up
    health_body: dict[str, object] | None = None  # the JSON it answers, when it must be exact
    startup_budget_s: float = 10  # docker start -> first 200 on health-path
    memory_limit: str = "256m"  # the container must serve within this limit


class Docs(_Table):
    """The image serves an OpenAPI document and a Swagger UI page rendering it."""

    path: str = "/docs"  # the Swagger UI page
    openapi_path: str = "/openapi.json"  # the OpenAPI document the page renders


class Python(_Table):
    """The image runs a Python application from a virtual environment."""

    version: str  # the interpreter the image must run, "3.13"
    venv: str = ".venv"  # the venv, relative to workdir (or absolute)
    import_check: str  # a module the runtime user must be able to import
    code_paths: NonEmpty  # the application's own packages, relative to workdir
    lock: str = "uv.lock"  # the lock file in the build context (checks with a build context)
    allowed_licences: frozenset[str]  # SPDX ids a distribution may carry
    # Globs (relative to site-packages) of installed files the build changes on purpose, such
    # as shared objects it strips: they must exist, their RECORD hash is not compared.
    changed_after_install: tuple[str, ...] = ()


class Build(_Table):
    """How the image is built from its build context, and what that context may hold."""

    context: str | None = None  # the build context, relative to the table's folder
    dockerfile: str = "Dockerfile"  # relative to the context
    # The build command ({tag}, {context}, {dockerfile} are filled in; NO_CACHE=1 in its
    # environment asks for a build without cache). Default: docker build with BuildKit.
    command: tuple[str, ...] | None = None
    hadolint_config: str | None = None  # relative to the context
    context_allowed: frozenset[str]  # top-level entries the context may hold
    context_required: NonEmpty  # paths the context must hold
    context_excluded: NonEmpty  # globs no path component of the context may match
    edit: str | None = None  # a file of the context whose edit must rebuild one layer only
    cached_step: str | None = None  # text of the step that edit must leave cached ("uv sync")
    # The file the build passes as a secret: the first of these that exists ($VARS expanded).
    secret_file: tuple[str, ...] = ()


class Deployment(_Table):
    """Where the files that deploy the image are, relative to the table's folder."""

    manifests: str = "deployment/k8s"  # Kubernetes YAML: one Deployment, one ConfigMap, ...
    compose: str = "compose.yaml"  # a compose file, one service of which runs the image
    compose_service: str = "app"  # that service


class Table(_Table):
    """What the image under test must be; every key is documented in the package's reference."""

    schema_version: Literal[1]  # the version of this table's layout
    user: int  # the numeric UID the image runs as
    workdir: str  # the WORKDIR it sets
    port: int | None = None  # the one port it EXPOSEs (None: it exposes none)
    command: tuple[str, ...]  # ENTRYPOINT + CMD, exec form
    healthcheck_command: tuple[str, ...] | None = None  # HEALTHCHECK CMD, exec form
    # HEALTHCHECK's timing, as the image must set it (None: only required to be set, > 0).
    healthcheck_interval_s: float | None = None  # --interval
    healthcheck_timeout_s: float | None = None  # --timeout
    healthcheck_start_period_s: float | None = None  # --start-period
    healthcheck_retries: int | None = None  # --retries
    stop_signal: str = "SIGTERM"  # STOPSIGNAL (what `docker stop` sends; SIGTERM when unset)
    version: str | None = None  # org.opencontainers.image.version
    license: str | None = None  # org.opencontainers.image.licenses
    max_image_mb: float  # size budget on a base the bases list does not name
    bases: tuple[Base, ...] = ()
    emulation: Emulation = Field(default_factory=Emulation)
    max_added_mb: float  # bytes the build adds on top of its base
    max_added_layers: int  # layers the build adds on top of its base
    max_wasted_mb: float = 1.0  # bytes overwritten or deleted by later layers
    stop_budget_s: float = 10  # `docker stop` -> exit code 0
    required_paths: NonEmpty  # must be in the image, relative to workdir
    workdir_allowed: frozenset[str]  # the only top-level entries of workdir
    image_excluded: NonEmpty  # globs no path of the image may match
    image_excluded_allowed: tuple[str, ...] = ()  # paths that may match them anyway
    forbidden_tools: NonEmpty  # programs that must not be in the image
    http: Http | None = None
    docs: Docs | None = None
    python: Python | None = None
    build: Build | None = None
    deployment: Deployment | None = None
    folder: Path = Path()  # the table file's folder (set by load_table, not by the file)
    environment: Environment = Field(default_factory=Environment, exclude=True)

    @field_validator("stop_signal")
    @classmethod
    def _a_signal(cls, name: str) -> str:
        if name not in signal.Signals.__members__:
            raise ValueError(f"{name!r} is not a signal name (SIGTERM, SIGINT, SIGQUIT, ...)")
        return name

    def configured(self, section: Section) -> bool:
        """Whether ``section`` is configured (``build``: a build context is known)."""
        if section == "build":
            return self.build is not None and self.build.context is not None
        return getattr(self, section) is not None

    def in_workdir(self, path: str) -> str:
        """``path`` inside the image, without its leading slash (relative ones under workdir)."""
        if path.startswith("/"):
            return path.strip("/")
        return f"{(self.workdir or '/').strip('/')}/{path}".strip("/")

    def venv_path(self) -> str:
        """The venv inside the image, without its leading slash."""
        assert self.python is not None, "needs [tool.image-checks.python]"
        return self.in_workdir(self.python.venv)

    def lock_path(self) -> Path:
        """The lock file in the build context (needs ``python`` and ``configured('build')``)."""
        assert self.python is not None, "needs [tool.image-checks.python]"
        return self.context_path() / self.python.lock

    def base_named(self, base_name: str, platform: str | None = None) -> Base | None:
        """The first of ``bases`` whose ``match`` fits the base image's name.

        One written for the image's ``platform`` comes before one for any platform.
        """
        fits = [b for b in self.bases if fnmatch.fnmatch(base_name, b.match)]
        own = [b for b in fits if b.platform is not None and b.platform == platform]
        return next(iter(own or [b for b in fits if b.platform is None]), None)

    def context_path(self) -> Path:
        """The build context's folder (``configured('build')`` must hold)."""
        assert self.build is not None, "no build section"
        assert self.build.context is not None, "no build context"
        return (self.folder / self.build.context).resolve()


class TableError(Exception):
    """The table is missing, unreadable, misspelt or of the wrong type."""


def load_table(
    path: Path,
    *,
    build_context: Path | None = None,
    dockerfile: Path | None = None,
    environment: Environment | None = None,
) -> Table:
    """Reads and validates ``[tool.image-checks]`` of ``path``.

    ``build_context`` and ``dockerfile`` (the command-line options) take the place of the
    table's ``build.context`` and ``build.dockerfile``.

    Raises:
        TableError: naming the file and every key that is unknown, missing or mistyped.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TableError(f"{path}: cannot read the table ({exc})") from exc
    table = document.get("tool", {}).get("image-checks")
    if not isinstance(table, dict):
        raise TableError(f"{path}: no [tool.image-checks] table")
    if set(table) & {"folder", "environment"}:
        raise TableError(f"{path} [tool.image-checks]: folder and environment are not keys")
    if build_context is not None or dockerfile is not None:
        build = dict(table.get("build", {}))
        if build_context is not None:
            build["context"] = str(build_context.resolve())
        if dockerfile is not None:
            build["dockerfile"] = str(dockerfile)
        table = {**table, "build": build}
    try:
        return Table.model_validate(
            {
                **table,
                "folder": path.resolve().parent,
                "environment": environment or Environment(),
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise TableError(f"{path} [tool.image-checks]: {problems}") from None
