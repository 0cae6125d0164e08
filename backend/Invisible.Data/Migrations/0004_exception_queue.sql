-- Exception queue and tolerances, part 1: what reviewers' actions and versioned tolerances need beyond schema v1.

-- A per-unit absolute price limit besides the percentage (null: none); when both are set the stricter applies.
alter table tolerances add column price_tolerance_absolute numeric(19,4) check (price_tolerance_absolute >= 0);
-- A vendor override is removed by a new version that says so (history stays); the vendor falls back to the default.
alter table tolerances add column removed boolean not null default false;
alter table tolerances add constraint tolerances_default_not_removed check (vendor_id is not null or not removed);

-- Reviewers' instructions that every later evaluation of the invoice honours: re-match it to a chosen PO (and lines),
-- or "not a duplicate". Append-only like decisions: the newest rematch of an invoice is the one in force.
create table match_overrides (
    id            uuid primary key default gen_random_uuid(),
    tenant_id     uuid not null references tenants,
    invoice_id    uuid not null,
    kind          text not null check (kind in ('rematch', 'not_duplicate')),
    po_number     text,                      -- rematch: the chosen PO
    line_pairings jsonb not null default '[]', -- rematch: [{"invoiceLineNo": 1, "poLineNo": 2}], empty = engine pairs
    reason        text not null check (length(reason) between 1 and 2000),
    created_by    text not null,             -- the user's (or API key's) id, as match_decisions.decided_by
    created_at    timestamptz not null default now(),
    check (kind <> 'rematch' or po_number is not null),
    unique (tenant_id, id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id)
);
create index match_overrides_invoice on match_overrides (tenant_id, invoice_id, created_at desc);
alter table match_overrides enable row level security;
alter table match_overrides force row level security;
create policy tenant_isolation on match_overrides
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert on match_overrides to invisible_app;

-- The queue is listed by age and amount; the dashboard groups open items by reason.
create index exceptions_invoice on exceptions (tenant_id, invoice_id);
