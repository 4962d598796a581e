"""simple-salesforce as a contender of the compare benchmark
(host-test/benches/compare), against the project's mock over HTTPS.

  contender.py worker   one JSON command per stdin line, one JSON answer per
                        stdout line: {"workload": "W1", "n": 300} ->
                        {"W1": [seconds, operations]}; W3 answers W3a and W3b
  contender.py cold     log in, run one query, exit (W4: the harness times
                        the whole process)
  contender.py bulk-import FILE
                        W5a: sf.bulk2.Account.insert of the CSV FILE as one job
  contender.py bulk-export SOQL DIR
                        W5b: sf.bulk2.Account.download of a query job's pages
                        into DIR (one CSV file per page)

W1-W3 answer [wall seconds, operations, CPU seconds of this process]; W4 and
W5 are timed by the harness, process and all.

The harness passes the mock in BENCH_* variables and the mock's CA in
REQUESTS_CA_BUNDLE. simple-salesforce always logs in at
https://{domain}.salesforce.com, so a requests adapter sends that one host to
the mock; REST calls then go to the instance_url the mock returns.
"""

import json
import os
import sys
import time
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

ENV = os.environ
MOCK = ENV["BENCH_LOGIN_URL"]
ACCOUNT = ENV["BENCH_ACCOUNT_ID"]
PAGED_SOQL = ENV["BENCH_PAGED_SOQL"]
PAGED_RECORDS = int(ENV["BENCH_PAGED_RECORDS"])
COLD_SOQL = ENV["BENCH_COLD_SOQL"]
BATCH = int(ENV["BENCH_BATCH"])
VERSION = ENV["BENCH_API_VERSION"]
BULK_ROWS = int(ENV["BENCH_BULK_ROWS"])
# simple-salesforce sleeps this long before its first poll (default 5 s);
# the mock finishes a job at once.
BULK_WAIT = int(ENV["BENCH_BULK_POLL_MS"]) / 1000


class ToMock(HTTPAdapter):
    """Sends https://login.salesforce.com/... to the mock."""

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = MOCK + parts.path + ("?" + parts.query if parts.query else "")
        return super().send(request, **kwargs)


def login():
    session = requests.Session()
    session.mount("https://login.salesforce.com/", ToMock())
    # OAuth username-password flow (what the other contenders use); passing
    # security_token would switch simple-salesforce to SOAP login.
    return Salesforce(
        username=ENV["SF_USERNAME"],
        password=ENV["SF_PASSWORD"] + ENV["SF_SECURITY_TOKEN"],
        consumer_key=ENV["SF_CLIENT_ID"],
        consumer_secret=ENV["SF_CLIENT_SECRET"],
        version=VERSION,
        session=session,
    )


def new_accounts(tag):
    return [{"Name": f"Bench {tag} {i:03}"} for i in range(BATCH)]


class Stopwatch:
    """Wall and CPU time (user + system, every thread) of this process."""

    def __init__(self):
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def spent(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu

    def answer(self, n):
        """[wall seconds, operations, CPU seconds] since it started."""
        wall, cpu = self.spent()
        return [wall, n, cpu]

    def add_to(self, total):
        wall, cpu = self.spent()
        total[0] += wall
        total[2] += cpu


def w1(sf, n):
    clock = Stopwatch()
    for _ in range(n):
        record = sf.Account.get(ACCOUNT)
        assert record["Id"] == ACCOUNT
    return {"W1": clock.answer(n)}


def w2(_sf, n):
    clock = Stopwatch()
    for _ in range(n):
        records = login().query_all(PAGED_SOQL)["records"]
        assert len(records) == PAGED_RECORDS, len(records)
    return {"W2": clock.answer(n)}


def w3(sf, n):
    singles = [0.0, n, 0.0]
    collection = [0.0, n, 0.0]
    for _ in range(n):
        clock = Stopwatch()
        for record in new_accounts("py"):
            assert sf.Account.create(record)["success"]
        clock.add_to(singles)
        clock = Stopwatch()
        records = [{"attributes": {"type": "Account"}, **r} for r in new_accounts("py")]
        results = sf.restful(
            "composite/sobjects",
            method="POST",
            data=json.dumps({"allOrNone": False, "records": records}),
        )
        assert len(results) == BATCH and all(r["success"] for r in results)
        clock.add_to(collection)
    return {"W3a": singles, "W3b": collection}


def worker():
    sf = login()
    run = {"W1": w1, "W2": w2, "W3": w3}
    for line in sys.stdin:
        command = json.loads(line)
        result = run[command["workload"]](sf, command["n"])
        print(json.dumps(result), flush=True)


def cold():
    records = login().query(COLD_SOQL)["records"]
    assert records, "no record"


def bulk_import(path):
    [job] = login().bulk2.Account.insert(csv_file=path, batch_size=BULK_ROWS, wait=BULK_WAIT)
    assert job["numberRecordsProcessed"] == BULK_ROWS, job
    assert job["numberRecordsFailed"] == 0, job


def bulk_export(soql, out_dir):
    login().bulk2.Account.download(soql, path=out_dir, max_records=50_000, wait=BULK_WAIT)


if __name__ == "__main__":
    modes = {"worker": worker, "cold": cold, "bulk-import": bulk_import, "bulk-export": bulk_export}
    modes[sys.argv[1]](*sys.argv[2:])
