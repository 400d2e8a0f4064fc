"""`async def` tests without an extra pytest plugin (Textual's Pilot is async).

Provides the `pytest_pyfunc_call` hook that runs a coroutine test function in a fresh event loop.
A conftest.py that has async tests below it imports it (`from async_tests import pytest_pyfunc_call`):
pytest registers hooks found in a conftest module, imported ones too, for that folder only.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None
