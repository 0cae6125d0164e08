-- QuickBooks Online (issue #22): one connected company per tenant, the export state of each invoice, vendor mappings,
-- the OAuth states of connections under way and the webhook notifications already handled. Tokens are sealed by the
-- application (AES-256-GCM under the secret store's totp-encryption-key ring, bound to tenant and realm); only the key id
-- is stored beside them.
create table quickbooks_connections (
    tenant_id                    uuid primary key references tenants,
    realm_id                     text not null unique,
    company_name                 text,
    status                       text not null default 'connected' check (status in ('connected', 'needs_reconnect', 'disconnected')),
    access_token                 bytea,
    access_token_key_id          text,
    access_token_expires_at      timestamptz,
    refresh_token                bytea not null,
    refresh_token_key_id         text not null,
    default_expense_account_id   text,
    default_expense_account_name text,
    create_missing_vendors       boolean not null default false,
    changes_checked_at           timestamptz,     -- the change-data-capture query's watermark
    last_error                   text,
    connected_by                 text not null,
    connected_at                 timestamptz not null default now(),
    updated_at                   timestamptz not null default now()
);

-- The newest export of each invoice. request_id is deterministic per invoice and attempt: QuickBooks answers a repeated
-- requestid with the entity it created the first time, so a retry after a lost answer never creates a second Bill.
create table quickbooks_exports (
    tenant_id     uuid not null references tenants,
    invoice_id    uuid not null,
    kind          text not null check (kind in ('bill', 'vendor_credit')),
    state         text not null check (state in ('waiting', 'exported', 'failed', 'differs')),
    qbo_id        text,
    sync_token    text,
    attempt       integer not null default 1 check (attempt >= 1),
    request_id    uuid not null,
    reason        text,                          -- why it waits, failed or differs
    fault_code    text,
    sent          jsonb,                         -- the entity as sent, compared with what QuickBooks holds later
    exported_at   timestamptz,
    checked_at    timestamptz,
    updated_at    timestamptz not null default now(),
    primary key (tenant_id, invoice_id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id)
);
create index quickbooks_exports_state on quickbooks_exports (tenant_id, state);
create index quickbooks_exports_qbo_id on quickbooks_exports (tenant_id, kind, qbo_id);

create table quickbooks_vendor_mappings (
    tenant_id          uuid not null references tenants,
    vendor_id          uuid not null,
    qbo_vendor_id      text not null,
    qbo_vendor_name    text not null,
    expense_account_id text,                    -- overrides the connection's default account for this vendor
    source             text not null check (source in ('tax_id', 'name', 'created', 'user')),
    updated_by         text not null,
    updated_at         timestamptz not null default now(),
    primary key (tenant_id, vendor_id),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id) on delete cascade
);

create table quickbooks_oauth_states (
    tenant_id  uuid not null references tenants,
    state_hash bytea primary key check (length(state_hash) = 32),
    created_by text not null,
    expires_at timestamptz not null
);

create table quickbooks_webhook_events (
    tenant_id   uuid not null references tenants,
    event_key   text not null,                  -- entity, id, operation and lastUpdated: a redelivery has the same key
    received_at timestamptz not null default now(),
    primary key (tenant_id, event_key)
);

do $$
declare
    quickbooks_table regclass;
begin
    foreach quickbooks_table in array array['quickbooks_connections', 'quickbooks_exports', 'quickbooks_vendor_mappings',
                                            'quickbooks_oauth_states', 'quickbooks_webhook_events']::regclass[]
    loop
        execute format('alter table %s enable row level security', quickbooks_table);
        execute format('alter table %s force row level security', quickbooks_table);
        execute format(
            'create policy tenant_isolation on %s using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', quickbooks_table);
        execute format('grant select, insert, update, delete on %s to invisible_app', quickbooks_table);
    end loop;
end $$;

-- The questions asked before a tenant is known: which tenant a webhook's realm or an OAuth callback's state belongs to, and
-- which tenants to ask for changes. Answered by definer functions like the sign-in and intake lookups.
create policy directory_lookup on quickbooks_connections for select to current_user using (true);
create policy directory_lookup on quickbooks_oauth_states for select to current_user using (true);

create function quickbooks_find_tenant(p_realm_id text)
    returns uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select c.tenant_id from quickbooks_connections c where c.realm_id = p_realm_id and c.status <> 'disconnected'
$$;

create function quickbooks_connected_tenants()
    returns setof uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select c.tenant_id from quickbooks_connections c where c.status = 'connected'
$$;

create function quickbooks_oauth_state_tenant(p_state_hash bytea)
    returns uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select s.tenant_id from quickbooks_oauth_states s where s.state_hash = p_state_hash and s.expires_at > now()
$$;

revoke execute on function quickbooks_find_tenant(text), quickbooks_connected_tenants(), quickbooks_oauth_state_tenant(bytea) from public;
grant execute on function quickbooks_find_tenant(text), quickbooks_connected_tenants(), quickbooks_oauth_state_tenant(bytea) to invisible_app;
