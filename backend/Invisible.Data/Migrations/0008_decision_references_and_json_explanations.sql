-- Storing decisions, cheaper for large runs: their references checked once per statement instead of once per row, and
-- their explanations kept as written (json).
--
-- A reconcile run of a large tenant inserts ~100,000 match_decisions and ~280,000 line_decisions rows. A foreign key is
-- checked with one trigger call and one index probe per inserted row and key: 1.3 million of them for such a run, more
-- than half of the time it took to store it. The same guarantees hold here with set-based checks:
--   * inserting: every statement's new rows are anti-joined, once, with the rows they reference (an AFTER INSERT ...
--     FOR EACH STATEMENT trigger over the statement's transition table); one that references a row its tenant does not
--     have fails the statement with foreign_key_violation (23503), as the foreign key did;
--   * deleting or re-keying a referenced row: refused while a decision references it, by a row trigger on the referenced
--     table (documents are never deleted by the application, so this costs nothing in normal operation).
-- The checks run as the inserting role, under row-level security: a reference to another tenant's row is not found, as
-- the composite (tenant_id, ...) foreign keys made sure.

alter table match_decisions
    drop constraint match_decisions_tenant_id_invoice_id_fkey,
    drop constraint match_decisions_tenant_id_vendor_id_fkey,
    drop constraint match_decisions_tenant_id_purchase_order_id_fkey,
    drop constraint match_decisions_tenant_id_duplicate_of_fkey,
    drop constraint match_decisions_tenant_id_tolerance_id_fkey;
alter table line_decisions
    drop constraint line_decisions_tenant_id_match_decision_id_fkey,
    drop constraint line_decisions_tenant_id_invoice_line_id_fkey,
    drop constraint line_decisions_tenant_id_purchase_order_line_id_fkey;

create function match_decisions_check_references() returns trigger
    language plpgsql set search_path = pg_catalog, public, pg_temp as $$
declare
    missing text;
begin
    select reference into missing from (
        select format('invoice %s', n.invoice_id) from inserted n
        where not exists (select from invoices r where r.tenant_id = n.tenant_id and r.id = n.invoice_id)
        union all
        select format('vendor %s', n.vendor_id) from inserted n
        where n.vendor_id is not null and not exists (select from vendors r where r.tenant_id = n.tenant_id and r.id = n.vendor_id)
        union all
        select format('purchase order %s', n.purchase_order_id) from inserted n
        where n.purchase_order_id is not null
          and not exists (select from purchase_orders r where r.tenant_id = n.tenant_id and r.id = n.purchase_order_id)
        union all
        select format('invoice %s (as the original of a duplicate)', n.duplicate_of) from inserted n
        where n.duplicate_of is not null and not exists (select from invoices r where r.tenant_id = n.tenant_id and r.id = n.duplicate_of)
        union all
        select format('tolerance %s', n.tolerance_id) from inserted n
        where not exists (select from tolerances r where r.tenant_id = n.tenant_id and r.id = n.tolerance_id)
    ) as unresolved (reference)
    limit 1;
    if missing is not null then
        raise exception 'A match decision references % , which its tenant does not have', missing
            using errcode = 'foreign_key_violation', table = 'match_decisions';
    end if;
    return null;
end $$;

create trigger match_decisions_references_exist after insert on match_decisions
    referencing new table as inserted for each statement execute function match_decisions_check_references();

create function line_decisions_check_references() returns trigger
    language plpgsql set search_path = pg_catalog, public, pg_temp as $$
declare
    missing text;
begin
    select reference into missing from (
        select format('match decision %s', n.match_decision_id) from inserted n
        where not exists (select from match_decisions r where r.tenant_id = n.tenant_id and r.id = n.match_decision_id)
        union all
        select format('invoice line %s', n.invoice_line_id) from inserted n
        where not exists (select from invoice_lines r where r.tenant_id = n.tenant_id and r.id = n.invoice_line_id)
        union all
        select format('purchase order line %s', n.purchase_order_line_id) from inserted n
        where n.purchase_order_line_id is not null
          and not exists (select from purchase_order_lines r where r.tenant_id = n.tenant_id and r.id = n.purchase_order_line_id)
    ) as unresolved (reference)
    limit 1;
    if missing is not null then
        raise exception 'A line decision references % , which its tenant does not have', missing
            using errcode = 'foreign_key_violation', table = 'line_decisions';
    end if;
    return null;
end $$;

create trigger line_decisions_references_exist after insert on line_decisions
    referencing new table as inserted for each statement execute function line_decisions_check_references();

-- TG_ARGV: the referencing table and its column. A row may change as long as its key (tenant_id, id) does not.
create function refuse_removing_referenced_row() returns trigger
    language plpgsql set search_path = pg_catalog, public, pg_temp as $$
declare
    referenced boolean;
begin
    if tg_op = 'UPDATE' and (new.tenant_id, new.id) is not distinct from (old.tenant_id, old.id) then
        return new;
    end if;
    execute format('select exists (select from %I where tenant_id = $1 and %I = $2)', tg_argv[0], tg_argv[1])
        into referenced using old.tenant_id, old.id;
    if referenced then
        raise exception '% % is referenced by % (%): decisions are kept, so what they were based on is kept too',
            tg_table_name, old.id, tg_argv[0], tg_argv[1]
            using errcode = 'foreign_key_violation', table = tg_table_name;
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end $$;

create trigger decided_invoice_kept before delete or update of id, tenant_id on invoices
    for each row execute function refuse_removing_referenced_row('match_decisions', 'invoice_id');
create trigger duplicate_original_kept before delete or update of id, tenant_id on invoices
    for each row execute function refuse_removing_referenced_row('match_decisions', 'duplicate_of');
create trigger decided_vendor_kept before delete or update of id, tenant_id on vendors
    for each row execute function refuse_removing_referenced_row('match_decisions', 'vendor_id');
create trigger decided_purchase_order_kept before delete or update of id, tenant_id on purchase_orders
    for each row execute function refuse_removing_referenced_row('match_decisions', 'purchase_order_id');
create trigger applied_tolerance_kept before delete or update of id, tenant_id on tolerances
    for each row execute function refuse_removing_referenced_row('match_decisions', 'tolerance_id');
create trigger decision_of_lines_kept before delete or update of id, tenant_id on match_decisions
    for each row execute function refuse_removing_referenced_row('line_decisions', 'match_decision_id');
create trigger decided_invoice_line_kept before delete or update of id, tenant_id on invoice_lines
    for each row execute function refuse_removing_referenced_row('line_decisions', 'invoice_line_id');
create trigger decided_purchase_order_line_kept before delete or update of id, tenant_id on purchase_order_lines
    for each row execute function refuse_removing_referenced_row('line_decisions', 'purchase_order_line_id');

-- The explanations too are written once and read whole or by path (->, ->>), never searched: json, as the evidence
-- (0007), so storing a run does not parse every line's figures into numeric. Rewrites both tables once.
alter table match_decisions alter column explanation type json using explanation::json;
alter table line_decisions alter column explanation type json using explanation::json;
