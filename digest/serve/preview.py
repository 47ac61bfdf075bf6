"""Screenshots of the preferences page (what ``make screenshots`` runs after the email's).

``python -m digest.serve.preview FOLDER`` builds the page with the real app (a throwaway
database and signing secret in a temporary folder, one subscriber with a sample profile),
writes ``FOLDER/preferences.html`` and shoots it at 375 and 1000 px in headless chromium
(:mod:`digest.render.screenshots`): ``FOLDER/screenshots/preferences-375.png`` and ``-1000``.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from digest.errors import DigestError

WIDTHS = (375, 1000)
SAMPLE_PROFILE = """name = "reader@example.org"
keywords = ["mechanism design", "auctions"]
exclude = ["survey"]
categories = ["cs.GT", "econ.TH"]
seed_ids = ["2501.01234", "2502.04321"]
"""


def preferences_html() -> str:
    """The preferences page of a sample subscriber, as ``digest serve`` answers it."""
    from digest.config import load_config
    from digest.deliver.tokens import Links
    from digest.serve import create_app
    from digest.store import Store

    with tempfile.TemporaryDirectory(prefix="digest-preview-") as folder:
        root = Path(folder)
        (root / "digest.toml").write_text(
            f'site_url = "https://digest.example.org/"\noutput_dir = "{root / "out"}"\n'
            f'database = "{root / "db.sqlite"}"\n[serve]\nsecret_env = "DIGEST_PREVIEW_SECRET"\n'
        )
        os.environ["DIGEST_PREVIEW_SECRET"] = secrets.token_urlsafe(32)
        config = load_config(root / "digest.toml")
        with Store.open(config.database_path) as store:
            store.add_subscriber("reader@example.org", "confirmed")
            store.save_subscriber_profile("reader@example.org", SAMPLE_PROFILE, [])
        token = Links.from_config(config).preferences_token("reader@example.org")
        # the preview has no SMTP settings on purpose: the app's warning about it is noise here
        logging.getLogger("digest.serve").setLevel(logging.ERROR)
        reply = create_app(config).test_client().get(f"/preferences?token={token}")
        if reply.status_code != 200:
            raise DigestError(f"the preferences page answered {reply.status_code}")
        return reply.get_data(as_text=True)


def main(argv: Sequence[str] | None = None) -> int:
    from digest.render.screenshots import screenshots

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m digest.serve.preview FOLDER", file=sys.stderr)
        return 2
    try:
        folder = Path(args[0])
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / "preferences.html"
        page.write_text(preferences_html(), encoding="utf-8")
        for png in screenshots(page, WIDTHS):
            print(png)
    except DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
