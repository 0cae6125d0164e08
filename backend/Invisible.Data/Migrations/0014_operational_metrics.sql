-- What an operator watches across all tenants (the Invisible meter's observable gauges): open exceptions by age bucket
-- (the dashboard's buckets) and the touchless rate's two counts. Counts only, no tenant data; read at most every 30 s.
-- The owner role reads every tenant's rows here, as it does for outbox_tenants_with_pending().
create policy operational_metrics on invoices for select to current_user using (true);
create policy operational_metrics on exceptions for select to current_user using (true);

create function operational_metrics()
    returns table (metric text, label text, value bigint)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    with ages as (
        select greatest(0, floor(extract(epoch from (now() - opened_at)) / 86400))::int as age
        from exceptions where status in ('open', 'in_review'))
    select 'open_exceptions', b.label, count(a.age)
    from (values ('0-2', 0, 3), ('3-7', 3, 8), ('8-30', 8, 31), ('over-30', 31, 2147483647)) as b(label, low, high)
    left join ages a on a.age >= b.low and a.age < b.high
    group by b.label
    union all
    select 'invoices_decided', '', count(*) from invoices where status <> 'pending'
    union all
    select 'invoices_touchless', '', count(*) from invoices i
    where i.status = 'matched' and not exists (select 1 from exceptions e where e.invoice_id = i.id)
$$;

revoke execute on function operational_metrics() from public;
grant execute on function operational_metrics() to invisible_app;
