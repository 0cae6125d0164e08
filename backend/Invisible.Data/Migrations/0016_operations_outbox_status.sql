-- What `invisible health` reports of event delivery across all tenants: undelivered events, how long the oldest has waited,
-- and dead letters. Counts and an age only, no tenant data. The owner role reads every tenant's outbox already
-- (directory_lookup, for outbox_tenants_with_pending()); dead letters get the same narrow select policy.
create policy operations_health on outbox_dead_letters for select to current_user using (true);

create function operations_outbox_status()
    returns table (pending bigint, oldest_pending_seconds double precision, dead_letters bigint)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select (select count(*) from outbox where published_at is null),
           (select coalesce(extract(epoch from now() - min(occurred_at)), 0)::double precision from outbox where published_at is null),
           (select count(*) from outbox_dead_letters)
$$;

revoke execute on function operations_outbox_status() from public;
grant execute on function operations_outbox_status() to invisible_app;
