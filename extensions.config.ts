import { defineConfig } from './scripts/index.ts';

// The single source of truth for this project's PostgreSQL: README.md#configuration lists every key.
export default defineConfig({
  postgresMajor: 17,
  databases: ['app', 'app_test'],
  extensions: [
    // uuidv7() works everywhere: native on 18, this extension on 17, a SQL fallback where neither exists.
    { name: 'pg_uuidv7', required: false },
    { name: 'vector', required: false },
    { name: 'pgmq', required: false },
  ],
  // This repository's example migrations (llm_requests, chat_messages), which the package does not ship: an
  // app's migrations are its own migrations/ folder, which `pgstrap init` creates empty.
  migrations: { directory: 'examples/migrations' },
  // Where neither PostgreSQL 18 nor pg_uuidv7 is there, the SQL fallback takes its random bits from
  // gen_random_uuid() (the default, 'strong'). 'fast' takes them from random(): cheaper, unique and in order,
  // but guessable by someone who sees enough ids (docs/extensions.md#random-bits-strong-or-fast).
  // uuidv7: { fallbackRandom: 'fast' },
});
