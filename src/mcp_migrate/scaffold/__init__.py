"""`mcp-migrate scaffold`: write the destination of a migration into the user's project.

The templates are real, tested code kept under `templates/` (the tests generate them into a
temporary folder and run them there): a task store for the Tasks extension, and a reference
stateless server with its deployment files. Generating copies them; it never overwrites a file
unless asked to, and writes nothing when any target exists.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

TEMPLATES = Path(__file__).parent / "templates"
_SKIP = frozenset({"__pycache__", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


@dataclass(frozen=True)
class Piece:
    """A template folder and where its files land under --out."""

    source: Path
    target: str


_PIECES: dict[tuple[str, str], tuple[Piece, ...]] = {
    ("tasks", "python"): (Piece(TEMPLATES / "python" / "mcp_tasks", "mcp_tasks"),),
    ("tasks", "typescript"): (Piece(TEMPLATES / "typescript" / "mcp-tasks", "mcp-tasks"),),
    ("server", "python"): (
        Piece(TEMPLATES / "python" / "server", "."),
        Piece(TEMPLATES / "python" / "mcp_tasks", "mcp_tasks"),
    ),
}


def files(kind: str, lang: str) -> list[tuple[Path, Path]]:
    """(template file, path relative to --out) for everything `kind` in `lang` generates."""
    pieces = _PIECES.get((kind, lang))
    if pieces is None:
        raise UsageError(f"`scaffold {kind}` is not available for {lang} (available: {_available(kind)})")
    found = []
    for piece in pieces:
        for path in sorted(piece.source.rglob("*")):
            relative = path.relative_to(piece.source)
            if path.is_file() and not _SKIP.intersection(relative.parts) and path.suffix != ".pyc":
                found.append((path, Path(piece.target) / relative))
    return found


def _available(kind: str) -> str:
    return ", ".join(lang for k, lang in _PIECES if k == kind) or "none"


def generate(kind: str, out: Path, lang: str = "python", force: bool = False) -> list[Path]:
    """Write the files; raises UsageError (and writes nothing) when one exists and not `force`."""
    planned = [(source, out / relative) for source, relative in files(kind, lang)]
    if not planned:
        raise UsageError(f"no templates for `scaffold {kind}` in {lang} (a broken installation?)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a folder")
    existing = [target for _, target in planned if target.exists() or target.is_symlink()]
    if existing and not force:
        listed = ", ".join(str(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise UsageError(
            f"{len(existing)} file(s) already exist ({listed}); nothing written (use --force to overwrite)"
        )
    for source, target in planned:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.mcp-migrate-tmp")
        shutil.copyfile(source, temporary)
        os.chmod(temporary, source.stat().st_mode & 0o777)
        os.replace(temporary, target)
    return [target for _, target in planned]
