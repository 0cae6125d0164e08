-- Account recovery (issue #25): the one-time links of "Forgot password?". Only the SHA-256 of a link's token is kept (as for
-- invitations); a link sets a password once (used_at) and only until expires_at (Auth:PasswordResetLifetime, 30 minutes).
create table password_resets (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references tenants,
    user_id      uuid not null,
    token_hash   bytea not null unique check (length(token_hash) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    used_at      timestamptz,
    foreign key (tenant_id, user_id) references users (tenant_id, id)
);
create index password_resets_open on password_resets (tenant_id, user_id) where used_at is null;

alter table password_resets enable row level security;
alter table password_resets force row level security;
create policy tenant_isolation on password_resets
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
-- The link arrives before its tenant is known: like an invitation's, it is found by a narrow SECURITY DEFINER function.
create policy directory_lookup on password_resets for select to current_user using (true);
grant select, insert, update on password_resets to invisible_app;

create function auth_find_password_reset(p_token_hash bytea)
    returns table (tenant_id uuid, password_reset_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select r.tenant_id, r.id from password_resets r where r.token_hash = p_token_hash
$$;
revoke execute on function auth_find_password_reset(bytea) from public;
grant execute on function auth_find_password_reset(bytea) to invisible_app;
