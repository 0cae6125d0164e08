-- Connecting a mailbox from the product (issue #21): the secret store of both deployment modes is read-only to the
-- product (a file or a Dapr component the operator writes), so the password an admin types is sealed by the application
-- (AES-256-GCM under the secret store's personal-data-encryption-key, key id inside the value, bound to the tenant and
-- this column) and kept here. A mailbox an operator configured with secret_name keeps reading the secret store.
alter table intake_mailboxes add column password_encrypted bytea;
alter table intake_mailboxes alter column secret_name drop not null;
alter table intake_mailboxes add constraint intake_mailboxes_password_somewhere
    check (secret_name is not null or password_encrypted is not null);
