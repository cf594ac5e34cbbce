"""The model registry: numbered versions of trained recommenders, a ``live`` alias, rollback.

Layout under the registry root (``<model_dir>/registry``)::

    versions/<N>/artifact/      config.json + arrays.npz, as ``Recommender.save`` writes them
    versions/<N>/version.json   model, params, metrics, training window, artifact digest
    aliases.json                {"live": N, "previous": [older live versions, newest last]}

Versions rise (Gorse's worker pulls by rising version): a publisher claims ``N`` by creating
its folder, which the file system makes atomic, so a trainer process and the server's
learner can publish side by side. ``aliases.json`` is replaced atomically under a file lock.
The digest covers every artifact file; ``load`` refuses a version whose files do not match
it, so a corrupted or tampered artifact never reaches the server.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mercato.errors import Conflict, InvalidInput, NotFound
from mercato.recommend.base import Recommender

LIVE = "live"
MAX_ROLLBACK_DEPTH = 20


@dataclass(frozen=True)
class ModelVersion:
    version: int
    model: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    window: dict[str, Any]  # training window: first/last event time, number of interactions
    digest: str  # sha256 over the artifact's files, in name order
    created_at: str
    source: str = "train"  # "train" (full refit), "fine-tune" (partial_fit), "cli"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelRegistry:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "versions").mkdir(parents=True, exist_ok=True)

    # ---- publishing -------------------------------------------------------------------------

    def publish(
        self,
        model: Recommender,
        *,
        metrics: dict[str, Any] | None = None,
        window: dict[str, Any] | None = None,
        source: str = "train",
        promote: bool = False,
    ) -> ModelVersion:
        """Save ``model`` as the next version; with ``promote`` make it live too."""
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            model.save(staging / "artifact")
            digest = artifact_digest(staging / "artifact")
            version = self._claim_version()
            record = ModelVersion(
                version=version,
                model=model.name,
                params=dict(model.params),
                metrics=dict(metrics or {}),
                window=dict(window or {}),
                digest=digest,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                source=source,
            )
            _write_json(staging / "version.json", record.as_dict())
            folder = self._folder(version)
            (staging / "artifact").rename(folder / "artifact")
            # version.json last: a version without it is incomplete and never listed.
            (staging / "version.json").rename(folder / "version.json")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if promote:
            self.promote(version)
        return record

    def _claim_version(self) -> int:
        while True:
            taken = [int(p.name) for p in (self.root / "versions").iterdir() if p.name.isdigit()]
            candidate = max(taken, default=0) + 1
            try:
                self._folder(candidate).mkdir()
                return candidate
            except FileExistsError:
                continue  # another publisher took it first

    # ---- reading ----------------------------------------------------------------------------

    def versions(self) -> list[ModelVersion]:
        records = []
        for folder in (self.root / "versions").iterdir():
            meta = folder / "version.json"
            if folder.name.isdigit() and meta.exists():
                records.append(ModelVersion(**json.loads(meta.read_text())))
        return sorted(records, key=lambda r: r.version)

    def get(self, version: int) -> ModelVersion:
        meta = self._folder(version) / "version.json"
        if not meta.exists():
            raise NotFound(f"model version {version} is not in the registry; list versions with GET /v1/models")
        return ModelVersion(**json.loads(meta.read_text()))

    def load(self, version: int) -> Recommender:
        """The model of ``version``, after checking its files against the recorded digest."""
        record = self.get(version)
        artifact = self._folder(version) / "artifact"
        actual = artifact_digest(artifact)
        if actual != record.digest:
            raise Conflict(
                f"model version {version}: artifact digest {actual[:12]}… does not match the registered "
                f"{record.digest[:12]}…; the files were altered or corrupted, refusing to load it"
            )
        return Recommender.load(artifact)

    # ---- aliases ----------------------------------------------------------------------------

    def live_version(self) -> int | None:
        return self._aliases().get(LIVE)

    def promote(self, version: int) -> ModelVersion:
        """Point ``live`` at ``version`` (checked loadable first); the old live can be rolled back to."""
        record = self.get(version)
        self.load(version)  # refuse a bad artifact before any server sees the alias move
        with self._locked_aliases() as aliases:
            current = aliases.get(LIVE)
            if current != version:
                if current is not None:
                    aliases["previous"] = [*aliases.get("previous", []), current][-MAX_ROLLBACK_DEPTH:]
                aliases[LIVE] = version
        return record

    def rollback(self) -> ModelVersion:
        """Point ``live`` back at the version that was live before the current one."""
        with self._locked_aliases() as aliases:
            previous = aliases.get("previous", [])
            if not previous:
                raise Conflict("no earlier live version to roll back to")
            target = previous[-1]
            self.load(target)  # a corrupted artifact is refused here, and the alias stays put
            aliases[LIVE] = previous.pop()
            aliases["previous"] = previous
        return self.get(target)

    def _aliases(self) -> dict[str, Any]:
        path = self.root / "aliases.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @contextmanager
    def _locked_aliases(self) -> Iterator[dict[str, Any]]:
        with open(self.root / ".aliases.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            aliases = self._aliases()
            yield aliases
            _write_json(self.root / "aliases.json", aliases)

    def _folder(self, version: int) -> Path:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput(f"a model version is a positive integer, got {version!r}", field="version")
        return self.root / "versions" / str(version)


def artifact_digest(folder: Path) -> str:
    """sha256 over (name, bytes) of every file in ``folder``, in name order."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write-then-rename with fsync, so readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(payload, indent=2, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
