-- LLM requests that agents poll (seed 000). Keys come from uuidv7(), which pgstrap makes exist in every
-- database: time-ordered, so new rows append to the right of the index and ORDER BY id DESC is newest first.
CREATE TABLE llm_requests (
  id uuid PRIMARY KEY DEFAULT uuidv7(),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  model text NOT NULL,
  request jsonb NOT NULL,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The polling query: SELECT ... WHERE status = 'pending' ORDER BY id DESC LIMIT 50.
CREATE INDEX llm_requests_polling_idx ON llm_requests (status, id DESC);

-- pgstrap:down
DROP TABLE llm_requests;
