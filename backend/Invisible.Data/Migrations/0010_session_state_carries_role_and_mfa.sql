-- The role and the second-factor state of a request come from the database, not from the access token: a token re-signed
-- with a leaked signing key could claim any role and "otp", but it cannot change the user's row or the session's tokens.
-- session_mfa_satisfied: a live token of the session (refresh-token family) was issued after the second factor.
drop function auth_session_state(uuid, uuid);

create function auth_session_state(p_user_id uuid, p_session_id uuid)
    returns table (security_stamp uuid, disabled boolean, role text, mfa_enrolled boolean, tenant_requires_mfa boolean,
                   session_active boolean, session_mfa_satisfied boolean)
    language sql stable set search_path = pg_catalog, public, pg_temp
as $$
    select u.security_stamp,
           u.disabled_at is not null,
           u.role,
           u.mfa_enabled_at is not null,
           t.mfa_required,
           live.tokens > 0,
           coalesce(live.mfa_satisfied, false)
    from users u
    join tenants t on t.id = u.tenant_id
    cross join lateral (
        select count(*) as tokens, bool_or(r.mfa_satisfied) as mfa_satisfied
        from refresh_tokens r
        where r.family_id = p_session_id and r.user_id = u.id and r.revoked_at is null and r.expires_at > now()
    ) as live
    where u.id = p_user_id
$$;
grant execute on function auth_session_state(uuid, uuid) to invisible_app;
