#!/bin/sh
# First start of the compose PostgreSQL: the roles and databases the product and the Dapr state store expect.
# The product migrates its own schema at start-up as invisible_owner and connects as invisible_app, which owns nothing
# and cannot bypass row-level security. The Dapr state store gets a database and role of its own.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$INVISIBLE_OWNER_PASSWORD" \
  -v app_password="$INVISIBLE_APP_PASSWORD" \
  -v state_password="$DAPR_STATE_PASSWORD" <<'SQL'
create role invisible_owner login password :'owner_password';
create role invisible_app login noinherit password :'app_password';
create database invisible owner invisible_owner;
revoke all on database invisible from public;
grant connect on database invisible to invisible_app;
create role dapr_state login password :'state_password';
create database dapr_state owner dapr_state;
SQL
