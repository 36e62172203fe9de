"""Stream one CSWW XML return into Arrow batches, checking it against the rules as it goes.

`parse_return` reads the file with lxml's iterparse, one CSWWWorker at a time, freeing each worker
once read so memory stays flat whatever the file size. Rows go to `on_batch` as Arrow tables typed
by WORKER_SCHEMA; every problem becomes an Issue (see rules.py), never an exception. The caller
loads the batches only if the outcome is `ok`.

What the batches hold, and why:
- `swe_pseudonym` is the keyed pseudonym of SWENo (see pseudonym.py), never the number itself;
- `birth_month` is PersonBirthDate moved to the first of its month: age at 30 September to within
  a month is all the measures need, and the exact day adds re-identification risk because SWE
  numbers are on a public register;
- codes stay as their code strings; yes/no codes (AgencyWorker, StepUpGrad, FrontlineGrad,
  Absat30Sept) become booleans;
- an element that is absent, empty or unreadable (not a number, not a code) is null; a readable
  value that breaks a range rule is kept as written (its issue says what to fix);
- a repeating element that is absent is an empty list (zero occurrences), never null, so list
  functions need no null handling.

Encodings: UTF-8, any encoding the XML declaration names, and UTF-16 with a byte-order mark or a
declaration saying so; bytes that contradict their declaration are refused, never guessed at.

Safety: the first bytes are read before lxml sees the file, and any DOCTYPE is refused there, so
no entity (external, XXE, or "billion laughs") is ever declared, let alone resolved. The lxml
parser is also configured never to resolve entities, load DTDs or touch the network, in case a
DOCTYPE ever got past that check.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pyarrow as pa
from lxml import etree

from orchestration.lib.sources.csww import rules, spec
from orchestration.lib.sources.csww.issues import Issue, IssueLog
from orchestration.lib.sources.csww.rules import ERROR, RuleId

# -- the batch schema ----------------------------------------------------------------------------

WORKER_COLUMNS: dict[str, str] = {e.name: e.column for e in spec.WORKER_ELEMENTS}
"""Column name of each CSWWWorker element, in spec order."""

_ARROW_TYPES = {
    spec.CODE: pa.string(),
    spec.TEXT: pa.string(),
    spec.DECIMAL: pa.float64(),
    spec.INTEGER: pa.int32(),
    spec.DATE: pa.date32(),
}


def _arrow_type(element: spec.Element) -> pa.DataType:
    base = pa.bool_() if element.codes is spec.YES_NO else _ARROW_TYPES[element.kind]
    return pa.list_(base) if element.repeats else base


WORKER_SCHEMA: pa.Schema = pa.schema(
    [("record_number", pa.int32()), ("source_line", pa.int32())]
    + [(WORKER_COLUMNS[e.name], _arrow_type(e)) for e in spec.WORKER_ELEMENTS]
)


LA_LEVEL_KEYS: dict[str, str] = {e.name: e.column for e in spec.LA_LEVEL_ELEMENTS}
LA_LEVEL_SCHEMA: pa.Schema = pa.schema([(LA_LEVEL_KEYS[e.name], _arrow_type(e)) for e in spec.LA_LEVEL_ELEMENTS])
"""Types of the LA-level values in `ParseOutcome.la_level`, one column each in the warehouse."""


# -- what parse_return gives back ----------------------------------------------------------------


@dataclass
class ReturnHeader:
    collection: str | None
    year: int | None
    reference_date: dt.date | None
    old_la_code: str | None
    software_code: str | None
    generated_at: dt.datetime | None


@dataclass
class ParseOutcome:
    header: ReturnHeader | None
    la_level: dict[str, object]
    workers: int
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Information for the report that is not an issue (e.g. no previous return to compare with)."""

    @property
    def ok(self) -> bool:
        return not any(issue.severity == ERROR for issue in self.issues)


# -- reading values ------------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _to_decimal(text: str) -> float:
    # float() alone would also take "nan", "1e3" and "1_000", none of which DfE's format allows.
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError(text)
    return float(text)


_INT32_LIMIT = 2**31
"""Integers are stored as int32; anything beyond is an input error, not a number to keep."""


def _to_integer(text: str) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise ValueError(text)
    value = int(text)
    if not -_INT32_LIMIT < value < _INT32_LIMIT:
        raise ValueError(text)
    return value


