"""The checks every section shares: one whole-number range, URLs, origins, CIDRs and database URLs, and the reading
of a structured key's JSON object. Each adds one line per bad value to `Errors`, or says why a value is refused."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from settings.errors import Errors
from settings.model import DATABASE_PASSWORD_KEY, MOVED, NAMESPACE

_DB_URL_PATH = re.compile(r"^/[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


def parse_json(raw: Any) -> Any:
    """A structured key's value: Pulumi hands objects to the program as JSON text."""
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return raw


def read_object(errors: Errors, key: str, raw: Any, model: type) -> dict[str, Any]:
    """A structured key's JSON object, with unknown sub-keys reported."""
    if raw is None:
        return {}
    value = parse_json(raw)
    if not isinstance(value, dict):
        errors.add(key, value, "allowed: an object of settings")
        return {}
    known = set(model.__dataclass_fields__)
    for sub in sorted(set(value) - known):
        moved = MOVED.get(f"{key}.{sub}")
        hint = f"moved to {NAMESPACE}:{moved}" if moved else f"unknown key; allowed: {', '.join(sorted(known))}"
        errors.add(f"{key}.{sub}", value[sub], hint)
    return {k: v for k, v in value.items() if k in known}


def read_bool(errors: Errors, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    errors.add(key, value, "allowed: true or false")
    return False


def whole_number(errors: Errors, key: str, value: Any, low: int, high: int, unit: str = "", note: str = "") -> bool:
    """Whether `value` is a whole number from `low` to `high`; if not, one line says so, naming the `unit` counted
    (days) and a `note` on the range."""
    # A bool is an int in Python: `true` must not pass as 1.
    if not isinstance(value, bool) and isinstance(value, int) and low <= value <= high:
        return True
    counted = f" of {unit}" if unit else ""
    errors.add(key, value, f"allowed: a whole number{counted} from {low} to {high}{f' {note}' if note else ''}")
    return False


def check_all(errors: Errors, section: str, values: dict, checks: dict[str, Callable[[Any], str | None]]) -> None:
    for key, check in checks.items():
        if key in values and (problem := check(values[key])):
            errors.add(f"{section}.{key}", values[key], problem)


def one_of(allowed: Sequence[str]) -> Callable[[Any], str | None]:
    return lambda x: None if x in allowed else f"allowed: {', '.join(allowed)}"


def matches(pattern: re.Pattern, allowed: str) -> Callable[[Any], str | None]:
    return lambda x: None if isinstance(x, str) and pattern.match(x) else f"allowed: {allowed}"


def url_problem(value: str, production: bool) -> str | None:
    """Why `value` is not an absolute http(s) URL without query or fragment, or None if it is."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "allowed: an absolute http:// or https:// URL"
    if parts.query or parts.fragment:
        return "allowed: a URL without ?query or #fragment"
    if production and parts.scheme != "https" and not is_loopback(parts.hostname):
        return "allowed: https:// only in a production stack"
    return None


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def origin_problem(value: str, production: bool) -> str | None:
    """Why `value` is not a browser origin (scheme://host[:port]) a CORS allow-list may hold."""
    if value == "*":
        return "allowed: explicit origins; a wildcard is refused in a production stack" if production else None
    if "*" in value:
        # CORS and frame-ancestors lists here are exact: a partial wildcard would match nothing, or too much.
        return "allowed: exact origins such as https://portal.example.org (no partial wildcard)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return "allowed: an origin such as https://viewer.example.org (scheme and host, no path or slash)"
    if production and parts.scheme != "https":
        return "allowed: https:// origins only in a production stack"
    return None


def read_origins(errors: Errors, key: str, origins: Any, production: bool) -> tuple[str, ...]:
    if not isinstance(origins, list):
        errors.add(key, origins, "allowed: a list of origins")
        return ()
    for i, origin in enumerate(origins):
        if problem := origin_problem(str(origin), production):
            errors.add(f"{key}[{i}]", origin, problem)
    return tuple(str(o) for o in origins)


def read_networks(errors: Errors, key: str, value: Any) -> tuple[str, ...]:
    """CIDRs, each normalised (a bare address is its /32 or /128); one that admits everyone is refused."""
    if not isinstance(value, list):
        errors.add(key, value, "allowed: a list of CIDRs such as [203.0.113.0/24, 2001:db8::/48]")
        return ()
    networks: list[str] = []
    cidr = "allowed: an IPv4 or IPv6 network in CIDR form, such as 203.0.113.0/24 or 2001:db8::/48"
    for i, item in enumerate(value):
        at = f"{key}[{i}]"
        try:
            network = ipaddress.ip_network(item, strict=True) if isinstance(item, str) else None
        except ValueError:
            network = None
            try:
                errors.add(at, item, f"{cidr}; its host bits are set: did you mean "
                                     f"{ipaddress.ip_network(item, strict=False)}?")
            except ValueError:
                errors.add(at, item, cidr)
            continue
        if network is None:
            errors.add(at, item, cidr)
        elif network.prefixlen == 0:
            errors.add(at, item, "admits every address: to serve anyone, say so with access.public: true "
                                 "(de-identified data only)")
        elif network.with_prefixlen in networks:
            errors.add(at, item, "allowed: each network once")
        else:
            networks.append(network.with_prefixlen)
    return tuple(networks)


def database_url_problem(value: Any) -> str | None:
    """Why `value` is not a PostgreSQL URL naming a user, a host and a database, and no password, or None."""
    parts = urlsplit(value) if isinstance(value, str) else None
    try:
        _ = parts and parts.port  # urlsplit parses the port when it is read: a bad one raises here
    except ValueError:
        parts = None
    if not (parts and parts.scheme == "postgresql" and parts.hostname and parts.username and not parts.password
            and _DB_URL_PATH.match(parts.path) and not parts.query and not parts.fragment):
        return ("allowed: postgresql://<user>@<host>[:port]/<database>, without the password (it goes in the secret "
                f"{NAMESPACE}:{DATABASE_PASSWORD_KEY})")
    return None
