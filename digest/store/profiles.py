"""Reader profiles, their seed papers, feedback and fitted models (personal digests).

A profile belongs to a subscriber (key ``subscriber:EMAIL``) or, for operators ranking from
the CLI, only has a name (key ``name:NAME``). Its seed papers are stored with it (an uploaded
BibTeX file is not kept), and its ``revision`` digests the profile and the seeds: the fitted
model is stored with the revision it was fitted for, and refitted only when that changes.
Feedback rows (one per subscriber and paper, the latest vote wins) are also folded into the
profile's ``liked_ids`` / ``disliked_ids``, so they change the revision too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from digest.errors import InputError
from digest.models import Paper
from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        subscriber_id INTEGER UNIQUE REFERENCES subscribers(id) ON DELETE CASCADE,
        profile TEXT NOT NULL,
        revision TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE profile_seeds (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        paper_id TEXT NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL,
        authors TEXT NOT NULL,
        categories TEXT NOT NULL,
        PRIMARY KEY (profile_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE profile_models (
        profile_id INTEGER PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
        revision TEXT NOT NULL,
        model BLOB NOT NULL,
        fitted_at TEXT NOT NULL
    );
    CREATE TABLE feedback (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        date TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID
    """
]


@dataclass(frozen=True)
class StoredProfile:
    id: int
    key: str
    subscriber_id: int | None
    toml: str  # the profile as TOML (digest.personal.profile.profile_from_toml reads it)
    revision: str
    updated_at: str


def subscriber_key(email: str) -> str:
    return f"subscriber:{email}"


def name_key(name: str) -> str:
    return f"name:{name}"