def _to_date(text: str) -> dt.date:
    # fromisoformat alone would also take "20220930" and "2022-W39-5".
    if _DATE.fullmatch(text) is None:
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _explain_date(element: spec.Element, text: str) -> str:
    return rules.bad_date(element, text, real=_DATE.fullmatch(text) is not None)


class _Slot(NamedTuple):
    """How to read one element. A tuple so the hot loop can unpack it in one step."""

    index: int
    """Position in the specification order for the year."""
    repeats: bool
    convert: Callable[[str], object] | None
    """Raises KeyError or ValueError for a bad value; None for free text."""
    check: rules.ValueCheck | None
    element: spec.Element
    bad_value: RuleId | None
    explain: Callable[[str], str] | None


def _slot(index: int, element: spec.Element) -> _Slot:
    kind = element.kind
    if kind == spec.CODE:
        # A dict lookup both validates and converts: yes/no codes become booleans.
        table = {"0": False, "1": True} if element.codes is spec.YES_NO else {c: c for c in element.codes or {}}
        convert, bad, explain = table.__getitem__, RuleId.UNKNOWN_CODE, partial(rules.unknown_code, element)
    elif kind == spec.DECIMAL:
        convert, bad, explain = _to_decimal, RuleId.NUMBER_FORMAT, partial(rules.bad_number, element)
    elif kind == spec.INTEGER:
        convert, bad, explain = _to_integer, RuleId.NUMBER_FORMAT, partial(rules.bad_number, element)
    elif kind == spec.DATE:
        convert, bad, explain = _to_date, RuleId.DATE_FORMAT, partial(_explain_date, element)
    else:
        convert = bad = explain = None
    return _Slot(index, element.repeats, convert, rules.value_check(element), element, bad, explain)


@dataclass(frozen=True)
class _Layout:
    """The elements one block (CSWWWorker or the LA-level block) may hold in one year."""

    parent: str
    slots: dict[str, _Slot]
    names: tuple[str, ...]
    """Element names in specification order (slot.index points into this)."""
    every_year: dict[str, spec.Element]
    required: tuple[str, ...]


@cache
def _layout(block: str, year: int) -> _Layout:
    if block == "CSWWWorker":
        elements, everything = spec.worker_elements(year), spec.WORKER_ELEMENTS
    else:
        elements, everything = spec.la_level_elements(year), spec.LA_LEVEL_ELEMENTS
    return _Layout(
        parent=block if block == "CSWWWorker" else spec.la_level_block_name(year),
        slots={e.name: _slot(i, e) for i, e in enumerate(elements)},
        names=tuple(e.name for e in elements),
        every_year={e.name: e for e in everything},
        required=tuple(e.name for e in elements if e.required),
    )


_WORKER_TAGS = tuple(WORKER_COLUMNS)
_LIST_COLUMNS = tuple(i for i, f in enumerate(WORKER_SCHEMA) if pa.types.is_list(f.type))


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


# -- the first bytes: encoding, DOCTYPE, root ----------------------------------------------------

