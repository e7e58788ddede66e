-- Sessions that can be ended: a signed-in session carries its employee's
-- session generation, and a session of an older one is refused. Signing
-- out, `employee accounts sign-out-everywhere` and a password reset raise
-- it. Expand only: the release before this one ignores the column.
ALTER TABLE employees
  ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
