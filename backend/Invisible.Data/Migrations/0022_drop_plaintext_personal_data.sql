-- Field-level encryption, last part (issue #20): the plaintext of users' and invitations' e-mail addresses and of vendors'
-- tax ids and e-mail addresses is dropped; only the sealed values and their blind indexes remain.
--
-- The database cannot seal (the keys are in the secret store, never in SQL), so sealing existing rows is the start-up
-- sweep's job (PersonalDataSealing, since migration 0020). This migration therefore refuses to drop anything while a row
-- still lacks its sealed value, naming the remedy, instead of losing the only copy of an address or tax id.
-- vendors has no owner-visible policy; forced row-level security is lifted for the check inside this transaction only.
alter table vendors no force row level security;
do $$
declare
    unsealed text;
begin
    select string_agg(what, ', ') into unsealed from (
        select 'users' as what where exists (select 1 from users where email_encrypted is null or email_index is null)
        union all
        select 'invitations' where exists (select 1 from invitations where email_encrypted is null)
        union all
        select 'vendors' where exists (
            select 1 from vendors
            where (tax_id is not null and (tax_id_encrypted is null or tax_id_index is null)) or (email is not null and email_encrypted is null))
    ) tables;
    if unsealed is not null then
        raise exception 'Personal data in % is not sealed yet, so its plaintext cannot be dropped.', unsealed
            using hint = 'Start the previous version of Invisible once with its secret store (its start-up sweep seals existing rows), then upgrade again.';
    end if;
end $$;
alter table vendors force row level security;

-- Sign-in by the blind index only: there is no address left to fall back to.
drop function auth_find_users_by_email_index(bytea, text);
drop function auth_find_users_by_email(text);
create function auth_find_users_by_email_index(p_email_index bytea)
    returns table (tenant_id uuid, user_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select u.tenant_id, u.id from users u where u.email_index = p_email_index and u.disabled_at is null
$$;

revoke execute on function auth_find_users_by_email_index(bytea) from public;
grant execute on function auth_find_users_by_email_index(bytea) to invisible_app;

-- users_email_per_tenant and users_email go with the column; users_email_index_per_tenant (0021) keeps one account per address.
alter table users drop column email;
alter table users alter column email_encrypted set not null, alter column email_index set not null;
alter table invitations drop column email;
alter table invitations alter column email_encrypted set not null;
alter table vendors drop column tax_id, drop column email;

-- Sign-in throttles now count per blind index ("account:<hex>"); rows keyed by an address are forgotten with it.
delete from sign_in_throttles where key like 'account:%@%';
