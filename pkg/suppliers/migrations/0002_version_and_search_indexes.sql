-- Optimistic concurrency: every change bumps version, and an edit made
-- against an older version is refused instead of silently overwriting.
-- The indexes keep the name-ordered list and its search fast at 10,000 rows.
ALTER TABLE suppliers
  ADD COLUMN version INT UNSIGNED NOT NULL DEFAULT 1,
  ADD INDEX idx_suppliers_name (name),
  ADD INDEX idx_suppliers_city (city);
