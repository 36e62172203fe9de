"""The landing zone's door: what each file under it is, and whether it is loaded, ignored or refused.

This is the one module that knows the landing zone's layout and its sources. The sensor, the
loaders, the synthetic-return generator and the CLI ask it; nothing else walks the landing zone.

    returns/<old_la_code>/<year>/<file>.xml   one council's CSWW return for one collection year
    dfe/csww_indicators/<file>.csv            DfE "Children's social work workforce" Indicators releases
    ofsted/<file>.csv                         Ofsted local-authority inspection outcomes

`decide()` walks the landing zone once, without following any symbolic link and without opening any
file (it reads folder listings and file sizes only), and gives every path one decision:

- load: the file is where a source expects it and of the type that source reads;
- ignore: a system, lock, editor or temporary file, a generated return's sidecar, or the landing
  zone's own README. Ignored files are listed in every run summary, never silently dropped;
- refuse: anything else, with a sentence saying what is wrong and what to do. A refused file never
  reaches a loader, so it cannot change anything loaded before or stop another council's figures.

Rules worth knowing (raw/README.md says them for people who drop files here):
- File types are compared case-insensitively (`.XML` is a return).
- Symbolic links are refused, whether they point to a file or a folder, inside the landing zone or
  out of it: a link is never followed, read or copied. A linked folder could make one return appear
  under two LA-years, or bring in files from anywhere on the machine; the owner copies the file in.
- One return per LA-year folder. When a folder holds several XML files, every one of them is refused
  and the message names them all: which one is the council's return is a decision for a person (a
  resubmission replaces the file, it is not put beside it), and whatever was loaded before for that
  LA-year stays in place until the folder holds one file again.
- The LA code must be one DfE used on that year's census date (30 September): Cumbria (909) cannot
  send a 2023 return; the message names its successors, or the closest codes and names.
- A DfE release or Ofsted file of a type not read yet (.xlsx, .ods, ...) is refused with that reason.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from orchestration.lib import paths
from orchestration.lib.sources import dfe_release, la_codes, ofsted
from orchestration.lib.sources.csww.spec import FIRST_YEAR, reference_date

LOAD, IGNORE, REFUSE = "load", "ignore", "refuse"


@dataclass(frozen=True)
class Source:
    """A kind of file the landing zone receives: where it goes and which file type is read."""

    name: str
    """The raw asset that loads it (raw/<name>)."""
    directory: Callable[[], Path]
    file_types: tuple[str, ...]
    """The file types (suffixes) its reader takes, from the reader itself."""
    what: str
    """What the files are, for messages ("DfE Indicators releases")."""
    per_la_year: bool = False
    """Files sit in <old_la_code>/<year>/ folders under the directory."""

    @property
    def folder(self) -> PurePosixPath:
        """The source's folder from the top of the landing zone, e.g. dfe/csww_indicators."""
        return PurePosixPath(self.directory().relative_to(paths.raw_dir()).as_posix())

    @property
    def layout(self) -> str:
        inner = "<old_la_code>/<year>/" if self.per_la_year else ""
        return f"{self.folder}/{inner}<file>{'|'.join(self.file_types)}"


RETURNS = Source("csww_returns", paths.returns_dir, (".xml",), "CSWW returns", per_la_year=True)
DFE_INDICATORS = Source(
    "dfe_csww_indicators", paths.dfe_releases_dir, dfe_release.FILE_TYPES, "DfE Indicators releases"
)
OFSTED_INSPECTIONS = Source(
    "ofsted_ilacs_inspections", paths.ofsted_dir, ofsted.FILE_TYPES, "Ofsted inspection outcomes"
)
SOURCES = (RETURNS, DFE_INDICATORS, OFSTED_INSPECTIONS)


def source_named(name: str) -> Source:
    return next(source for source in SOURCES if source.name == name)


def return_folder(old_la_code: str, year: int, returns_root: Path | None = None) -> Path:
    """Where one LA-year's return goes: returns/<old_la_code>/<year>/."""
    return (returns_root or RETURNS.directory()) / old_la_code / str(year)


def return_path(old_la_code: str, year: int, returns_root: Path | None = None) -> Path:
    """The name this project's tools give a return they place (the generator, the portal):
    returns/<old_la_code>/<year>/csww_<year>.xml. Any other .xml name in the folder loads as well."""
    return return_folder(old_la_code, year, returns_root) / f"csww_{year}.xml"


README = "README.md"
"""The landing zone's own documentation, at its top level."""
SIDECAR_SUFFIX = ".generated.json"
"""What `workforce generate` writes next to each synthetic return (see raw/README.md)."""

