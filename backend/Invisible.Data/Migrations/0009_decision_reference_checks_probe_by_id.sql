-- The reference checks of 0008, planned as index probes by id whatever the statistics say.
--
-- Hashing a whole referenced table (all of a tenant's invoice lines, say) for every statement of a run costs more than
-- the run's own rows do; so these functions plan without hash joins, merge joins and sequential or bitmap scans. And the
-- tenant is compared with IS NOT DISTINCT FROM (the same for these non-null columns), which no index can answer: with a
-- plain equality, a table not yet analysed (a tenant's first run, right after its import) looks to the planner as if the
-- tenant alone found the row, and it probed an index on (tenant_id, status) by tenant, reading on average half the
-- tenant's invoices for each new decision: a run's time grew with the square of its size (measured: 3.5, 10 and 18 s for
-- the first three 10,000-decision statements, against 20 ms with the probe by id).

create or replace function match_decisions_check_references() returns trigger
    language plpgsql
    set search_path = pg_catalog, public, pg_temp
    set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set enable_bitmapscan = off
    as $$
declare
    missing text;
begin
    select reference into missing from (
        select format('invoice %s', n.invoice_id) from inserted n
        where not exists (select from invoices r where r.tenant_id is not distinct from n.tenant_id and r.id = n.invoice_id)
        union all
        select format('vendor %s', n.vendor_id) from inserted n
        where n.vendor_id is not null and not exists (select from vendors r where r.tenant_id is not distinct from n.tenant_id and r.id = n.vendor_id)
        union all
        select format('purchase order %s', n.purchase_order_id) from inserted n
        where n.purchase_order_id is not null
          and not exists (select from purchase_orders r where r.tenant_id is not distinct from n.tenant_id and r.id = n.purchase_order_id)
        union all
        select format('invoice %s (as the original of a duplicate)', n.duplicate_of) from inserted n
        where n.duplicate_of is not null and not exists (select from invoices r where r.tenant_id is not distinct from n.tenant_id and r.id = n.duplicate_of)
        union all
        select format('tolerance %s', n.tolerance_id) from inserted n
        where not exists (select from tolerances r where r.tenant_id is not distinct from n.tenant_id and r.id = n.tolerance_id)
    ) as unresolved (reference)
    limit 1;
    if missing is not null then
        raise exception 'A match decision references %, which its tenant does not have', missing
            using errcode = 'foreign_key_violation', table = 'match_decisions';
    end if;
    return null;
end $$;


create or replace function line_decisions_check_references() returns trigger
    language plpgsql
    set search_path = pg_catalog, public, pg_temp
    set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set enable_bitmapscan = off
    as $$
declare
    missing text;
begin
    select reference into missing from (
        select format('match decision %s', n.match_decision_id) from inserted n
        where not exists (select from match_decisions r where r.tenant_id is not distinct from n.tenant_id and r.id = n.match_decision_id)
        union all
        select format('invoice line %s', n.invoice_line_id) from inserted n
        where not exists (select from invoice_lines r where r.tenant_id is not distinct from n.tenant_id and r.id = n.invoice_line_id)
        union all
        select format('purchase order line %s', n.purchase_order_line_id) from inserted n
        where n.purchase_order_line_id is not null
          and not exists (select from purchase_order_lines r where r.tenant_id is not distinct from n.tenant_id and r.id = n.purchase_order_line_id)
    ) as unresolved (reference)
    limit 1;
    if missing is not null then
        raise exception 'A line decision references %, which its tenant does not have', missing
            using errcode = 'foreign_key_violation', table = 'line_decisions';
    end if;
    return null;
end $$;

