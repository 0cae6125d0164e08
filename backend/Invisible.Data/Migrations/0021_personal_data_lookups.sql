-- Field-level encryption, second part (issue #20): vendors' e-mail addresses get a blind index too (a re-import compares a
-- changed address by it, the e-mail intake recognises a vendor's address by it), and "one account per e-mail address per
-- tenant" moves to the users' blind index, which stays when the address itself is dropped (0022).
alter table vendors add column email_index bytea check (length(email_index) = 32);
create index vendors_email_index on vendors (tenant_id, email_index);
create unique index users_email_index_per_tenant on users (tenant_id, email_index);