# Lower-case shell patterns, matched against the lower-cased file name, each with the reason given.
IGNORED_FILES: tuple[tuple[str, str], ...] = (
    ("~$*", "an Office lock file (Word or Excel makes one while the file is open)"),
    (".~lock.*#", "a LibreOffice lock file (made while the file is open)"),
    (".ds_store", "a macOS folder-settings file"),
    ("._*", "a macOS resource-fork file"),
    ("thumbs.db", "a Windows thumbnail cache"),
    ("ehthumbs.db", "a Windows thumbnail cache"),
    ("desktop.ini", "a Windows folder-settings file"),
    (".*.sw?", "an editor swap file (made while the file is open in vim)"),
    ("*~", "an editor backup copy"),
    ("#*#", "an editor autosave file"),
    (".#*", "an editor lock file"),
    ("*.tmp", "a temporary file, normally gone once the program writing it finishes"),
    ("*.part", "a partly downloaded file"),
    ("*.crdownload", "a partly downloaded file"),
    (".gitkeep", "an empty-folder placeholder"),
    (f"*{SIDECAR_SUFFIX}", "the sidecar of a synthetic return (written by `workforce generate`)"),
)
IGNORED_FOLDERS: tuple[tuple[str, str], ...] = (
    ("__macosx", "a folder of macOS resource forks left by unzipping"),
    (".trashes", "a macOS trash folder"),
    (".spotlight-v100", "a macOS search index"),
    (".fseventsd", "a macOS file-event log"),
    ("$recycle.bin", "a Windows recycle bin"),
)

_LA_CODE = re.compile(r"^\d{3}$")
_YEAR = re.compile(r"^\d{4}$")
LA_YEAR = re.compile(r"^(?P<old_la_code>\d{3})\|(?P<year>\d{4})$")


def la_year(old_la_code: str, year: int) -> str:
    """One council's collection year as runs, partitions and summaries name it: "<old_la_code>|<year>"."""
    return f"{old_la_code}|{year}"


@dataclass(frozen=True)
class Decision:
    """What happens to one path in the landing zone, and why."""

    relative: str
    """Path from the top of the landing zone, with forward slashes."""
    action: str
    reason: str = ""
    source: str | None = None
    """The source whose folder the path is in (None: outside every source's folder)."""
    old_la_code: str | None = None
    year: int | None = None
    size: int = 0
    mtime_ns: int = 0

    @property
    def la_year(self) -> str | None:
        """The LA-year of a return in its folder (see `la_year`)."""
        return la_year(self.old_la_code, self.year) if self.old_la_code and self.year else None

    def path(self, root: Path | None = None) -> Path:
        return (root or paths.raw_dir()) / self.relative

    def describe(self) -> str:
        verb = {LOAD: "load", IGNORE: "ignored", REFUSE: "refused"}[self.action]
        return f"{self.relative}: {verb}" + (f": {self.reason}" if self.reason else "")

    def as_dict(self) -> dict[str, object]:
        record: dict[str, object] = {"file": self.relative, "decision": self.action, "reason": self.reason}
        if self.la_year:
            record["la_year"] = self.la_year
        return record


@dataclass(frozen=True)
class LandingZone:
    """Every decision for one look at the landing zone."""

    root: Path
    decisions: tuple[Decision, ...]

    def with_action(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]

    def to_load(self, source: Source) -> list[Decision]:
        return [d for d in self.with_action(LOAD) if d.source == source.name]

    def files_to_load(self, source: Source) -> list[Path]:
        return [d.path(self.root) for d in self.to_load(source)]

    def not_loaded(self, source: Source | None = None) -> list[Decision]:
        """Ignored and refused paths of one source, plus those outside every source's folder."""
        names = {None} if source is None else {None, source.name}
        return [d for d in self.decisions if d.action != LOAD and d.source in names]

    def return_years(self) -> list[int]:
        return sorted({d.year for d in self.to_load(RETURNS) if d.year is not None})

    def fingerprint(self) -> dict[str, str]:
        """Decision, size and modification time of every path that is loaded or refused.

        Ignored paths are left out: lock and swap files come and go while people work, and a
        change among them is no reason to run anything.
        """
        return {d.relative: f"{d.action}:{d.size}:{d.mtime_ns}" for d in self.decisions if d.action != IGNORE}


def decide(root: Path | None = None, *, today: dt.date | None = None) -> LandingZone:
    """Walk the landing zone (never through a link, never opening a file) and decide every path."""
    walk = _Walk(root or paths.raw_dir(), today or dt.date.today(), tuple((s, s.folder) for s in SOURCES))
    if walk.root.is_dir():
        walk.folder(walk.root, ())
    return LandingZone(walk.root, tuple(_one_return_per_folder(walk.found)))