_CHUNK = 1 << 16
_PROLOG_LIMIT = 1 << 20
"""A real return names its root within a few hundred bytes; more than this before it is refused."""
_PROLOG_TOKEN = re.compile(
    rb"""\s+
    | <\?xml(?P<decl>.*?)\?>
    | <\?.*?\?>
    | <!--.*?-->
    | (?P<doctype><!DOCTYPE)
    | <(?P<root>[^\s/>!?]+)""",
    re.S | re.X | re.I,
)
_DOCTYPE_REFUSED = (
    "The file contains a DOCTYPE declaration. DOCTYPE declarations are not allowed in CSWW returns, "
    "because they can make a parser read other files or expand text without limit, so the file was "
    "not read. Export the return again without a DOCTYPE."
)
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF16 = ((codecs.BOM_UTF16_LE, b"<\x00", "utf-16-le"), (codecs.BOM_UTF16_BE, b"\x00<", "utf-16-be"))
"""(byte-order mark, how '<' starts without one, codec) of each UTF-16 byte order."""
_UTF16_NAMES = {"utf-16": None, "utf16": None, "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}
"""Declared UTF-16 names → the byte order they fix (None: either, told by the byte-order mark)."""
_UTF8_NAMES = {"utf-8", "utf8"}
_SAVE_AS = "Save the file again as UTF-8 (or UTF-16), with a declaration naming the encoding it really uses."


@dataclass
class _Prolog:
    root: str | None = None
    root_line: int = 1
    encoding: str | None = None
    """As declared, lower-cased."""
    wide: str | None = None
    """The UTF-16 codec when the file is UTF-16; None for UTF-8 and other 8-bit encodings."""
    problem: tuple[RuleId, str, int | None] | None = None
    """(rule, message, line) when the file must not be parsed."""


def _byte_order(start: bytes) -> tuple[str | None, int]:
    """(UTF-16 codec or None, length of its byte-order mark) from the first bytes of a file."""
    for bom, bare, codec in _UTF16:
        if start.startswith(bom) and not start.startswith(codecs.BOM_UTF32_LE):
            return codec, len(bom)
        if start.startswith(bare):
            return codec, 0
    return None, 0


def _encoding_conflict(declared: str | None, wide: str | None, bom: bytes) -> str | None:
    """Why the bytes contradict the declared encoding (or cannot be told apart), or None."""
    named = f'its XML declaration says encoding="{declared}"'
    if wide is None:
        if bom == codecs.BOM_UTF8 and declared not in (None, *_UTF8_NAMES):
            return f"The file starts with a UTF-8 byte-order mark but {named}. {_SAVE_AS}"
        if declared in _UTF16_NAMES:
            return f"The file's bytes are not UTF-16 but {named}. {_SAVE_AS}"
        return None
    order = "little-endian" if wide == "utf-16-le" else "big-endian"
    if declared is None:
        return None if bom else f"The file looks UTF-16 but has neither a byte-order mark nor a declaration. {_SAVE_AS}"
    if declared not in _UTF16_NAMES:
        return f"The file's bytes are UTF-16 ({order}) but {named}. {_SAVE_AS}"
    if _UTF16_NAMES[declared] not in (None, wide):
        return f"The file's bytes are UTF-16 {order} but {named}. {_SAVE_AS}"
    return None


def _read_prolog(handle: BinaryIO) -> _Prolog:
    """Read up to the root element's start tag, refusing DOCTYPEs and encodings at odds with the bytes.

    A UTF-16 file is decoded as it is read, so the same scan (on UTF-8 bytes) serves every encoding.
    """
    first = handle.read(_CHUNK)
    eof = len(first) < _CHUNK
    wide, bom_length = _byte_order(first)
    if wide is None and (first.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or b"\x00" in first[:4]):
        return _Prolog(
            problem=(
                RuleId.XML_ENCODING,
                "The file is UTF-32 encoded or not text at all; CSWW returns must be UTF-8 or UTF-16. " + _SAVE_AS,
                1,
            )
        )
    bom = first[:bom_length] if wide else first[: len(codecs.BOM_UTF8)]
    decoder = codecs.getincrementaldecoder(wide)("replace") if wide else None

    def readable(data: bytes, final: bool) -> bytes:
        return decoder.decode(data, final).encode("utf-8") if decoder else data

    buf = readable(first[bom_length:], eof)
    pos = len(codecs.BOM_UTF8) if decoder is None and bom == codecs.BOM_UTF8 else 0
    prolog = _Prolog(wide=wide)
    while True:
        match = _PROLOG_TOKEN.match(buf, pos)
        if match is not None and (match.end() < len(buf) or eof):
            line = buf.count(b"\n", 0, match.start()) + 1
            if match.group("doctype"):
                prolog.problem = (RuleId.XML_DOCTYPE, _DOCTYPE_REFUSED, line)
                return prolog
            if match.group("decl") is not None:
                declared = _DECLARED_ENCODING.search(match.group("decl"))
                prolog.encoding = declared.group(1).decode("ascii").lower() if declared else None
            if match.group("root") is not None:
                conflict = _encoding_conflict(prolog.encoding, wide, bom)
                if conflict is not None:
                    prolog.problem = (RuleId.XML_ENCODING, conflict, 1)
                    return prolog
                prolog.root = match.group("root").decode("utf-8", "replace")
                prolog.root_line = line
                return prolog
            pos = match.end()
            continue
        if match is None and not buf.startswith(b"<", pos) and pos < len(buf):
            return prolog  # not XML here at all: lxml says exactly where and how
        if not eof and len(buf) < _PROLOG_LIMIT:
            more = handle.read(_CHUNK)
            eof = len(more) < _CHUNK
            buf += readable(more, eof)
            continue
        if eof and pos >= len(buf):
            prolog.problem = (
                RuleId.FILE_EMPTY,
                "The file is empty: it holds no XML elements. Send the return exported from your system.",
                None,
            )
        elif not eof:
            prolog.problem = (
                RuleId.XML_MALFORMED,
                "The file does not start with an XML element within its "
                "first megabyte, so it was not read. Check it is the exported CSWW return.",
                1,
            )
        # Otherwise an unfinished comment or declaration: lxml says exactly where and how.
        return prolog


def _bad_utf8(handle: BinaryIO) -> tuple[int, int, int] | None:
    """(line, byte offset, byte value) of the first byte that is not valid UTF-8, if any."""
    handle.seek(0)
    offset = 0
    for line_no, raw in enumerate(handle, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return line_no, offset + error.start, raw[error.start]
        offset += len(raw)
    return None


def _looks_truncated(handle: BinaryIO, error_line: int, wide: str | None) -> bool:
    """True when the syntax error is on the file's last line and the file does not end with a tag."""
    handle.seek(0)
    newline = "\n".encode(wide) if wide else b"\n"
    newlines = sum(chunk.count(newline) for chunk in iter(partial(handle.read, 1 << 20), b""))
    handle.seek(max(0, handle.tell() - 64))
    tail = handle.read().decode(wide or "utf-8", "ignore")
    return error_line >= newlines and not tail.rstrip().endswith(">")


# -- the reader ----------------------------------------------------------------------------------

_TOP_LEVEL = ("Header", "LALevelVacancies", "LALevel", "CSWWWorker")


class _Stop(Exception):
    """Raised inside the reader when the file cannot be read further (the issue is already logged)."""


class _ReturnReader:
    """One pass over one file. Holds the state parse_return needs between events."""

    def __init__(
        self,
        path: Path,
        expected_old_la_code: str | None,
        expected_year: int | None,
        pseudonymise: Callable[[str], str],
        on_batch: Callable[[pa.Table], None],
        batch_size: int,
        on_swe_number: Callable[[int, str], None] | None,
    ) -> None:
        self.path = path
        self.on_swe_number = on_swe_number
        self.expected_old_la_code = expected_old_la_code
        self.expected_year = expected_year
        self.pseudonymise = pseudonymise
        self.on_batch = on_batch
        self.batch_size = batch_size
        self.log = IssueLog(path.name)
        self.header: ReturnHeader | None = None
        self.root: etree._Element | None = None
        self.la_level: dict[str, object] = dict.fromkeys(LA_LEVEL_KEYS.values())
        self.ctx: rules.YearContext | None = None
        self.stage = 0  # 0 nothing yet, 1 Header read, 2 LA-level block read, 3 in the workers
        self.la_block_seen = False
        self.records = 0
        self.rows: list[tuple[object, ...]] = []
        self.duplicates = rules.DuplicateRoles()
        self.today = dt.date.today()

    def outcome(self) -> ParseOutcome:
        return ParseOutcome(self.header, self.la_level, self.records, self.log.issues())

    def add(self, finding: rules.Finding, line: int | None, record: int | None = None) -> None:
        rule, element, value, message = finding
        self.log.add(rule, message, line=line, record=record, element=element, value=value)

    # -- the file ----------------------------------------------------------------------------

    def run(self) -> ParseOutcome:
        try:
            with self.path.open("rb") as handle:
                self._read(handle)
        except OSError as error:
            self.log.add(RuleId.FILE_UNREADABLE, f"The file could not be read ({error.strerror or error}).")
        except _Stop:
            pass
        self._flush()
        return self.outcome()

    def _read(self, handle: BinaryIO) -> None:
        prolog = _read_prolog(handle)
        if prolog.problem is not None:
            rule, message, line = prolog.problem
            self.log.add(rule, message, line=line)
            return
        if prolog.root is not None and prolog.root != "Message":
            self.log.add(RuleId.WRONG_ROOT, self._wrong_root(prolog.root), line=prolog.root_line)
            return
        handle.seek(0)
        try:
            self._parse(handle)
        except etree.XMLSyntaxError as error:
            self._syntax_error(handle, error, prolog)
            return
        self._finish()

    def _parse(self, handle: BinaryIO) -> None:
        events = etree.iterparse(
            handle,
            events=("end",),
            tag=_TOP_LEVEL,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        root = None
        for _, element in events:
            if root is None:
                root = self._check_root(element)
            parent = element.getparent()
            tag = element.tag
            if tag == "CSWWWorker":
                self._worker(element, parent, root)
            elif parent is root:
                self._top_level(element, tag)
            # A Header or LA-level block anywhere else is reported by the element that holds it.
        self.root = events.root if root is None else root
        if root is None:
            self._check_root(self.root)

    def _check_root(self, element: etree._Element) -> etree._Element:
        tree = element.getroottree()
        if tree.docinfo.doctype:
            # Defence in depth: a DOCTYPE the byte scan missed stops here, at the first event, and
            # lxml is configured never to resolve entities in any case.
            self.log.add(RuleId.XML_DOCTYPE, _DOCTYPE_REFUSED)
            raise _Stop
        root = tree.getroot()
        if root.tag != "Message":
            self.log.add(RuleId.WRONG_ROOT, self._wrong_root(str(root.tag)), line=root.sourceline)
            raise _Stop
        return root

    @staticmethod
    def _wrong_root(name: str) -> str:
        return (
            f"The file's root element is {name!r}, not 'Message' (without any namespace): this is not a "
            "CSWW census return as DfE defines it. Check you sent the right file."
        )

    def _syntax_error(self, handle: BinaryIO, error: etree.XMLSyntaxError, prolog: _Prolog) -> None:
        line = error.lineno or None
        if error.code == etree.ErrorTypes.ERR_INVALID_ENCODING:
            self._encoding_error(handle, line, prolog)
        elif prolog.root is not None and (
            error.code == etree.ErrorTypes.ERR_TAG_NOT_FINISHED or _looks_truncated(handle, line or 0, prolog.wide)
        ):
            self.log.add(
                RuleId.XML_MALFORMED,
                (
                    f"The file stops in the middle of the XML (line {line}): it looks cut short. Export or "
                    "upload the whole file again."
                ),
                line=line,
            )
        else:
            self.log.add(
                RuleId.XML_MALFORMED,
                (
                    f"The file is not well-formed XML: {error.msg}. It should be the file your system "
                    "exported; if it was edited by hand, check the tags around that line."
                ),
                line=line,
            )

    def _encoding_error(self, handle: BinaryIO, lxml_line: int | None, prolog: _Prolog) -> None:
        # Only a file read as UTF-8 can be searched for its first bad UTF-8 byte.
        utf8 = prolog.wide is None and prolog.encoding in (None, *_UTF8_NAMES)
        found = _bad_utf8(handle) if utf8 else None
        if found is None:
            encoding = prolog.wide or prolog.encoding or "utf-8"
            self.log.add(
                RuleId.XML_ENCODING,
                f"Line {lxml_line} has bytes that are not valid in the file's encoding ({encoding}). {_SAVE_AS}",
                line=lxml_line,
            )
            return
        line, offset, byte = found
        hint = bytes([byte]).decode("cp1252", "replace")
        self.log.add(
            RuleId.XML_ENCODING,
            (
                f"Line {line} has a byte that is not valid UTF-8 (0x{byte:02X} at byte {offset:,} of the "
                f"file; in Windows-1252 that would be {hint!r}). A file that declares no other encoding must "
                "be UTF-8: save it again as UTF-8, or declare the encoding it really uses."
            ),
            line=line,
        )

    def _finish(self) -> None:
        """Checks that need the whole file: what was never seen."""
        assert self.root is not None
        for element in self.root:
            if element.tag not in _TOP_LEVEL:
                self._unknown_top_level(element)
        if self.stage == 0:
            self._start_body(None)
        if not self.la_block_seen and self.ctx is not None:
            name = spec.la_level_block_name(self.ctx.year)
            self.log.add(
                RuleId.LA_LEVEL_BLOCK,
                (
                    f"The return has no {name} block. Add it after the Header, with NumberOfVacancies, "
                    "NoAgencyFTE and NoAgencyHeadcount."
                ),
            )
        if self.records == 0:
            self.log.add(
                RuleId.NO_WORKERS,
                (
                    "The return has no CSWWWorker records. It must list every children's social worker "
                    "role in the year: in post, leavers and agency workers."
                ),
            )

    # -- Message's children --------------------------------------------------------------------

    def _top_level(self, element: etree._Element, tag: str) -> None:
        line = element.sourceline
        if tag == "Header":
            if self.stage > 0:
                self.log.add(
                    RuleId.MESSAGE_ORDER,
                    ("Header must be the first element in Message, and appear once; this one was ignored."),
                    line=line,
                    element="Header",
                )
            else:
                self._header(element)
            return
        self._start_body(line)
        if self.la_block_seen:
            self.log.add(
                RuleId.LA_LEVEL_BLOCK,
                f"{tag} appears more than once; a return has one.",
                line=line,
                element=tag,
            )
            return
        if self.stage == 3:
            self.log.add(
                RuleId.MESSAGE_ORDER,
                (
                    f"{tag} comes after the CSWWWorker records; it must come between the Header and the "
                    "first CSWWWorker."
                ),
                line=line,
                element=tag,
            )
        self._la_block(element, tag)

    def _unknown_top_level(self, element: etree._Element) -> None:
        self.log.add(
            RuleId.MESSAGE_ORDER,
            (
                f"{element.tag!r} is not part of a CSWW return: Message may hold only the Header, the "
                "LA-level block and CSWWWorker records. Remove it."
            ),
            line=element.sourceline,
            element=str(element.tag),
        )

    def _start_body(self, line: int | None) -> None:
        """Called before the first LA-level block or worker: fixes the year the rules use."""
        if self.stage > 0:
            return
        self.stage = 1
        if self.header is None:
            self.log.add(
                RuleId.HEADER_MISSING,
                (
                    "The file has no Header at the start of Message, so its LA and collection year cannot "
                    "be read. Add the Header with CollectionDetails (Collection, Year, ReferenceDate) and "
                    "Source (LEA)."
                ),
                line=line,
            )
        year = self.header.year if self.header and self.header.year else self.expected_year
        if year is None:
            self.log.add(
                RuleId.HEADER_YEAR,
                (
                    "Without a collection year the workers cannot be checked, so the rest of the file was "
                    "not read. Give the Year in the Header."
                ),
                line=line,
            )
            raise _Stop
        self.ctx = rules.YearContext.for_year(year, self.today)
        self.log.year = year

    def _header(self, element: etree._Element) -> None:
        line = element.sourceline

        def where(path: str) -> int:
            found = element.find(path)
            return found.sourceline if found is not None else line

        def read(path: str) -> str | None:
            return _text(element.find(path))

        collection = read("CollectionDetails/Collection")
        year, year_problem = rules.parse_year(read("CollectionDetails/Year"), self.today)
        reference, reference_problem = rules.parse_reference_date(read("CollectionDetails/ReferenceDate"), year)
        # The LEA is checked as written: DfE's schema allows no spaces around it, so none are stripped.
        lea = element.find("Source/LEA")
        lea_problem = rules.check_lea(lea.text if lea is not None else None)
        old_la_code = read("Source/LEA")
        generated_at, generated_problem = rules.parse_generated_at(read("Source/DateTime"))
        self.header = ReturnHeader(collection, year, reference, old_la_code, read("Source/SoftwareCode"), generated_at)
        problems = [
            (rules.check_collection(collection), "CollectionDetails/Collection"),
            (year_problem, "CollectionDetails/Year"),
            (reference_problem, "CollectionDetails/ReferenceDate"),
            (lea_problem, "Source/LEA"),
            (generated_problem, "Source/DateTime"),
        ]
        for finding, path in problems:
            if finding is not None:
                self.add(finding, where(path))
        self._header_repeats(element)
        valid_old_la_code = old_la_code if lea_problem is None else None
        if valid_old_la_code is not None and year is not None:
            missing = rules.check_lea_exists(valid_old_la_code, spec.reference_date(year))
            if missing is not None:
                self.add(missing, where("Source/LEA"))
        for finding in rules.check_expected(valid_old_la_code, year, self.expected_old_la_code, self.expected_year):
            self.add(
                finding,
                where("CollectionDetails/Year" if finding.rule is RuleId.YEAR_MISMATCH else "Source/LEA"),
            )
        self._start_body(line)

    def _header_repeats(self, header: etree._Element) -> None:
        """Header parts given twice: a second of what may appear once, or a second Source's other LEA."""
        reported: set[tuple[str, str]] = set()
        for parent in (header, *header.iterfind("CollectionDetails"), *header.iterfind("Source")):
            for part in rules.HEADER_PARTS_ONCE[str(parent.tag)]:
                found = parent.findall(part)
                if len(found) > 1 and (parent.tag, part) not in reported:
                    reported.add((str(parent.tag), part))
                    self.add(rules.header_repeated(str(parent.tag), part, len(found)), found[1].sourceline)
        sources = header.findall("Source")
        conflict = rules.check_source_leas([_text(source.find("LEA")) or "" for source in sources])
        if conflict is not None:
            self.add(conflict, sources[1].sourceline)

    def _la_block(self, element: etree._Element, tag: str) -> None:
        assert self.ctx is not None
        line = element.sourceline
        expected = spec.la_level_block_name(self.ctx.year)
        self.la_block_seen = True
        if tag != expected:
            self.log.add(
                RuleId.LA_LEVEL_BLOCK,
                (
                    f"For {self.ctx.year} the LA-level block is called {expected}, not {tag} (it was renamed "
                    "LALevel in 2025). Rename it."
                ),
                line=line,
                element=tag,
            )
        self.stage = max(self.stage, 2)
        values = self._read_block(element, _layout("LA-level", self.ctx.year), None)
        for name, value in values.items():
            self.la_level[LA_LEVEL_KEYS[name]] = value

    # -- workers ---------------------------------------------------------------------------------

    def _worker(self, element: etree._Element, parent: etree._Element, root: etree._Element) -> None:
        self.records += 1
        record, line = self.records, element.sourceline
        self._start_body(line)
        if parent is root:
            self.stage = 3
        else:
            self.log.add(
                RuleId.MESSAGE_ORDER,
                (f"This CSWWWorker is inside {parent.tag!r}; CSWWWorker records must sit directly inside Message."),
                line=line,
                record=record,
            )
        assert self.ctx is not None
        values = self._read_block(element, _layout("CSWWWorker", self.ctx.year), record)
        for finding in rules.check_worker(values, self.ctx):
            self.add(finding, self._line_of(element, finding.element, line), record)
        duplicate = self.duplicates.check(values, record, line)
        if duplicate is not None:
            self.add(duplicate, line, record)
        self._add_row(values, record, line)
        # Free the worker and everything before it: the tree never grows past one worker.
        element.clear()
        previous = element.getprevious()
        while previous is not None:
            if parent is root and previous.tag not in _TOP_LEVEL:
                self._unknown_top_level(previous)
            parent.remove(previous)
            previous = element.getprevious()

    @staticmethod
    def _line_of(block: etree._Element, name: str | None, default: int) -> int:
        found = block.find(name) if name else None
        return found.sourceline if found is not None else default

    def _read_block(self, block: etree._Element, layout: _Layout, record: int | None) -> rules.Values:
        """Convert and check each child; absent names stay out of the dict, unreadable values are None.

        This loop runs for every element of every worker, so problems are handed to helpers and the
        path for a good value is kept to a few lookups.
        """
        slots, ctx = layout.slots, self.ctx
        values: rules.Values = {}
        last_index = -1  # specification position of the previous element
        for child in block:
            tag = child.tag
            try:
                slot = slots[tag]
            except KeyError:
                self._unexpected(child, layout, record)
                continue
            index, repeats, convert, check, _, _, _ = slot
            # Compared with the element just before, so one misplaced element is one issue.
            if (
                index <= last_index
                and not (repeats and index == last_index)
                and self._misplaced(child, slot, values, layout, last_index, record)
            ):
                continue
            last_index = index
            text = child.text
            if text is None or not (text := text.strip()):
                value = self._bad_value(child, slot, None, record)
            elif convert is None:
                value = text
            else:
                try:
                    value = convert(text)
                except (KeyError, ValueError):
                    value = self._bad_value(child, slot, text, record)
            if check is not None and value is not None:
                finding = check(value, text, ctx)
                if finding is not None:
                    self.add(finding, child.sourceline, record)
            # Repeats collect into tuples, rows are tuples: tuples of plain values drop out of the
            # garbage collector's tracking, which otherwise costs a fifth of the parse time.
            if not repeats:
                values[tag] = value
            elif value is None:
                values.setdefault(tag, ())
            else:
                values[tag] = (*values.get(tag, ()), value)
        for name in layout.required:
            if name not in values:
                self.log.add(
                    RuleId.MISSING_REQUIRED,
                    rules.missing_required(name, layout.parent),
                    line=block.sourceline,
                    record=record,
                    element=name,
                )
        return values

    def _misplaced(
        self,
        child: etree._Element,
        slot: _Slot,
        values: rules.Values,
        layout: _Layout,
        last_index: int,
        record: int | None,
    ) -> bool:
        """Report an element that repeats or is out of order; True when it must be skipped."""
        name = slot.element.name
        if not slot.repeats and name in values:
            self.log.add(
                RuleId.ELEMENT_REPEATED,
                rules.repeated(name),
                line=child.sourceline,
                record=record,
                element=name,
            )
            return True
        self.log.add(
            RuleId.ELEMENT_ORDER,
            rules.out_of_order(name, layout.names[last_index]),
            line=child.sourceline,
            record=record,
            element=name,
        )
        return False

    def _bad_value(self, child: etree._Element, slot: _Slot, text: str | None, record: int | None) -> None:
        """Report an empty or unreadable value; the value becomes None."""
        name = slot.element.name
        if text is None:
            rule, message, shown = RuleId.EMPTY_VALUE, rules.empty_value(name), None
        else:
            shown = None if name in rules.PERSONAL_ELEMENTS else text
            rule, message = slot.bad_value, slot.explain(text)
        self.log.add(rule, message, line=child.sourceline, record=record, element=name, value=shown)
        return None

    def _unexpected(self, child: etree._Element, layout: _Layout, record: int | None) -> None:
        tag = child.tag
        element = layout.every_year.get(tag)
        assert self.ctx is not None
        if element is not None:
            rule, message = RuleId.ELEMENT_NOT_IN_YEAR, rules.not_in_year(element, self.ctx.year)
        else:
            rule, message = RuleId.UNKNOWN_ELEMENT, rules.unknown_element(tag, layout.parent)
        # Only a known, non-personal element's value is shown: an unknown one could hold anything.
        value = _text(child) if element is not None and tag not in rules.PERSONAL_ELEMENTS else None
        self.log.add(rule, message, line=child.sourceline, record=record, element=tag, value=value)

    # -- batches -----------------------------------------------------------------------------------

    def _add_row(self, values: rules.Values, record: int, line: int) -> None:
        """Queue one worker's row, with SWENo pseudonymised and the birth date cut to its month."""
        swe = values.get("SWENo")
        if swe is not None:
            if self.on_swe_number is not None:
                self.on_swe_number(record, swe)
            values["SWENo"] = self.pseudonymise(swe)
        born = values.get("PersonBirthDate")
        if born is not None:
            values["PersonBirthDate"] = born.replace(day=1)
        self.rows.append((record, line, *map(values.get, _WORKER_TAGS)))
        if len(self.rows) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        columns: list[tuple[object, ...] | list[object]] = list(zip(*self.rows, strict=True))
        self.rows = []
        for index in _LIST_COLUMNS:
            columns[index] = [() if v is None else v for v in columns[index]]
        arrays = [pa.array(column, type=f.type) for column, f in zip(columns, WORKER_SCHEMA, strict=True)]
        self.on_batch(pa.Table.from_arrays(arrays, schema=WORKER_SCHEMA))


def parse_return(
    path: Path,
    *,
    expected_old_la_code: str | None,
    expected_year: int | None,
    pseudonymise: Callable[[str], str],
    on_batch: Callable[[pa.Table], None],
    batch_size: int = 20_000,
    on_swe_number: Callable[[int, str], None] | None = None,
) -> ParseOutcome:
    """Read one CSWW return, calling `on_batch` with at most `batch_size` worker rows at a time.

    `expected_old_la_code` and `expected_year` are where the file sits in the landing zone; the Header is
    what counts, and any difference is reported as an error. Never raises for bad input: problems
    are Issues in the outcome, and batches already sent must be discarded unless `outcome.ok`.

    `on_swe_number(record, SWENo)` is for the council's own copy of a report only (`workforce
    validate`): the SWE number never goes into the batches, nor anywhere the warehouse keeps.
    """
    reader = _ReturnReader(
        Path(path), expected_old_la_code, expected_year, pseudonymise, on_batch, batch_size, on_swe_number
    )
    return reader.run()
