"""The HOT versions Heat knows, by date and by release name.

cool accepts every one of them and applies the same subset to all, except
for intrinsic functions, which follow Heat's per-version tables
(cool.template.hot_functions.AVAILABLE).
"""

from __future__ import annotations

# Heat's HOT versions, oldest first, with the release that introduced each.
VERSIONS: dict[str, str | None] = {
    "2013-05-23": None,
    "2014-10-16": "juno",
    "2015-04-30": "kilo",
    "2015-10-15": "liberty",
    "2016-04-08": "mitaka",
    "2016-10-14": "newton",
    "2017-02-24": "ocata",
    "2017-09-01": "pike",
    "2018-03-02": "queens",
    "2018-08-31": "rocky",
    "2021-04-16": "wallaby",
}

# Heat accepts release names as aliases from newton on.
ALIASES: dict[str, str] = {
    name: date for date, name in VERSIONS.items() if date >= "2016-10-14" and name
}


def canonical(version: object) -> str | None:
    """The date form of a known HOT version, or None when it is not one."""
    if not isinstance(version, str):
        return None
    if version in VERSIONS:
        return version
    return ALIASES.get(version)


def known() -> list[str]:
    return [*VERSIONS, *ALIASES]


def older(version: str, than: str) -> bool:
    """Whether HOT ``version`` (a date) came before ``than``: ISO dates sort by age."""
    return version < than


def label(version: str) -> str:
    """A date as people know it: ``2016-10-14 (newton)``."""
    name = VERSIONS.get(version)
    return f"{version} ({name})" if name else version
