import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase } from 'pgstrap/testing';

// node --test runs each file in a process of its own: each gets its database.
let db;
let client;
before(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
after(async () => {
  await client.end();
  // drop({ failed: true }) with PGSTRAP_KEEP_FAILED=1 would keep it and print its URL.
  await db.drop();
});

test('a row gets a uuidv7 key, in a database no other file sees', async () => {
  const { rows } = await client.query("INSERT INTO llm_requests (model, request) VALUES ($1, '{}') RETURNING id", ['requests.test.mjs']);
  assert.equal(rows[0].id[14], '7');
  const all = await client.query('SELECT model FROM llm_requests');
  assert.deepEqual(all.rows.map((r) => r.model), ['requests.test.mjs']);
  console.log(`requests.test.mjs: pid ${process.pid}, database ${db.name}`);
});
