// jsforce 3 as a contender of the compare benchmark
// (host-test/benches/compare), against the project's mock over HTTPS.
//
//   node contender.mjs worker   one JSON command per stdin line, one JSON
//                               answer per stdout line: {"workload":"W1","n":300}
//                               -> {"W1":[seconds, operations]}; W3 answers W3a and W3b
//   node contender.mjs cold     log in, run one query, exit (W4: the harness
//                               times the whole process)
//   node contender.mjs bulk-import FILE
//                               W5a: conn.bulk2.loadAndWaitForResults of the
//                               CSV FILE, streamed, as one job
//   node contender.mjs bulk-export SOQL DIR
//                               W5b: conn.bulk2.query's records, as they
//                               arrive, written to DIR/export.csv
//
// W1-W3 answer [wall seconds, operations, CPU seconds of this process]; W4
// and W5 are timed by the harness, process and all.
//
// The harness passes the mock in BENCH_* variables, trusts its CA through
// NODE_EXTRA_CA_CERTS and unsets proxy variables (jsforce would send even
// loopback calls to a proxy).

import jsforce from 'jsforce';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const env = process.env;
const ACCOUNT = env.BENCH_ACCOUNT_ID;
const PAGED_SOQL = env.BENCH_PAGED_SOQL;
const PAGED_RECORDS = Number(env.BENCH_PAGED_RECORDS);
const BATCH = Number(env.BENCH_BATCH);
const BULK_ROWS = Number(env.BENCH_BULK_ROWS);
// The mock finishes a job at once; jsforce's default pollTimeout (30 s) is
// too short for 100,000 rows on a real org.
const BULK_POLL = { pollInterval: Number(env.BENCH_BULK_POLL_MS), pollTimeout: 600000 };

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

// Wall and CPU time (user + system, every thread) of this process.
class Stopwatch {
  constructor() {
    this.wall = process.hrtime.bigint();
    this.cpu = process.cpuUsage();
  }
  spent() {
    const cpu = process.cpuUsage(this.cpu);
    return [Number(process.hrtime.bigint() - this.wall) / 1e9, (cpu.user + cpu.system) / 1e6];
  }
  // [wall seconds, operations, CPU seconds] since it started.
  answer(n) {
    const [wall, cpu] = this.spent();
    return [wall, n, cpu];
  }
  addTo(total) {
    const [wall, cpu] = this.spent();
    total[0] += wall;
    total[2] += cpu;
  }
}

const workloads = {
  async W1(conn, n) {
    const clock = new Stopwatch();
    for (let i = 0; i < n; i++) {
      const record = await conn.sobject('Account').retrieve(ACCOUNT);
      check(record.Id === ACCOUNT, 'W1 record');
    }
    return { W1: clock.answer(n) };
  },
  async W2(_conn, n) {
    const clock = new Stopwatch();
    for (let i = 0; i < n; i++) {
      const fresh = await login();
      // maxFetch: jsforce stops at 10,000 records by default.
      const result = await fresh.query(PAGED_SOQL, { autoFetch: true, maxFetch: PAGED_RECORDS });
      check(result.records.length === PAGED_RECORDS, `W2 ${result.records.length} records`);
    }
    return { W2: clock.answer(n) };
  },
  async W3(conn, n) {
    const singles = [0, n, 0];
    const collection = [0, n, 0];
    for (let i = 0; i < n; i++) {
      let clock = new Stopwatch();
      for (const record of newAccounts('js')) {
        const r = await conn.sobject('Account').create(record);
        check(r.success, 'W3 single create');
      }
      clock.addTo(singles);
      clock = new Stopwatch();
      // An array goes through sObject Collections, 200 per request.
      const results = await conn.sobject('Account').create(newAccounts('js'));
      check(results.length === BATCH && results.every((r) => r.success), 'W3 collection');
      clock.addTo(collection);
    }
    return { W3a: singles, W3b: collection };
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

// One job, the file streamed as its one upload; jsforce then downloads and
// parses the successful, failed and unprocessed results.
async function bulkImport(file) {
  const conn = await login();
  const results = await conn.bulk2.loadAndWaitForResults({
    object: 'Account',
    operation: 'insert',
    input: createReadStream(file),
    ...BULK_POLL,
  });
  check(results.successfulResults.length === BULK_ROWS, `W5a ${results.successfulResults.length} rows`);
  check(results.failedResults.length === 0, 'W5a failed rows');
}

// A CSV field as jsforce's own writer would quote it.
const csvField = (v) => {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

// The records as they arrive, written to one CSV file. Not the raw CSV
// (`records.stream()`): jsforce pipes every results page into that one
// stream and the first page's end ends it, so a result of two or more pages
// loses rows there (82,971 of 100,000 against the mock).
async function bulkExport(soql, dir) {
  const conn = await login();
  const records = await conn.bulk2.query(soql, BULK_POLL);
  const out = createWriteStream(join(dir, 'export.csv'));
  let columns;
  await new Promise((resolve, reject) => {
    records
      .on('record', (record) => {
        if (!columns) {
          columns = Object.keys(record);
          out.write(columns.join(',') + '\n');
        }
        // jsforce 3 reads the header row of every later page as a record.
        if (columns.every((c) => record[c] === c)) return;
        out.write(columns.map((c) => csvField(record[c])).join(',') + '\n');
      })
      .on('error', reject)
      .on('end', resolve);
  });
  await new Promise((resolve, reject) => out.on('error', reject).end(resolve));
}

const modes = { worker, cold, 'bulk-import': bulkImport, 'bulk-export': bulkExport };
await modes[process.argv[2]](...process.argv.slice(3));
