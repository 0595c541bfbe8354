"""The bounded load with an archive restart in the middle (sandbox/load_restart.py): correctness only; its
timings are the script's to print, never asserted here."""

from __future__ import annotations

from sandbox.load_restart import run
from tests.conftest import require_servers


def test_no_wrong_body_and_only_503s_while_the_archive_is_down():
    require_servers()
    figures = run(2000)
    assert figures["requests"] == 2000
    assert figures["wrong_bodies"] == 0, figures
    assert figures["other_errors"] == 0 and figures["errors_outside_the_window"] == 0, figures
    # The restart was seen (some answers were the proxy's 503), and so were the reads around it.
    assert figures["status_503"] > 0 and figures["status_200"] > 0, figures


def test_a_proxy_killed_under_load_costs_no_reader_anything():
    """Two proxies behind the site's balancer, one killed (SIGKILL) and started again in the middle of the load:
    every answer is a 200 with the right body. The client never retries; the balancer (nginx) did, at least the once
    that marked the dead proxy down (its log says how often; python -m sandbox.load_restart --fault proxy prints it)."""
    require_servers()
    figures = run(2000, fault="proxy")
    assert figures["requests"] == 2000 and figures["client_retries"] == 0
    assert figures["status_200"] == 2000 and figures["wrong_bodies"] == 0, figures
    assert figures["broken_transfers"] == 0 and figures["other_errors"] == 0, figures
    assert figures["nginx_retries"] >= 1, "the kill met the load: nginx sent a refused request to the other proxy"
