-- Vendor merges and dismissed duplicates (issue #23). A merged vendor stays in the master (decisions made about it keep
-- their reference) but points at the vendor it was merged into; the resolver, the vendor list and the duplicate clusters
-- leave it out. Each merge keeps exactly what it changed (row ids and their previous values), so an unmerge restores that.
alter table vendors add column merged_into uuid;
alter table vendors add constraint vendors_merged_into_fkey foreign key (tenant_id, merged_into) references vendors (tenant_id, id);
alter table vendors add constraint vendors_not_merged_into_itself check (merged_into is distinct from id);
comment on column vendors.merged_into is 'the survivor this vendor was merged into (vendor_merges); null for a vendor of the master';

create table vendor_merges (
    id                uuid primary key default gen_random_uuid(),
    tenant_id         uuid not null references tenants,
    survivor_id       uuid not null,
    merged_vendor_ids uuid[] not null check (cardinality(merged_vendor_ids) >= 1),
    changes           jsonb not null,          -- per table: the ids of the rows the merge changed and their previous values
    merged_by         text not null,
    merged_at         timestamptz not null default now(),
    unmerged_by       text,
    unmerged_at       timestamptz,
    unique (tenant_id, id),
    foreign key (tenant_id, survivor_id) references vendors (tenant_id, id)
);
create index vendor_merges_survivor on vendor_merges (tenant_id, survivor_id, merged_at desc);

-- Pairs a person said are not one company: the duplicate clusters no longer join them. The smaller id comes first.
create table vendor_duplicate_dismissals (
    tenant_id        uuid not null references tenants,
    first_vendor_id  uuid not null,
    second_vendor_id uuid not null,
    dismissed_by     text not null,
    dismissed_at     timestamptz not null default now(),
    primary key (tenant_id, first_vendor_id, second_vendor_id),
    check (first_vendor_id < second_vendor_id),
    foreign key (tenant_id, first_vendor_id) references vendors (tenant_id, id) on delete cascade,
    foreign key (tenant_id, second_vendor_id) references vendors (tenant_id, id) on delete cascade
);

alter table vendor_merges enable row level security;
alter table vendor_merges force row level security;
create policy tenant_isolation on vendor_merges
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update (unmerged_by, unmerged_at) on vendor_merges to invisible_app;

alter table vendor_duplicate_dismissals enable row level security;
alter table vendor_duplicate_dismissals force row level security;
create policy tenant_isolation on vendor_duplicate_dismissals
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, delete on vendor_duplicate_dismissals to invisible_app;
