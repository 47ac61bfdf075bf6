"""Subscriber lists as CSV: read with every bad row reported, written for export.

The importer takes a file with an ``email`` column (and optionally ``status``),
or, without a header row, addresses in the first column. A row that cannot be
used is reported with its line number and skipped; the good rows still count.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from digest.errors import InputError
from digest.store.subscribers import STATUSES, Subscriber, normalize_email

EXPORT_COLUMNS = (
    "email",
    "status",
    "created_at",
    "updated_at",
    "confirmed_at",
    "unsubscribed_at",
    "hard_failures",
)


@dataclass(frozen=True)
class CsvRows:
    rows: tuple[tuple[str, str], ...]  # (normalized email, status), first occurrence of each
    problems: tuple[str, ...]  # "FILE:LINE: why", one per skipped row


def read_subscribers(path: Path, default_status: str) -> CsvRows:
    """Parse ``path``; raises InputError only when the file as a whole is unusable."""
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_subscribers(text, default_status, str(path))


def parse_subscribers(text: str, default_status: str, name: str = "<csv>") -> CsvRows:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    email_col, status_col = 0, None
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            lowered = [c.strip().lower() for c in cells]
            if not rows and not problems and "email" in lowered:
                email_col = lowered.index("email")
                status_col = lowered.index("status") if "status" in lowered else None
                continue
            if email_col >= len(cells):
                problems.append(f"{name}:{line}: no email column")
                continue
            try:
                email = normalize_email(cells[email_col])
            except InputError as exc:
                problems.append(f"{name}:{line}: {exc}")
                continue
            status = default_status
            if status_col is not None and status_col < len(cells) and cells[status_col].strip():
                status = cells[status_col].strip().lower()
                if status not in STATUSES:
                    problems.append(
                        f"{name}:{line}: unknown status '{cells[status_col].strip()[:40]}' "
                        f"(one of {', '.join(STATUSES)})"
                    )
                    continue
            if email.lower() in seen:
                problems.append(f"{name}:{line}: {email} appears earlier in the file")
                continue
            seen.add(email.lower())
            rows.append((email, status))
    except csv.Error as exc:
        problems.append(f"{name}:{reader.line_num}: unreadable CSV ({exc}); the rest was skipped")
    return CsvRows(tuple(rows), tuple(problems))


def write_subscribers(out: TextIO, subscribers: Iterable[Subscriber]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for s in subscribers:
        writer.writerow(
            [getattr(s, c) if getattr(s, c) is not None else "" for c in EXPORT_COLUMNS]
        )
        count += 1
    return count
