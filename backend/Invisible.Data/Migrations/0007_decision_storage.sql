-- Decision storage for large reconcile runs (a run appends one match_decisions row per invoice and one line_decisions row
-- per invoice line, ~100,000 and ~300,000 for a large tenant): work PostgreSQL did for every row that guarded nothing
-- the schema does not already guarantee.

-- tenant_id -> tenants on the decision tables is implied by their composite foreign keys: every match_decisions row
-- references (tenant_id, invoice_id) of an invoice and every line_decisions row (tenant_id, match_decision_id) of a
-- decision, both columns not null, and the referenced rows reference tenants themselves. The direct foreign keys only
-- repeated that check, one trigger call per inserted row.
alter table match_decisions drop constraint match_decisions_tenant_id_fkey;
alter table line_decisions drop constraint line_decisions_tenant_id_fkey;

-- The evidence of a decision (vendor candidates with their scores and top features, PO candidates, totals) is written once
-- and read whole or by path (->, ->>), never searched by containment or indexed: json keeps the document as written,
-- where jsonb parses every one of its numbers into numeric on the way in, the largest part of storing a run after the
-- foreign key checks. Rewrites the table once.
alter table match_decisions alter column evidence type json using evidence::json;

-- LZ4 (when the server is built with it) compresses the larger documents several times faster than the default pglz.
do $$
begin
    if exists (select from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
        alter table match_decisions alter column explanation set compression lz4, alter column evidence set compression lz4;
        alter table line_decisions alter column explanation set compression lz4;
    end if;
end $$;
