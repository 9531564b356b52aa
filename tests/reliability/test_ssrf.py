"""Item 16, SSRF: connector base URLs naming private addresses are refused, in every spelling,
before any socket reaches them; redirects and DNS names resolving inward too.

A canary listens on loopback and counts connections: it must see none. Each refusal is
checked twice: at config validation (the URL as written) and at connect time (a config
that skipped validation, a DNS name, a redirect), where the check and the socket share the
address (pinned).
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest
from pydantic import ValidationError

from connectors.jira import JiraConfig, JiraConnector
from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from syncd.egress import EgressRefused, GuardedTransport, check_base_url
from tests.reliability.conftest import Canary
from tests.reliability.figures import Figures, Record

PUBLIC_IP = "93.184.215.14"  # any global unicast address: the fake network routes it


def _private_urls(port: int) -> list[str]:
    """A private address in every spelling a resolver takes (the canary's port on loopback)."""
    return [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        f"http://127.0.0.1:{port}/",
        f"https://127.0.0.1:{port}/",
        f"https://[::1]:{port}/",
        f"https://2130706433:{port}/",  # decimal
        f"https://017700000001:{port}/",  # octal, whole
        f"https://0177.0.0.1:{port}/",  # octal, dotted
        f"https://0x7f000001:{port}/",  # hex
        f"https://0x7f.0.0.1:{port}/",
        f"https://127.1:{port}/",  # short form
        f"https://[::ffff:127.0.0.1]:{port}/",  # IPv4 mapped into IPv6
        f"https://localhost:{port}/",
        f"https://app.localhost:{port}/",
        f"https://0.0.0.0:{port}/",
        "https://10.0.0.5/",
        "https://172.16.3.4/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",  # carrier-grade NAT
        "https://[fd00::1]/",  # unique local
        "https://[fe80::1]/",  # link-local
        "https://224.0.0.1/",  # multicast
    ]


def _jira(url: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": url, "email": "s@x.example", "api_token": "t", "projects": ["HRB"], **extra}


def _shotgrid(url: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": url, "script_name": "s", "script_key": "k", "project_id": 1, **extra}


def _people(connector: JiraConnector | ShotGridConnector) -> None:
    try:
        list(connector.people())
    finally:
        connector.close()


def test_private_base_urls_are_refused_by_config_validation(
    canary: Canary, figures: Figures, record_property: Record
) -> None:
    urls = _private_urls(canary.port)
    refused = 0
    for url in urls:
        for model, values in ((JiraConfig, _jira(url)), (ShotGridConfig, _shotgrid(url))):
            with pytest.raises(ValidationError) as caught:
                model.model_validate(values)
            assert "base_url" in str(caught.value), (url, str(caught.value))
            refused += 1
    # Plain http and credentials in the URL are refused for public hosts too.
    for url in ("http://studio.atlassian.net/", "https://me:pw@studio.atlassian.net/"):
        with pytest.raises(ValidationError, match="base_url"):
            JiraConfig.model_validate(_jira(url))
        refused += 1
    # The opt-in the sandbox's config writer sets lets loopback through, and a public https
    # site never needed it.
    JiraConfig.model_validate(
        _jira(f"http://127.0.0.1:{canary.port}", allow_private_addresses=True)
    )
    ShotGridConfig.model_validate(_shotgrid("https://studio.shotgrid.autodesk.com"))
    assert canary.hits == []
    figures.report(
        record_property, 16, phase="config", tried=refused, refused=refused, canary_hits=0
    )


@pytest.mark.parametrize("tool", ["jira", "shotgrid"])
def test_a_config_that_skipped_validation_still_opens_no_socket_to_a_private_address(
    tool: str, canary: Canary, figures: Figures, record_property: Record
) -> None:
    urls = [u for u in _private_urls(canary.port) if str(canary.port) in u]
    for url in urls:
        # model_construct skips the validators: the connect-time guard is the last line.
        if tool == "jira":
            valid = JiraConfig.model_validate(_jira("https://studio.atlassian.net"))
            jira = JiraConfig.model_construct(**{**valid.model_dump(), "base_url": url})
            connector: JiraConnector | ShotGridConnector = JiraConnector("jira", jira)
        else:
            site = ShotGridConfig.model_validate(_shotgrid("https://studio.shotgrid.autodesk.com"))
            sg = ShotGridConfig.model_construct(**{**site.model_dump(), "base_url": url})
            connector = ShotGridConnector("shotgrid", sg, sleep=lambda _: None)
        # httpx itself refuses some spellings (a dotted octal) as an invalid URL: no socket.
        with pytest.raises((EgressRefused, httpx.InvalidURL)):
            _people(connector)
    assert canary.hits == []
    figures.report(record_property, 16, phase=f"connect-{tool}", tried=len(urls), canary_hits=0)


def test_the_canary_does_count_a_connection_the_opt_in_allows(canary: Canary) -> None:
    # The control: without the guard (the sandbox's opt-in) the same call reaches the canary,
    # so the zero hits above are the guard's doing.
    config = JiraConfig.model_validate(
        _jira(f"http://127.0.0.1:{canary.port}", allow_private_addresses=True, timeout_seconds=2)
    )
    with pytest.raises(Exception):  # noqa: B017 - the canary speaks no HTTP; any failure
        _people(JiraConnector("jira", config, sleep=lambda _: None))
    assert canary.hits


def test_a_dns_name_resolving_to_a_private_address_is_refused(
    canary: Canary, figures: Figures, record_property: Record
) -> None:
    names = {"jira.internal.example": ["10.1.2.3"], "sg.rebind.example": [PUBLIC_IP, "127.0.0.1"]}
    guard = GuardedTransport("jira", resolver=lambda host, _port: names[host])
    tried = 0
    with httpx.Client(transport=guard) as client:
        for name in names:
            with pytest.raises(EgressRefused, match=name):
                client.get(f"https://{name}:{canary.port}/rest/api/3/myself")
            tried += 1
    # And through the system resolver: this machine's own name resolves to itself.
    own = socket.gethostname()
    own_addresses = {info[4][0] for info in socket.getaddrinfo(own, None)}
    config = JiraConfig.model_validate(_jira(f"https://{own}:{canary.port}"))
    with pytest.raises(EgressRefused):
        _people(JiraConnector("jira", config))
    tried += 1
    assert canary.hits == []
    figures.report(
        record_property, 16, phase="dns", tried=tried, canary_hits=0, own_name=sorted(own_addresses)
    )


class _Redirector(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def redirector(canary: Canary) -> Iterator[int]:
    """A 'public' site (it is on loopback; the fake network routes PUBLIC_IP to it) whose
    every answer redirects to the canary."""
    handler = type("R", (_Redirector,), {"target": f"http://127.0.0.1:{canary.port}/x"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


class _Network(httpcore.NetworkBackend):
    """The machine's network, except that PUBLIC_IP:80 is the redirector on loopback."""

    def __init__(self, redirector: int) -> None:
        self._real, self._redirector = httpcore.SyncBackend(), redirector

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host == PUBLIC_IP:
            return self._real.connect_tcp("127.0.0.1", self._redirector, *args, **kwargs)
        return self._real.connect_tcp(host, port, *args, **kwargs)


def test_a_redirect_to_an_internal_host_is_refused(
    canary: Canary, redirector: int, figures: Figures, record_property: Record
) -> None:
    guard = GuardedTransport(
        "jira", resolver=lambda _host, _port: [PUBLIC_IP], network=_Network(redirector)
    )
    # The site answers (a 302): the guard let the public address through...
    with httpx.Client(transport=guard) as client:
        assert client.get("http://jira.example/").status_code == 302
        # ...and refuses the hop to loopback when a client follows it.
        with pytest.raises(EgressRefused):
            client.get("http://jira.example/", follow_redirects=True)
    # The Jira library's session follows redirects itself (requests): the same refusal.
    config = JiraConfig.model_validate(_jira("http://jira.example", allow_private_addresses=True))
    http = httpx.Client(transport=guard)
    with pytest.raises(EgressRefused):
        _people(JiraConnector("jira", config, http=http, sleep=lambda _: None))
    http.close()
    assert canary.hits == []
    figures.report(record_property, 16, phase="redirect", tried=2, canary_hits=0)


def test_check_base_url_names_the_setting_and_keeps_public_urls() -> None:
    assert check_base_url("https://x.atlassian.net", allow_private=False) == (
        "https://x.atlassian.net"
    )
    with pytest.raises(ValueError, match="api_url must use https"):
        check_base_url("http://x.atlassian.net", allow_private=False, setting="api_url")
