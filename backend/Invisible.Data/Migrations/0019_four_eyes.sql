-- Segregation of duties: with four_eyes on, an override (approve, re-match, "not a duplicate") is refused to the person
-- who imported the invoice's file, so no one both brings an invoice in and waves it through. Off by default: a tenant of
-- one or two people could otherwise not work its queue at all.
alter table tenants add column four_eyes boolean not null default false;
grant update (four_eyes) on tenants to invisible_app;
