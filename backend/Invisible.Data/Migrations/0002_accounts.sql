-- Accounts: what sign-in, MFA, sessions and the tenant's MFA policy need beyond schema v1.

-- The tenant-wide MFA policy: on by default, so financial data needs a second factor unless an administrator turns it off.
alter table tenants add column mfa_required boolean not null default true;
grant update (mfa_required) on tenants to invisible_app;

-- Replay rejection: the time step of the last TOTP code accepted for this user; that step and earlier ones are refused.
alter table users add column mfa_last_step bigint;
-- The secret of an enrolment begun but not yet confirmed with a first code (the active secret stays in mfa_secret).
alter table users add column mfa_pending_secret bytea;

-- Whether the session (refresh-token family) has passed the second factor, so a refresh keeps the session's strength.
alter table refresh_tokens add column mfa_satisfied boolean not null default false;

-- Failed sign-ins per e-mail address ("account:…", known or not, so lockouts reveal nothing) and per source address
-- ("address:…") across all tenants: not tenant data, so no tenant_id and no RLS.
create table sign_in_throttles (
    key               text primary key,
    failures          integer not null default 0 check (failures >= 0),
    window_started_at timestamptz,
    locked_until      timestamptz,
    updated_at        timestamptz not null default now()
);
grant select, insert, update, delete on sign_in_throttles to invisible_app;

-- The security state a request is checked against (the access token is only a claim of it): the user is enabled, the
-- token's security stamp is current, the session has not been ended, and whether a second factor is demanded.
-- Runs in a tenant unit of work, so RLS already limits it to the caller's tenant.
create function auth_session_state(p_user_id uuid, p_session_id uuid)
    returns table (security_stamp uuid, disabled boolean, mfa_enrolled boolean, tenant_requires_mfa boolean, session_active boolean)
    language sql stable set search_path = pg_catalog, public, pg_temp
as $$
    select u.security_stamp,
           u.disabled_at is not null,
           u.mfa_enabled_at is not null,
           t.mfa_required,
           exists (select 1 from refresh_tokens r
                   where r.family_id = p_session_id and r.user_id = u.id and r.revoked_at is null and r.expires_at > now())
    from users u
    join tenants t on t.id = u.tenant_id
    where u.id = p_user_id
$$;
grant execute on function auth_session_state(uuid, uuid) to invisible_app;
