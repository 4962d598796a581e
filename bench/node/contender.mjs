// jsforce 3 as a contender of the compare benchmark
// (host-test/benches/compare), against the project's mock over HTTPS.
//
//   node contender.mjs worker   one JSON command per stdin line, one JSON
//                               answer per stdout line: {"workload":"W1","n":300}
//                               -> {"W1":[seconds, operations]}; W3 answers W3a and W3b
//   node contender.mjs cold     log in, run one query, exit (W4: the harness
//                               times the whole process)
//
// The harness passes the mock in BENCH_* variables, trusts its CA through
// NODE_EXTRA_CA_CERTS and unsets proxy variables (jsforce would send even
// loopback calls to a proxy).

import jsforce from 'jsforce';
import { createInterface } from 'node:readline';

const env = process.env;
const ACCOUNT = env.BENCH_ACCOUNT_ID;
const PAGED_SOQL = env.BENCH_PAGED_SOQL;
const PAGED_RECORDS = Number(env.BENCH_PAGED_RECORDS);
const BATCH = Number(env.BENCH_BATCH);

function check(ok, what) {
  if (!ok) throw new Error(`unexpected answer: ${what}`);
}

async function login() {
  const conn = new jsforce.Connection({
    loginUrl: env.BENCH_LOGIN_URL,
    version: env.BENCH_API_VERSION,
    oauth2: {
      clientId: env.SF_CLIENT_ID,
      clientSecret: env.SF_CLIENT_SECRET,
      loginUrl: env.BENCH_LOGIN_URL,
    },
  });
  // OAuth username-password flow, as the other contenders.
  await conn.login(env.SF_USERNAME, env.SF_PASSWORD + env.SF_SECURITY_TOKEN);
  return conn;
}

const newAccounts = (tag) =>
  Array.from({ length: BATCH }, (_, i) => ({ Name: `Bench ${tag} ${String(i).padStart(3, '0')}` }));

const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;

const workloads = {
  async W1(conn, n) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const record = await conn.sobject('Account').retrieve(ACCOUNT);
      check(record.Id === ACCOUNT, 'W1 record');
    }
    return { W1: [seconds(started), n] };
  },
  async W2(_conn, n) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const fresh = await login();
      // maxFetch: jsforce stops at 10,000 records by default.
      const result = await fresh.query(PAGED_SOQL, { autoFetch: true, maxFetch: PAGED_RECORDS });
      check(result.records.length === PAGED_RECORDS, `W2 ${result.records.length} records`);
    }
    return { W2: [seconds(started), n] };
  },
  async W3(conn, n) {
    let singles = 0;
    let collection = 0;
    for (let i = 0; i < n; i++) {
      let started = process.hrtime.bigint();
      for (const record of newAccounts('js')) {
        const r = await conn.sobject('Account').create(record);
        check(r.success, 'W3 single create');
      }
      singles += seconds(started);
      started = process.hrtime.bigint();
      // An array goes through sObject Collections, 200 per request.
      const results = await conn.sobject('Account').create(newAccounts('js'));
      check(results.length === BATCH && results.every((r) => r.success), 'W3 collection');
      collection += seconds(started);
    }
    return { W3a: [singles, n], W3b: [collection, n] };
  },
};

async function worker() {
  const conn = await login();
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    const result = await workloads[command.workload](conn, command.n);
    process.stdout.write(JSON.stringify(result) + '\n');
  }
}

async function cold() {
  const conn = await login();
  const result = await conn.query(env.BENCH_COLD_SOQL);
  check(result.records.length > 0, 'cold query');
}

await { worker, cold }[process.argv[2]]();
