"""simple-salesforce's Bulk API 2.0 (sf.bulk2) against the project's mock,
unchanged: insert, upsert and query, then one JSON line of what it saw.
Run by host-test/mock/tests/peers.rs, which passes the mock's https URL in
MOCK_URL, its CA in REQUESTS_CA_BUNDLE and its credentials in SF_* variables.

simple-salesforce logs in at https://login.salesforce.com, so a requests
adapter sends that host to the mock (as bench/python/contender.py does);
everything else goes to https://{host of the instance_url the mock returns}.
"""

import json
import os
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

ENV = os.environ
MOCK = ENV["MOCK_URL"]
WAIT = 0.05  # seconds before each poll; the mock finishes jobs at once


class ToMock(HTTPAdapter):
    """Sends https://login.salesforce.com/... to the mock."""

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = MOCK + parts.path + ("?" + parts.query if parts.query else "")
        return super().send(request, **kwargs)


def login():
    session = requests.Session()
    session.mount("https://login.salesforce.com/", ToMock())
    return Salesforce(
        username=ENV["SF_USERNAME"],
        password=ENV["SF_PASSWORD"] + ENV["SF_SECURITY_TOKEN"],
        consumer_key=ENV["SF_CLIENT_ID"],
        consumer_secret=ENV["SF_CLIENT_SECRET"],
        version="62.0",
        session=session,
    )


def main():
    sf = login()
    rows = [{"Name": f"Peer Py {i:03}", "ExtId__c": f"PY-{i:03}"} for i in range(250)]
    rows.append({"Name": "", "ExtId__c": "PY-BAD"})  # no Name: fails alone
    [insert] = sf.bulk2.Account.insert(records=rows, wait=WAIT)
    failed = sf.bulk2.Account.get_failed_records(insert["job_id"])
    upserts = [{"ExtId__c": f"PY-{i:03}", "Name": f"Peer Py {i:03} again"} for i in range(245, 255)]
    [upsert] = sf.bulk2.Account.upsert(records=upserts, external_id_field="ExtId__c", wait=WAIT)
    pages = list(
        sf.bulk2.Account.query(
            "SELECT Id, Name FROM Account WHERE Name LIKE 'Peer Py%'", max_records=100, wait=WAIT
        )
    )
    rest = sf.query("SELECT COUNT() FROM Account WHERE Name LIKE 'Peer Py%again'")["totalSize"]
    print(json.dumps({
        "insert": [insert["numberRecordsProcessed"], insert["numberRecordsFailed"]],
        "failed": failed,
        "upsert": [upsert["numberRecordsProcessed"], upsert["numberRecordsFailed"]],
        "query_pages": len(pages),
        "query_rows": sum(len(p.splitlines()) - 1 for p in pages),
        "rest_upserted": rest,
    }))


main()
