-- Retention (issue #24): how long a tenant keeps its records, what a legal hold keeps whatever its age, and the one way old
-- audit entries may leave the append-only log.

-- A tenant without a row keeps the defaults (7 years after the fiscal year for financial records, 3 years of audit entries,
-- fiscal year ending 31 December). Periods below the defaults need a person who forced them, recorded here and in the audit log.
create table retention_policies (
    tenant_id             uuid primary key references tenants,
    financial_years       integer not null check (financial_years between 1 and 100),
    audit_years           integer not null check (audit_years between 1 and 100),
    fiscal_year_end_month integer not null default 12 check (fiscal_year_end_month between 1 and 12),
    fiscal_year_end_day   integer not null default 31 check (fiscal_year_end_day between 1 and 31),
    forced_by             text,
    updated_by            text not null,
    updated_at            timestamptz not null default now()
);

-- A hold on the whole tenant (vendor_id null) or on one vendor: what it covers is never pruned, whatever its age.
create table legal_holds (
    id        uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants,
    vendor_id uuid,
    reason    text not null check (length(reason) between 1 and 500),
    placed_by text not null,
    placed_at timestamptz not null default now(),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id)
);
create unique index legal_holds_one_per_scope on legal_holds (tenant_id, coalesce(vendor_id, '00000000-0000-0000-0000-000000000000'));

do $$
declare
    retention_table text;
begin
    foreach retention_table in array array['retention_policies', 'legal_holds'] loop
        execute format('alter table %I enable row level security', retention_table);
        execute format('alter table %I force row level security', retention_table);
        execute format($p$create policy tenant_isolation on %I
            using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
            with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, retention_table);
    end loop;
end $$;
grant select, insert, update on retention_policies to invisible_app;
grant select, insert, delete on legal_holds to invisible_app;

-- The audit log stays append-only for the application (it has no DELETE grant). The retention run, as the owner, may remove a
-- tenant's oldest entries up to the sequence number it names in invisible.audit_prune_through, after it appended the
-- checkpoint entry that carries the last removed hash: the chain verifier starts a pruned chain at that checkpoint.
create or replace function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE'
       and old.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
       and old.seq <= coalesce(nullif(current_setting('invisible.audit_prune_through', true), '')::bigint, 0) then
        return old;
    end if;
    raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;
