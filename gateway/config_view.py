"""The effective configuration as an operator may see it: secrets masked, digests per adapter.

``hedui config check`` prints :func:`effective_config`; the gateway records an
``AdapterConfigChanged`` audit leaf when :func:`adapter_digests` differs from the last recorded
digest of a source. Masking: any key that names a secret (password, token, secret, Authorization,
API key, cookie, credential) has its value replaced by ``***``, and so has the password part of
every URL or DSN (``postgresql://user:***@host/db``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import rfc8785

from gateway.config import Settings
from gateway.logging import mask_id_numbers
from gateway.registry import LoadedAdapter

__all__ = ["MASK", "adapter_config", "adapter_digests", "effective_config", "mask", "mask_url"]

MASK = "***"
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|api[-_]?key|cookie|credential", re.I
)
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^@/\s]*)@")


def mask_url(text: str) -> str:
    """``text`` with the password of a URL / DSN replaced by ``***`` (other text unchanged)."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)


def mask(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like ``value`` with every secret masked."""
    if key and _SECRET_KEY.search(key) and value not in ("", None, {}, []):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):  # URLs lose their passwords; resident ID numbers are masked
        return mask_id_numbers(mask_url(value))
    return value


def _plain(value: object) -> str:
    """How a non-JSON value in the settings (a test transport, say) is shown: its type."""
    return f"<{type(value).__name__}>"


def effective_config(settings: Settings) -> dict[str, Any]:
    """Every setting, defaults included, secrets masked."""
    dumped: dict[str, Any] = settings.model_dump(mode="json", fallback=_plain)
    return dict(mask(dumped))


def adapter_config(settings: Settings, item: LoadedAdapter) -> dict[str, Any]:
    """One source's effective configuration (masked): its settings, kind and distribution."""
    name = item.adapter.name
    own: dict[str, Any] = settings.adapter(name).model_dump(mode="json", fallback=_plain)
    sources = getattr(settings, "sources", {})
    if name in sources:
        own["source"] = sources[name].model_dump(mode="json", fallback=_plain)
    own.update(kind=item.kind, distribution=item.distribution, version=item.version)
    return dict(mask(own))


def adapter_digests(settings: Settings, items: Sequence[LoadedAdapter]) -> dict[str, str]:
    """SHA-256 (hex) of each source's masked effective configuration, in RFC 8785 form."""
    return {
        item.adapter.name: hashlib.sha256(rfc8785.dumps(adapter_config(settings, item))).hexdigest()
        for item in items
    }
