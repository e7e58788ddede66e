-- One-time form tokens: every add, edit and delete form carries a random
-- token, stored here in the same transaction as the change it made, so the
-- same form posted twice (a double click, a retried request, on any
-- replica) changes the suppliers once. Rows older than a day are purged;
-- a form cannot be posted after its session's 12 hours anyway.
CREATE TABLE IF NOT EXISTS form_tokens (
  form_token VARCHAR(64) NOT NULL,
  employee_id INT NOT NULL,
  used_at DATETIME NOT NULL,
  PRIMARY KEY (form_token),
  INDEX idx_form_tokens_used_at (used_at)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
