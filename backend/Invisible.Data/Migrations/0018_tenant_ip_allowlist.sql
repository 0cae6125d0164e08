-- The address ranges (CIDR, canonical text as System.Net.IPNetwork writes it) from which a tenant's people may sign in and
-- refresh and its API keys may call. No rows: from anywhere. Text rather than cidr so the application parses one format.
create table tenant_ip_allowlist (
    tenant_id  uuid not null references tenants,
    cidr       text not null check (length(cidr) between 3 and 49),
    created_by text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, cidr)
);
alter table tenant_ip_allowlist enable row level security;
alter table tenant_ip_allowlist force row level security;
create policy tenant_isolation on tenant_ip_allowlist
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, delete on tenant_ip_allowlist to invisible_app;