def seeds_revision(profile_toml: str, seeds: Sequence[Paper]) -> str:
    """The digest of a profile and its seed papers that decides when its model is refitted."""
    payload = json.dumps(
        [profile_toml, [(p.id, p.title, p.abstract, list(p.categories)) for p in seeds]]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stored(row: sqlite3.Row) -> StoredProfile:
    return StoredProfile(
        row["id"],
        row["key"],
        row["subscriber_id"],
        row["profile"],
        row["revision"],
        row["updated_at"],
    )


class ProfilesMixin:
    conn: sqlite3.Connection

    # ------------------------------------------------------------ profiles

    def save_profile(
        self,
        key: str,
        profile_toml: str,
        seeds: Sequence[Paper] | None,
        subscriber_id: int | None = None,
    ) -> StoredProfile:
        """Insert or replace the profile ``key``; ``seeds`` None keeps the stored seeds."""
        now = _now()
        with transaction(self.conn):
            row = self.conn.execute("SELECT id FROM profiles WHERE key = ?", (key,)).fetchone()
            if seeds is None:
                seeds = self.profile_seeds(row["id"]) if row else []
            revision = seeds_revision(profile_toml, seeds)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO profiles(key, subscriber_id, profile, revision, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, subscriber_id, profile_toml, revision, now),
                )
                pid = int(cur.lastrowid or 0)
            else:
                pid = row["id"]
                self.conn.execute(
                    "UPDATE profiles SET profile = ?, revision = ?, updated_at = ? WHERE id = ?",
                    (profile_toml, revision, now, pid),
                )
            self.conn.execute("DELETE FROM profile_seeds WHERE profile_id = ?", (pid,))
            self.conn.executemany(
                "INSERT INTO profile_seeds VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        pid,
                        i,
                        p.id,
                        p.title,
                        p.abstract,
                        json.dumps(p.authors),
                        json.dumps(p.categories),
                    )
                    for i, p in enumerate(seeds)
                ],
            )
            found = self.conn.execute("SELECT * FROM profiles WHERE id = ?", (pid,)).fetchone()
        return _stored(found)

    def save_subscriber_profile(
        self, email: str, profile_toml: str, seeds: Sequence[Paper] | None
    ) -> StoredProfile:
        """The profile of the subscriber ``email`` (who must exist)."""
        row = self.conn.execute(
            "SELECT id, email FROM subscribers WHERE email = ?", (email,)
        ).fetchone()
        if row is None:
            raise InputError(
                f"{email} is not a subscriber (add them first: digest subscribers add {email})"
            )
        return self.save_profile(subscriber_key(row["email"]), profile_toml, seeds, row["id"])

    def stored_profile(self, key: str) -> StoredProfile | None:
        row = self.conn.execute("SELECT * FROM profiles WHERE key = ?", (key,)).fetchone()
        return _stored(row) if row else None

    def subscriber_profile(self, email: str) -> StoredProfile | None:
        row = self.conn.execute(
            "SELECT p.* FROM profiles p JOIN subscribers s ON s.id = p.subscriber_id "
            "WHERE s.email = ?",
            (email,),
        ).fetchone()
        return _stored(row) if row else None

    def delete_profile(self, key: str) -> bool:
        with transaction(self.conn):
            cur = self.conn.execute("DELETE FROM profiles WHERE key = ?", (key,))
        return cur.rowcount > 0

    def profile_seeds(self, profile_id: int) -> list[Paper]:
        rows = self.conn.execute(
            "SELECT paper_id, title, abstract, authors, categories FROM profile_seeds "
            "WHERE profile_id = ? ORDER BY position",
            (profile_id,),
        )
        return [
            Paper(
                id=r[0],
                title=r[1],
                abstract=r[2],
                authors=tuple(json.loads(r[3])),
                categories=tuple(json.loads(r[4])),
            )
            for r in rows
        ]

    def confirmed_profiles(self, batch: int = 1000) -> Iterator[tuple[str, StoredProfile]]:
        """(email, profile) of every confirmed subscriber with a profile, in id order."""
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT s.email, p.* FROM profiles p JOIN subscribers s ON s.id = p.subscriber_id "
                "WHERE s.status = 'confirmed' AND p.id > ? ORDER BY p.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield r["email"], _stored(r)
            last = rows[-1]["id"]

    # ------------------------------------------------------------ fitted models

    def profile_model(self, profile_id: int, revision: str) -> bytes | None:
        """The stored model of ``profile_id`` if it was fitted for ``revision``."""
        row = self.conn.execute(
            "SELECT model FROM profile_models WHERE profile_id = ? AND revision = ?",
            (profile_id, revision),
        ).fetchone()
        return bytes(row[0]) if row else None

    def save_profile_model(self, profile_id: int, revision: str, model: bytes) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO profile_models(profile_id, revision, model, fitted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(profile_id) DO UPDATE SET revision = excluded.revision, "
                "model = excluded.model, fitted_at = excluded.fitted_at",
                (profile_id, revision, model, _now()),
            )

    # ------------------------------------------------------------ feedback

    def record_feedback(self, email: str, paper_id: str, vote: int, day: dt.date) -> None:
        """ "More like this" (vote 1) or "Fewer like this" (-1) from ``email`` on ``paper_id``,
        shown in the digest of ``day``. A later vote on the same paper replaces the earlier."""
        if vote not in (-1, 1):
            raise InputError(f"a vote is 1 or -1, not {vote}")
        row = self.conn.execute("SELECT id FROM subscribers WHERE email = ?", (email,)).fetchone()
        if row is None:
            raise InputError(f"{email} is not a subscriber")
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO feedback(subscriber_id, paper_id, vote, date, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(subscriber_id, paper_id) DO UPDATE SET vote = excluded.vote, "
                "date = excluded.date, at = excluded.at",
                (row["id"], paper_id, vote, day.isoformat(), _now()),
            )

    def feedback(self, email: str) -> list[tuple[str, int, dt.date]]:
        """(paper id, vote, day) of every vote of ``email``, oldest first."""
        rows = self.conn.execute(
            "SELECT f.paper_id, f.vote, f.date FROM feedback f JOIN subscribers s "
            "ON s.id = f.subscriber_id WHERE s.email = ? ORDER BY f.at, f.paper_id",
            (email,),
        )
        return [(r[0], int(r[1]), dt.date.fromisoformat(r[2])) for r in rows]

    # ------------------------------------------------------------ papers for ranking

    def papers_by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """The stored papers among ``ids`` (latest fields), for resolving seed ids."""
        return self._papers_as_of(set(ids), "9999-12-31")  # type: ignore[attr-defined]

    def negative_sample(self, before: dt.date, days: int, limit: int) -> list[Paper]:
        """Up to ``limit`` papers listed in the ``days`` days before ``before``, newest days
        first: what a reader was not shown interest in, the negatives of a profile's model."""
        start = before - dt.timedelta(days=days)
        found = self.papers_by_day(start, before - dt.timedelta(days=1))  # type: ignore[attr-defined]
        out: list[Paper] = []
        seen: set[str] = set()
        for day in sorted(found, reverse=True):
            for p in found[day]:
                if p.id not in seen:
                    seen.add(p.id)
                    out.append(p)
                    if len(out) >= limit:
                        return out
        return out
