-- Approval policies (issue #25): a tenant's rules for how many approvals an exception needs and from whom, the approvals
-- given, delegations of one person's approvals to another for a period, and the exchange rates the tenant gives so amount
-- thresholds in its own currency apply to invoices in others. The four-eyes flag (0019) stays on tenants: the engine
-- reads it as one of its rules.

-- The rules in order: the first that catches an exception applies. Saved as a whole list (delete and insert), so a rule
-- change never touches the approvals already given nor the items already decided.
create table approval_rules (
    id                 uuid primary key default gen_random_uuid(),
    tenant_id          uuid not null references tenants,
    position           integer not null check (position >= 0),
    name               text not null check (length(name) between 1 and 100),
    min_amount         numeric(19,4) check (min_amount >= 0),
    max_amount         numeric(19,4) check (max_amount >= 0),
    currency           char(3) check (currency ~ '^[A-Z]{3}$'),
    vendor_codes       text[] not null default '{}',
    reasons            text[] not null default '{}',
    required_approvals integer not null check (required_approvals between 1 and 5),
    approver_roles     text[] not null default '{}',
    named_approvers    uuid[] not null default '{}',
    required_role      text check (required_role in ('admin', 'approver')),
    updated_by         text not null,
    updated_at         timestamptz not null default now(),
    unique (tenant_id, position)
);

-- One row per approval: who gave it, for whom it counts (the delegator when acting for one), under which rule. The ids
-- are a user's or an approver-role API key's (as match_decisions.decided_by), hence no foreign key to users.
create table exception_approvals (
    id             uuid primary key default gen_random_uuid(),
    tenant_id      uuid not null references tenants,
    exception_id   uuid not null references exceptions,
    approver_id    uuid not null,
    principal_id   uuid not null,
    principal_role text not null check (principal_role in ('admin', 'approver', 'clerk', 'auditor')),
    rule_name      text not null,
    comment        text not null,
    approved_at    timestamptz not null default now(),
    unique (exception_id, principal_id)
);
create index exception_approvals_exception on exception_approvals (tenant_id, exception_id);

create table approval_delegations (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references tenants,
    delegator_id uuid not null,
    delegate_id  uuid not null,
    starts_at    timestamptz not null,
    ends_at      timestamptz not null,
    reason       text not null default '',
    created_by   text not null,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz,
    check (ends_at > starts_at),
    check (delegator_id <> delegate_id),
    foreign key (tenant_id, delegator_id) references users (tenant_id, id),
    foreign key (tenant_id, delegate_id) references users (tenant_id, id)
);
create index approval_delegations_delegate on approval_delegations (tenant_id, delegate_id) where revoked_at is null;

-- One unit of currency is worth rate units of tenants.default_currency from valid_from on.
create table exchange_rates (
    tenant_id  uuid not null references tenants,
    currency   char(3) not null check (currency ~ '^[A-Z]{3}$'),
    valid_from date not null,
    rate       numeric(19,8) not null check (rate > 0),
    primary key (tenant_id, currency, valid_from)
);

alter table approval_rules enable row level security;
alter table approval_rules force row level security;
create policy tenant_isolation on approval_rules
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, delete on approval_rules to invisible_app;

alter table exception_approvals enable row level security;
alter table exception_approvals force row level security;
create policy tenant_isolation on exception_approvals
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert on exception_approvals to invisible_app;

alter table approval_delegations enable row level security;
alter table approval_delegations force row level security;
create policy tenant_isolation on approval_delegations
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update (revoked_at) on approval_delegations to invisible_app;

alter table exchange_rates enable row level security;
alter table exchange_rates force row level security;
create policy tenant_isolation on exchange_rates
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, delete on exchange_rates to invisible_app;
