/**
 * A test worker in a process of its own: creates `count` test databases at once, writes a row in each, and
 * prints one JSON line. With `hang`, it then waits to be killed (a crashed run whose clones stay behind).
 * Usage: node --import tsx clone-worker.ts <projectDir> <count> [hang] [url]
 */
import pg from 'pg';
import { createTestDatabase, prepareTestTemplate } from '../../scripts/testing/index.ts';

const [cwd, count, mode, url] = process.argv.slice(2);
const options = { cwd: cwd!, ...(url ? { url } : {}) };
const { built, template } = await prepareTestTemplate(options);
const dbs = await Promise.all(Array.from({ length: Number(count) }, () => createTestDatabase(options)));
const rows: number[] = [];
for (const db of dbs) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("INSERT INTO llm_requests (model, request) VALUES ($1, '{}')", [db.name]);
  const { rows: r } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM llm_requests');
  rows.push(r[0]!.n);
  await client.end();
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, built, template, names: dbs.map((d) => d.name), rows })}\n`);
if (mode === 'hang') setInterval(() => {}, 1000);
else await Promise.all(dbs.map((d) => d.drop()));
