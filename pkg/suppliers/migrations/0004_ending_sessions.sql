-- Sessions that can be ended while replicas stay stateless (the session
-- itself lives in the cookie).
--
-- Signing out ends that one session: its id (a hash, never the cookie) is
-- kept here until the session would have expired anyway.
CREATE TABLE IF NOT EXISTS ended_sessions (
  session_id CHAR(64) NOT NULL,
  ends_at DATETIME NOT NULL,
  PRIMARY KEY (session_id),
  INDEX idx_ended_sessions_ends_at (ends_at)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- `employee accounts sign-out-everywhere` and a password reset end every
-- session of an employee: a session carries the generation it began in,
-- and one of an older generation is refused. Expand only: the release
-- before this one ignores the column.
ALTER TABLE employees
  ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
