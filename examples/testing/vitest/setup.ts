import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from 'pgstrap/testing';

let db: TestDatabase;
let failed = false;

beforeAll(async () => {
  db = await createTestDatabase();
  // Before the app's pool is created: code under test reads DATABASE_URL as it does in production.
  process.env.DATABASE_URL = db.url;
});

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

// PGSTRAP_KEEP_FAILED=1 keeps a failed file's database and prints its URL.
afterAll(async () => db.drop({ failed }));