def source_files(source: Source, directory: Path) -> list[Path]:
    """The files of one source that would be loaded from `directory` (a release folder, say).

    For readers handed a folder rather than the whole landing zone: the same rules as `decide`.
    """
    if not directory.is_dir():
        return []
    decisions = [
        _published_file(entry.name, (entry.name,), _stat(entry), source)
        for entry in sorted(os.scandir(directory), key=lambda e: e.name)
        if entry.is_file(follow_symlinks=False) and not _match(entry.name, IGNORED_FILES)
    ]
    return [directory / d.relative for d in decisions if d.action == LOAD]


# -- the walk --------------------------------------------------------------------------------------


def _stat(entry: os.DirEntry) -> dict[str, int]:
    info = entry.stat(follow_symlinks=False)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


@dataclass
class _Walk:
    root: Path
    today: dt.date
    folders: tuple[tuple[Source, PurePosixPath], ...]
    """Each source with its folder, worked out once per walk."""
    found: list[Decision] = field(default_factory=list)

    def folder(self, folder: Path, parts: tuple[str, ...]) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            here = (*parts, entry.name)
            relative = "/".join(here)
            source, inner = self.source(here)
            name = source.name if source else None
            if entry.is_symlink():
                self.found.append(_symlink(entry, relative, name, self.root))
            elif entry.is_dir(follow_symlinks=False):
                reason = _match(entry.name, IGNORED_FOLDERS)
                if reason:
                    self.found.append(Decision(relative, IGNORE, f"{reason}; nothing in it is read", name))
                else:
                    self.folder(Path(entry.path), here)
            elif entry.is_file(follow_symlinks=False):
                self.found.append(_file(relative, inner, _stat(entry), source, self.today))
            else:
                reason = "not a regular file (a pipe, socket or device), so it is not opened"
                self.found.append(Decision(relative, REFUSE, reason, name))

    def source(self, parts: tuple[str, ...]) -> tuple[Source | None, tuple[str, ...]]:
        """The source whose folder holds a path, and the path's parts inside that folder."""
        for source, folder in self.folders:
            if parts[: len(folder.parts)] == folder.parts:
                return source, parts[len(folder.parts) :]
        return None, parts


def _symlink(entry: os.DirEntry, relative: str, source: str | None, root: Path) -> Decision:
    """Refuse a link, saying where it points (its target is named, never opened)."""
    target = os.readlink(entry.path)
    where = "inside" if Path(os.path.realpath(entry.path)).is_relative_to(root.resolve()) else "outside"
    kind = "folder" if os.path.isdir(entry.path) else "file"
    return Decision(
        relative,
        REFUSE,
        f"a symbolic link (to {target!r}, {where} the landing zone); links are never followed or copied. "
        f"Copy the {kind} itself into the landing zone instead",
        source,
        **_stat(entry),
    )


def source_of(relative: str) -> Source | None:
    """The source whose folder holds a path (given from the top of the landing zone), if any."""
    path = PurePosixPath(relative)
    return next((s for s in SOURCES if path == s.folder or s.folder in path.parents), None)


def _match(name: str, patterns: Iterable[tuple[str, str]]) -> str | None:
    lowered = name.lower()
    return next((reason for pattern, reason in patterns if fnmatch.fnmatchcase(lowered, pattern)), None)


def _kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return f"a {suffix} file" if suffix else "a file without a type"


def _file(
    relative: str, inner: tuple[str, ...], stat: dict[str, int], source: Source | None, today: dt.date
) -> Decision:
    ignored = _match(inner[-1], IGNORED_FILES)
    if ignored:
        return Decision(relative, IGNORE, ignored, source.name if source else None, **stat)
    if source is None:
        if inner == (README,):
            return Decision(relative, IGNORE, "the landing zone's own documentation", **stat)
        layouts = "; ".join(s.layout for s in SOURCES)
        return Decision(relative, REFUSE, f"not where the landing zone takes files. Files go in: {layouts}", **stat)
    if source.per_la_year:
        return _return_file(relative, inner, stat, today)
    return _published_file(relative, inner, stat, source)


