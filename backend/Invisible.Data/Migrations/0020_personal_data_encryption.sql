-- Field-level encryption of personal and banking data (issue #20): users' and vendors' e-mail addresses and vendors' tax
-- ids get a sealed copy (AES-256-GCM by the application under the secret store's personal-data-encryption-key; key id
-- inside the value, bound to tenant, column and row) and, where the product looks them up, an HMAC blind index under
-- blind-index-key. The server fills both for existing rows when it starts (PersonalDataSealing) and for every new row.
alter table users add column email_encrypted bytea;
alter table users add column email_index bytea check (length(email_index) = 32);
alter table invitations add column email_encrypted bytea;
alter table vendors add column tax_id_encrypted bytea;
alter table vendors add column tax_id_index bytea check (length(tax_id_index) = 32);
alter table vendors add column email_encrypted bytea;

create index users_email_index on users (email_index);
create index vendors_tax_id_index on vendors (tenant_id, tax_id_index);

-- Sign-in by e-mail through the blind index: the database sees only the HMAC of the normalised address. Until the start-up
-- sweep has indexed a row written before this migration, that row is still found by its address.
create function auth_find_users_by_email_index(p_email_index bytea, p_email text)
    returns table (tenant_id uuid, user_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select u.tenant_id, u.id from users u
    where u.disabled_at is null
      and (u.email_index = p_email_index or (u.email_index is null and lower(u.email) = lower(p_email)))
$$;

revoke execute on function auth_find_users_by_email_index(bytea, text) from public;
grant execute on function auth_find_users_by_email_index(bytea, text) to invisible_app;
