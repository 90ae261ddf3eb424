"""Boolean stack settings of the program (`aep-pipelines:<key>: true|false`), read one way."""

from __future__ import annotations

from typing import Any


def bool_setting(value: Any, key: str, error: type[ValueError], default: bool = True) -> bool:
    """A raw config value as a bool: unset (or blank) is `default`; anything but true/false is
    `error`, naming the key and the commands that fix it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise error(f"{key} must be true or false, got {value!r}: set it with `pulumi config set {key} false` (or "
                f"`true`), or remove it (`pulumi config rm {key}`) for the default, {str(default).lower()}")
