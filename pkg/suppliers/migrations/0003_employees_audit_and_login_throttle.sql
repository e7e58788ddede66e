-- Employee accounts: the administration area requires a signed-in employee.
-- password_hash holds an argon2id PHC string, never a password.
CREATE TABLE IF NOT EXISTS employees (
  id INT NOT NULL AUTO_INCREMENT,
  email VARCHAR(254) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_employees_email (email)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The audit trail: who changed which supplier when, with the values before
-- and after (JSON text), written in the same transaction as the change.
-- No foreign key to suppliers: a deleted supplier keeps its history.
CREATE TABLE IF NOT EXISTS supplier_audit (
  id BIGINT NOT NULL AUTO_INCREMENT,
  supplier_id INT NOT NULL,
  action VARCHAR(16) NOT NULL,
  employee_id INT NOT NULL,
  employee_email VARCHAR(254) NOT NULL,
  changed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  before_values TEXT NULL,
  after_values TEXT NULL,
  PRIMARY KEY (id),
  INDEX idx_supplier_audit_supplier (supplier_id, id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Failed sign-ins per account and per client address, shared by every
-- replica so throttling holds however requests are balanced.
CREATE TABLE IF NOT EXISTS login_throttle (
  throttle_key VARCHAR(300) NOT NULL,
  failures INT NOT NULL,
  last_failure_at DATETIME NOT NULL,
  PRIMARY KEY (throttle_key)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
