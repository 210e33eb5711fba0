"""A declarative HTTP-JSON source: endpoint, method, body template and field mapping; no code.

The body template is JSON (a TOML table in the file). A string that is exactly a placeholder —
``"{id_numbers}"``, ``"{as_of}"``, ``"{request_id}"``, ``"{purpose}"``,
``"{authorization_ref}"`` — is replaced by the value (a list for ``id_numbers``); placeholders
inside longer strings are replaced as text. Without a template the shared department request is
sent. For ``method = "GET"`` the filled template becomes the query string. HTTP errors are
translated as for the built-in adapters (401/403 DENIED, 404 NOT_FOUND, 429 throttled, 502/503/504
retried).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx

from adapters._http import _tls_context, send
from adapters._transport import AiohttpTransport
from adapters.base import MalformedAnswer, RawAnswer, SourceQuery, SourceTimeout
from adapters.declarative._mapping import convert, decode_records, parse, read_path
from adapters.declarative._spec import FieldSpec, HttpJsonSourceSpec
from adapters.records import Record

__all__ = ["HttpJsonSource", "fill_template"]

DEFAULT_BODY: dict[str, Any] = {
    "request_id": "{request_id}",
    "id_numbers": "{id_numbers}",
    "as_of": "{as_of}",
    "purpose": "{purpose}",
    "authorization_ref": "{authorization_ref}",
}


def _values(query: SourceQuery) -> dict[str, Any]:
    return {
        "request_id": query.request_id,
        "id_numbers": [s.id_number for s in query.subjects],
        "as_of": query.as_of.isoformat(),
        "purpose": query.purpose,
        "authorization_ref": query.authorization_ref,
    }


def fill_template(template: Any, values: dict[str, Any]) -> Any:
    """The template with every placeholder replaced (structure kept, no string building)."""
    if isinstance(template, dict):
        return {k: fill_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_template(v, values) for v in template]
    if isinstance(template, str):
        for name, value in values.items():
            token = "{" + name + "}"
            if template == token:
                return value
            if token in template and isinstance(value, str):
                template = template.replace(token, value)
    return template


class HttpJsonSource:
    """An :class:`~adapters.base.Adapter` built from a :class:`HttpJsonSourceSpec`."""

    def __init__(
        self,
        name: str,
        spec: HttpJsonSourceSpec,
        base_url: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name, self.spec = name, spec
        self.category, self.department = spec.category, spec.department
        self._client = httpx.AsyncClient(
            base_url=base_url,
            # aiohttp's pool, as for the built-in adapters (why: adapters._transport)
            transport=transport or AiohttpTransport(_tls_context()),
            headers={"Accept": "application/json", **spec.headers},
            verify=_tls_context(),
        )

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """Send the filled template; the exact answer bytes, or an AdapterError."""
        if query.timeout_s <= 0:
            raise SourceTimeout(f"{self.department}: no time left to ask")
        body = fill_template(self.spec.body or DEFAULT_BODY, _values(query))
        response = await send(self.department, query.timeout_s, self._send(body, query))
        department, as_of = self._peek(response.content)
        content_type = response.headers.get("content-type", "application/json")
        return RawAnswer(
            body=response.content, content_type=content_type, department=department, as_of=as_of
        )

    async def _send(self, body: Any, query: SourceQuery) -> httpx.Response:
        """The 2xx response to the filled template; HTTPStatusError for any other status."""
        headers = {"X-Request-Id": query.request_id}
        if self.spec.method == "GET":
            response = await self._client.get(
                self.spec.endpoint, params=body, headers=headers, timeout=query.timeout_s
            )
        else:
            response = await self._client.post(
                self.spec.endpoint,
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={**headers, "Content-Type": "application/json"},
                timeout=query.timeout_s,
            )
        return response.raise_for_status()

    def _peek(self, body: bytes) -> tuple[str, date | None]:
        """The department's own name and as-of date, when configured and present."""
        try:
            doc = parse(body)
            return self._department_of(doc), self._as_of(doc)
        except MalformedAnswer:
            return self.department, None

    def _department_of(self, doc: dict[str, Any]) -> str:
        if not self.spec.department_path:
            return self.department
        return str(read_path((doc, "$", ()), self.spec.department_path)[0])

    def _as_of(self, doc: dict[str, Any]) -> date | None:
        if not self.spec.as_of:
            return None
        value, where = read_path((doc, "$", ()), self.spec.as_of)
        day: date = convert(value, "date", FieldSpec(path=self.spec.as_of, type="date"), where)
        return day

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """The mapped records (pure); MalformedAnswer names the JSON path of any mismatch."""
        doc = parse(raw)
        self._department_of(doc)  # the envelope is checked as configured …
        self._as_of(doc)
        return decode_records(self.spec, doc, self.spec.items)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
