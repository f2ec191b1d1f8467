"""Reading the tables merchants upload: a CSV as Excel or a platform's backend saves it (UTF-8 with
or without BOM, or GB18030 from a Chinese Windows), or the first sheet of an XLSX workbook.

Rows come one at a time as lists of text, so a 50,000-row workbook is never held whole beside the
upload: openpyxl's read-only mode streams the sheet's XML.
"""

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

XLSX_MAGIC = b"PK\x03\x04"
# Beyond 15 significant digits a spreadsheet number has lost digits; an order number that was
# stored as such a number cannot be read back.
EXACT_DIGITS = 15
# What Excel shows for a long number in a CSV it saved: 1.23457E+17.
SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+")


class Unreadable(Exception):
    """Not a CSV in a known encoding, nor an XLSX workbook."""


def rows(raw: bytes) -> Iterator[list[str]]:
    """Each row of the table as text cells, the header row first."""
    if raw.startswith(XLSX_MAGIC):
        return _xlsx_rows(raw)
    return csv.reader(io.StringIO(_decode(raw)))


def text(cell: str) -> str:
    """A cell as the merchant meant it: `="0123"` (Excel's way to keep a number as text), a leading
    apostrophe or tab (other ways to say the same) and surrounding spaces taken off."""
    cell = cell.strip()
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1].strip()
    return cell.lstrip("'\t").strip()


def mangled(cell: str) -> bool:
    """True for a number Excel turned into scientific notation (1.23457E+17): its digits are gone."""
    return bool(SCIENTIFIC.fullmatch(cell))


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise Unreadable() from None


def _xlsx_rows(raw):
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise Unreadable() from None
    try:
        yield from _sheet_rows(book)
    except Exception:  # whatever the reader trips over in a damaged workbook: not ours to crash on
        raise Unreadable() from None
    finally:
        book.close()


def _sheet_rows(book):
    width = None
    for values in book.worksheets[0].iter_rows(values_only=True):
        cells = [_cell_text(v) for v in values]
        # A sheet has no ragged rows: an empty cell is simply not there. Each row is as wide as
        # the header, wider only where something stands past it.
        while cells and not cells[-1] and (width is None or len(cells) > width):
            cells.pop()
        width = len(cells) if width is None else width
        yield cells + [""] * (width - len(cells))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 10**EXACT_DIGITS:
            return str(int(value))
        if value.is_integer():
            return f"{value:.5E}"  # as Excel would show it: the digits past 15 are lost
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
