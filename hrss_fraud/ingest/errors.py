"""Why an upload cannot be ingested at all, as a reason code plus a one-line message.

The reason codes are stable strings: the pipeline records them in the ingest log and the
dashboard translates them, so never rename one (add new ones instead).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class Reason(StrEnum):
    """Reason codes for a rejected upload (a ``StrEnum``: each compares equal to its string)."""

    NOT_FOUND = "not_found"
    NOT_A_FILE = "not_a_file"
    EMPTY_FILE = "empty_file"
    NO_ROWS = "no_rows"
    UNKNOWN_LAYOUT = "unknown_layout"
    MIXED_ENCODING = "mixed_encoding"
    UNDECODABLE = "undecodable"
    RAGGED_ROW = "ragged_row"
    DUPLICATE_COLUMN = "duplicate_column"
    BAD_CSV = "bad_csv"
    CORRUPT_XLSX = "corrupt_xlsx"
    ENCRYPTED_XLSX = "encrypted_xlsx"
    BAD_JSON = "bad_json"
    BAD_PARQUET = "bad_parquet"
    UNSUPPORTED_FORMAT = "unsupported_format"
    PATH_ESCAPES_INBOX = "path_escapes_inbox"


NOT_FOUND = Reason.NOT_FOUND
NOT_A_FILE = Reason.NOT_A_FILE
EMPTY_FILE = Reason.EMPTY_FILE
NO_ROWS = Reason.NO_ROWS
UNKNOWN_LAYOUT = Reason.UNKNOWN_LAYOUT
MIXED_ENCODING = Reason.MIXED_ENCODING
UNDECODABLE = Reason.UNDECODABLE
RAGGED_ROW = Reason.RAGGED_ROW
DUPLICATE_COLUMN = Reason.DUPLICATE_COLUMN
BAD_CSV = Reason.BAD_CSV
CORRUPT_XLSX = Reason.CORRUPT_XLSX
ENCRYPTED_XLSX = Reason.ENCRYPTED_XLSX
BAD_JSON = Reason.BAD_JSON
BAD_PARQUET = Reason.BAD_PARQUET
UNSUPPORTED_FORMAT = Reason.UNSUPPORTED_FORMAT
PATH_ESCAPES_INBOX = Reason.PATH_ESCAPES_INBOX


class UploadError(Exception):
    """A file that cannot be ingested at all. ``str(e)`` is one line: '<path>: <what> (<reason>)'.

    ``message`` says what was wrong in words an operator can act on; ``line`` (1-based
    physical line, Excel row or array index) says where, when it is known.
    """

    def __init__(self, path: Path, reason: str, message: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = str(reason)
        # One line always: a message quoting file content must not break log lines.
        self.message = " ".join(str(message).split())
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" at line {self.line}" if self.line is not None else ""
        return f"{self.path}: {self.message}{where} ({self.reason})"

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the exception picklable (multiprocessing workers send it back).
        return (_rebuild, (self.path, self.reason, self.message, self.line))


def _rebuild(path: Path, reason: str, message: str, line: int | None) -> UploadError:
    return UploadError(path, reason, message, line=line)
