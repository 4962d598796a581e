#!/usr/bin/env python3
"""Runs the connector component in Python against a Salesforce org (or the
project's mock) and prints one JSON document: login, a paged query, a record
created and deleted, the tool catalog, a tool run, and the typed errors of a
few failures. `tests/hosts` compares it with the wasmtime host's.

    python host.py --component salesforce_connector.wasm --login-url http://127.0.0.1:8080

Credentials come from SF_CLIENT_ID, SF_CLIENT_SECRET, SF_USERNAME,
SF_PASSWORD, SF_SECURITY_TOKEN and SF_REFRESH_TOKEN (as for `sf-host`),
never from arguments,
and the output carries no secret.
"""

import argparse
import copy
import json
import os
import platform
import sys
import time

from wasmtime.component import Variant

from connector import WASMTIME_VERSION, ComponentError, Connector, LoadError, record, to_json

# The scenario every host runs (tests/hosts/reference.rs is the wasmtime side).
SOQL = "SELECT Id, Name, AnnualRevenue FROM Account WHERE Name LIKE 'Acme 0%' ORDER BY Name"
BATCH_SIZE = 200
TOOL_ARGS = {"soql": "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme 000%' ORDER BY Name"}


def env(name, required=True):
    value = os.environ.get(name)
    if required and not value:
        sys.exit(f"host.py: set {name}")
    return value or None


def config_for(login_url, password):
    grant = record(
        username=env("SF_USERNAME"),
        password=password,
        security_token=env("SF_SECURITY_TOKEN", required=False),
    )
    return record(
        login_url=login_url,
        client_id=env("SF_CLIENT_ID"),
        client_secret=env("SF_CLIENT_SECRET"),
        grant=Variant("password", grant),
        api_version=None,
        timeout_ms=None,
        deadline_ms=None,
        max_response_bytes=None,
        retry=None,
        allowed_hosts=None,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--component", default=os.environ.get("SF_COMPONENT"), help="the connector's .wasm")
    parser.add_argument("--login-url", default=os.environ.get("SF_LOGIN_URL"))
    parser.add_argument("--scratch-dir", help="where compiled code is cached (default: a temp dir)")
    parser.add_argument("--unreachable-url", help="also log in here and report the error")
    args = parser.parse_args()
    if not args.component or not args.login_url:
        parser.error("give --component (or SF_COMPONENT) and --login-url (or SF_LOGIN_URL)")

    started = time.perf_counter()
    try:
        sf = Connector(args.component, args.scratch_dir)
    except LoadError as e:
        parser.exit(2, f"host.py: {e}\n")
    load_ms = round((time.perf_counter() - started) * 1000)

    results, timings = {}, {}

    def step(name, f, show=lambda v: v):
        """Runs one step, timing it; records `{ok}` or `{err: {tag, val}}`."""
        start = time.perf_counter()
        try:
            ok = f()
            results[name] = {"ok": to_json(show(ok))}
        except ComponentError as e:
            results[name] = {"err": to_json(e.error)}
            ok = None
        timings[name] = round((time.perf_counter() - start) * 1000, 3)
        return ok

    def fields(*names):
        return lambda r: {n: getattr(r, n) for n in names}

    session = step(
        "authenticate",
        lambda: sf.call("connector", "authenticate", config_for(args.login_url, env("SF_PASSWORD"))),
        fields("instance-url", "org-id", "user-id", "token-type", "scope", "api-version", "signature-verified"),
    )
    if session is not None:
        options = record(include_deleted=False, batch_size=BATCH_SIZE, follow_children=False)
        page = fields("records", "total-size", "done", "next-records-url")

        def pages():
            out = [sf.call("operations", "query", session, SOQL, options)]
            while not out[-1].done:
                out.append(sf.call("operations", "query-more", session, getattr(out[-1], "next-records-url"), options))
            return [page(p) for p in out]

        step("query-pages", pages)
        step(
            "query-all-pages",
            lambda: sf.call("operations", "query-all-pages", session, SOQL, options, None),
            fields("records", "total-size", "fetched", "pages", "truncated", "next-records-url"),
        )
        created = step(
            "create-record",
            lambda: sf.call("operations", "create-record", session, "Account", '{"Name":"Portable Co"}'),
            fields("id"),
        )
        if created is not None:
            get = lambda: sf.call("operations", "get-record", session, "Account", created.id, ["Name"]).body
            step("get-record", get)
            step("delete-record", lambda: sf.call("operations", "delete-record", session, "Account", created.id), lambda _: None)
            step("get-deleted-record", get)
        step("tools", lambda: sf.call("tools", "tools"))
        step("invoke", lambda: sf.call("tools", "invoke", session, "soql_query", json.dumps(TOOL_ARGS)))
        step("invoke-bad-argument", lambda: sf.call("tools", "invoke", session, "soql_query", '{"soql":5}'))

    # Renewal through the component's `renew`, as a host keeps a session: on
    # `session-expired`, renew once (with the newest refresh token the
    # session holds) and retry once; keep what `renew` returns.
    refresh_config = config_for(args.login_url, None)
    refresh_config.grant = Variant("refresh-token", record(refresh_token=env("SF_REFRESH_TOKEN")))
    kept = {}

    def with_renewal(f):
        try:
            return f(kept["session"])
        except ComponentError as e:
            if e.error.tag != "session-expired":
                raise
            kept["session"] = sf.call("connector", "renew", refresh_config, kept["session"])
            return f(kept["session"])

    def refresh_login():
        kept["session"] = sf.call("connector", "authenticate", refresh_config)
        return kept["session"]

    def renew_expired():
        before = getattr(kept["session"], "refresh-token")
        stale = copy.copy(kept["session"])
        setattr(stale, "access-token", "00D000000000001!expired")
        kept["session"] = stale
        limits = with_renewal(lambda s: sf.call("operations", "limits", s))
        rotated = getattr(kept["session"], "refresh-token") != before
        return {"limits-ok": "DailyApiRequests" in limits.body, "rotated": rotated}

    def renew_again():
        before = getattr(kept["session"], "refresh-token")
        kept["session"] = sf.call("connector", "renew", refresh_config, kept["session"])
        return {"rotated": getattr(kept["session"], "refresh-token") != before}

    if step("refresh-login", refresh_login, lambda s: {"has-refresh-token": getattr(s, "refresh-token") is not None}):
        step("renew-expired", renew_expired)
        step("renew-again", renew_again)

    unexpected = lambda _: "unexpected: logged in"
    step("wrong-password", lambda: sf.call("connector", "authenticate", config_for(args.login_url, "not-the-password")), unexpected)
    if args.unreachable_url:
        step("unreachable", lambda: sf.call("connector", "authenticate", config_for(args.unreachable_url, env("SF_PASSWORD"))), unexpected)

    doc = {
        "host": f"python {platform.python_version()}, wasmtime-py {WASMTIME_VERSION}",
        "component": {"path": args.component, "sha256": sf.sha256, "bytes": sf.bytes},
        "load-ms": load_ms,
        "compiled": sf.compiled,
        "results": results,
        "timings-ms": timings,
    }
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
