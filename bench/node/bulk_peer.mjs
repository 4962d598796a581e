// jsforce's Bulk API 2.0 (conn.bulk2) against the project's mock, unchanged:
// loadAndWaitForResults (insert, upsert) and query, then one JSON line of
// what it saw. Run by host-test/mock/tests/peers.rs, which passes the mock
// in MOCK_URL (plain http on loopback) and its credentials in SF_* variables.

import jsforce from 'jsforce';

const env = process.env;
// The mock finishes jobs at once; poll often, give up after 30 s.
const POLL = { pollInterval: 50, pollTimeout: 30000 };

const conn = new jsforce.Connection({
  loginUrl: env.MOCK_URL,
  version: '62.0',
  oauth2: { clientId: env.SF_CLIENT_ID, clientSecret: env.SF_CLIENT_SECRET, loginUrl: env.MOCK_URL },
});
await conn.login(env.SF_USERNAME, env.SF_PASSWORD + env.SF_SECURITY_TOKEN);

const pad = (i) => String(i).padStart(3, '0');
const rows = Array.from({ length: 250 }, (_, i) => ({ Name: `Peer Js ${pad(i)}`, ExtId__c: `JS-${pad(i)}` }));
rows.push({ Name: null, ExtId__c: 'JS-BAD' }); // null is sent as #N/A: no Name, fails alone
const insert = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: rows, ...POLL });

const upserts = Array.from({ length: 10 }, (_, k) => ({ ExtId__c: `JS-${pad(245 + k)}`, Name: `Peer Js ${pad(245 + k)} again` }));
const upsert = await conn.bulk2.loadAndWaitForResults({
  object: 'Account', operation: 'upsert', externalIdFieldName: 'ExtId__c', input: upserts, ...POLL,
});

const stream = await conn.bulk2.query("SELECT Id, Name, ExtId__c FROM Account WHERE Name LIKE 'Peer Js%'", POLL);
const records = await new Promise((resolve, reject) => {
  const out = [];
  stream.on('record', (r) => out.push(r)).on('error', reject).on('end', () => resolve(out));
});

console.log(JSON.stringify({
  insert: [insert.successfulResults.length, insert.failedResults.length, insert.unprocessedRecords.length],
  failed: insert.failedResults.map((r) => r.sf__Error),
  created: insert.successfulResults.every((r) => r.sf__Created === 'true' && r.sf__Id.startsWith('001')),
  upsert: [
    upsert.successfulResults.filter((r) => r.sf__Created === 'true').length,
    upsert.successfulResults.filter((r) => r.sf__Created === 'false').length,
  ],
  query_rows: records.length,
  query_again: records.filter((r) => r.Name.endsWith('again')).length,
}));
