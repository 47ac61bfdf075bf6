"""Personal digests: reader profiles, seed libraries and per-reader ranking (issue 11).

* :mod:`.profile` — the frozen ``Profile`` and its TOML form;
* :mod:`.seeds` — seed libraries (arXiv ids, listings, BibTeX, RIS, CSL-JSON);
* :mod:`.features` — the TF-IDF space every profile is ranked in (hashed, fixed width);
* :mod:`.rank` — fitting a profile's model and ranking a day for one or many profiles.

Nothing heavy is imported here: ``digest recommend`` must start fast (docs/personal.md).
"""
