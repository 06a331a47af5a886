import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';

let client: pg.Client;
// After the setup file's beforeAll, which set DATABASE_URL to this file's database.
beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
});
afterAll(() => client.end());

test('this file writes to a database no other file sees', async () => {
  await client.query("INSERT INTO llm_requests (model, request) VALUES ($1, '{}')", ['prompts.test.ts']);
  const { rows } = await client.query<{ model: string }>('SELECT model FROM llm_requests');
  // The other file, running at the same time in another worker, writes its row to its own database.
  expect(rows.map((r) => r.model)).toEqual(['prompts.test.ts']);
  console.log(`prompts.test.ts: pid ${process.pid}, database ${client.database}`);
});
