"""Module-level ``__getattr__``/``__dir__`` that import public names on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any


def lazy_loader(
    module: str,
    targets: Mapping[str, str],
    public: Sequence[str],
    namespace: MutableMapping[str, Any],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package ``module``.

    ``targets`` maps a public name to ``"package.module:attr"`` (or a bare module path for
    a submodule); ``namespace`` is the package's ``globals()``, where each loaded value is
    cached so later lookups skip ``__getattr__``.
    """

    def module_getattr(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        module_name, _, attr = target.partition(":")
        loaded = importlib.import_module(module_name)
        value = getattr(loaded, attr) if attr else loaded
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted(set(namespace) | set(public))

    return module_getattr, module_dir
