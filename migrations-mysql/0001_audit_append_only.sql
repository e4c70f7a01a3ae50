-- Audit rows are append-only: the database itself refuses to change or remove them, as the D1
-- triggers do (migrations/0001_security.sql). SQLSTATE 45000 is "unhandled user-defined exception".
-- TRUNCATE and DROP bypass triggers: the relay's own database user should hold only SELECT,
-- INSERT, UPDATE and DELETE (docs/storage.md).
CREATE TRIGGER `audit_logs_no_update` BEFORE UPDATE ON `audit_logs` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_logs is append-only';--> statement-breakpoint
CREATE TRIGGER `audit_logs_no_delete` BEFORE DELETE ON `audit_logs` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_logs is append-only';
