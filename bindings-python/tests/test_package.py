"""The installed package: typed (py.typed and the native module's stubs), abi3, versioned."""

from __future__ import annotations

from pathlib import Path

import messagedb
import messagedb._native


def test_the_package_is_typed() -> None:
    package = Path(messagedb.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_native.pyi").is_file()


def test_the_native_module_is_abi3() -> None:
    assert Path(messagedb._native.__file__ or "").name.endswith(".abi3.so")


def test_everything_is_exported() -> None:
    for name in messagedb.__all__:
        assert hasattr(messagedb, name), name
    assert messagedb.__version__.count(".") == 2
