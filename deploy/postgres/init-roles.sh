#!/bin/sh
# Run once by the postgres image on first start (/docker-entrypoint-initdb.d): for each
# service, its database, an owner role that migrates and an app role with rows-only rights
# (deploy/postgres/service-roles.sql), with passwords from the secrets volume.
set -eu
SECRETS="${HUB_SECRETS_DIR:-/run/hub-secrets}"
ROLES_SQL="${HUB_ROLES_SQL:-/opt/locality-hub/service-roles.sql}"
for service in ${HUB_SERVICES:-referrals actionplans metrics gateway}; do
    psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v service="$service" \
        -v owner_password="$(cat "$SECRETS/${service}_owner_password")" \
        -v app_password="$(cat "$SECRETS/${service}_app_password")" \
        -f "$ROLES_SQL"
done
