"""A widget's styles in a `.tcss` file beside its module, as screens keep theirs.

Textual reads a screen's stylesheet from `CSS_PATH`, but a widget's only from `DEFAULT_CSS`: the
file is read into it once, at import. So every style sits next to the code it styles, in a file
editors highlight as TCSS, and stays a default that an app's or screen's stylesheet overrides.
"""

from __future__ import annotations

from pathlib import Path


def tcss_beside(module_file: str) -> str:
    """The text of the `.tcss` file named as the module (`sidebar.py` -> `sidebar.tcss`)."""
    return Path(module_file).with_suffix(".tcss").read_text(encoding="utf-8")
