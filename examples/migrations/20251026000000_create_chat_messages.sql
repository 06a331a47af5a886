-- Chat messages, range-partitioned on created_at (seed 004). A primary key must contain the partition key,
-- hence (id, created_at). Rows outside every range land in the default partition; add ranges with e.g.
--   CREATE TABLE chat_messages_2026_q1 PARTITION OF chat_messages FOR VALUES FROM ('2026-01-01') TO ('2026-04-01');
-- (while the default partition holds no row of that range, or PostgreSQL refuses).
CREATE TABLE chat_messages (
  id uuid NOT NULL DEFAULT uuidv7(),
  session_id uuid NOT NULL,
  role text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE TABLE chat_messages_default PARTITION OF chat_messages DEFAULT;

-- Sessions are read in time order.
CREATE INDEX chat_messages_session_idx ON chat_messages (session_id, created_at);

-- pgstrap:down
DROP TABLE chat_messages;
