-- TOTP secrets encrypted at rest (AES-256-GCM with the secret store's totp-encryption-key): the id of the key that sealed
-- each value is kept beside it, so keys can rotate. A null key id marks a value written before encryption (plaintext); the
-- server re-seals those, and values under a retired key, when it starts and whenever one is used.
alter table users add column mfa_secret_key_id text;
alter table users add column mfa_pending_secret_key_id text;