def _published_file(relative: str, inner: tuple[str, ...], stat: dict[str, int], source: Source) -> Decision:
    def refuse(reason: str) -> Decision:
        return Decision(relative, REFUSE, reason, source.name, **stat)

    if len(inner) != 1:
        return refuse(f"{source.what} go directly in {source.folder}/, not in a sub-folder ({source.layout})")
    if Path(inner[0]).suffix.lower() not in source.file_types:
        types = [t.lstrip(".").upper() for t in source.file_types]
        wanted = " or ".join([", ".join(types[:-1]), types[-1]] if len(types) > 1 else types)
        return refuse(
            f"{_kind(inner[0])}: {source.what} are read from {wanted} files only; this type is not read yet. "
            f"Save the file as {wanted}, as published, and put that here"
        )
    return Decision(relative, LOAD, "", source.name, **stat)


def _return_file(relative: str, inner: tuple[str, ...], stat: dict[str, int], today: dt.date) -> Decision:
    name = inner[-1]

    def refuse(reason: str, year: int | None = None) -> Decision:
        return Decision(relative, REFUSE, reason, RETURNS.name, year=year, **stat)

    if len(inner) != 3:
        where = "directly in the returns folder" if len(inner) == 1 else "not in an <old_la_code>/<year>/ folder"
        return refuse(f"{where}. A return goes in {RETURNS.layout}, e.g. {RETURNS.folder}/301/2024/{name}")
    old_la_code, year_text, _ = inner
    if Path(name).suffix.lower() not in RETURNS.file_types:
        return refuse(
            f"{_kind(name)}: {RETURNS.what} are XML files. Export the return from your system as XML and "
            "put that file here"
        )
    if not _YEAR.match(year_text):
        return refuse(
            f"'{year_text}' is not a collection year. A return goes in {RETURNS.layout}, where <year> is "
            f"the collection year, e.g. {RETURNS.folder}/{old_la_code}/2024/{name}"
        )
    year = int(year_text)
    census = reference_date(year)
    if year < FIRST_YEAR:
        return refuse(f"the warehouse reads collection years from {FIRST_YEAR}; {year} is earlier", year)
    if census > today:
        return refuse(
            f"the {year} census date ({census:%d %B %Y}) has not come yet, so there is no {year} return. "
            "Check the year folder",
            year,
        )
    if not _LA_CODE.match(old_la_code):
        return refuse(
            f"'{old_la_code}' is not a 3-digit DfE old LA code. A return goes in {RETURNS.layout}"
            + _suggestions(old_la_code, census),
            year,
        )
    if not la_codes.in_existence(old_la_code, census):
        # A code DfE once used keeps its LA-year, so the refusal shows against it in the UI.
        known = old_la_code if la_codes.lookup(old_la_code) else None
        reason = _not_in_existence(old_la_code, year, census)
        return Decision(relative, REFUSE, reason, RETURNS.name, known, year, **stat)
    return Decision(relative, LOAD, "", RETURNS.name, old_la_code, year, **stat)


def _suggestions(text: str, census: dt.date) -> str:
    matches = la_codes.closest(text, census)
    return f"; did you mean {' or '.join(la.describe() for la in matches)}?" if matches else ""


def _not_in_existence(old_la_code: str, year: int, census: dt.date) -> str:
    authority = la_codes.lookup(old_la_code)
    if authority is None:
        return f"{old_la_code} is not a DfE old LA code" + _suggestions(old_la_code, census)
    text = f"{authority.describe()} did not exist on {census:%d %B %Y}, the {year} census date"
    successors = [
        la for code in la_codes.successor_codes(old_la_code) if (la := la_codes.lookup(code)) and la.exists_on(census)
    ]
    if successors:
        return (
            f"{text}: it was replaced by {' and '.join(la.describe() for la in successors)}, each of which "
            "sends its own return under its own code"
        )
    return text + _suggestions(old_la_code, census)


def _one_return_per_folder(found: list[Decision]) -> list[Decision]:
    """Refuse every return in a folder that holds more than one: a person says which is the return."""
    by_la_year: dict[str | None, list[Decision]] = {}
    for decision in found:
        if decision.action == LOAD and decision.source == RETURNS.name:
            by_la_year.setdefault(decision.la_year, []).append(decision)
    competing = {d.relative: group for group in by_la_year.values() if len(group) > 1 for d in group}
    result = []
    for decision in found:
        group = competing.get(decision.relative)
        if group is None:
            result.append(decision)
            continue
        names = ", ".join(PurePosixPath(d.relative).name for d in group)
        reason = (
            f"{len(group)} files compete for {decision.old_la_code} {decision.year} ({names}), and a folder "
            "holds one return. Remove the files that are not the return to load (a resubmission replaces "
            "the earlier file); until then what was loaded before for this LA-year stays"
        )
        result.append(replace(decision, action=REFUSE, reason=reason))
    return result
