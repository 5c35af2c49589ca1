-- One service's database with least privilege (PostgreSQL 13+). Run as a superuser, e.g.
--   psql -v service=referrals -v owner_password="$(cat owner)" -v app_password="$(cat app)" \
--        -f deploy/postgres/service-roles.sql
-- <service>_owner owns the database and schema and runs the migrations (`migrate`, the
-- migration Job); <service>_app is what the running service logs in as: it may read and write
-- rows of its own tables and nothing else, so it cannot alter a table, drop or disable the
-- audit triggers, or create objects. Both roles are LOGIN roles with passwords (SCRAM).
\set ON_ERROR_STOP on
\set owner :service _owner
\set app :service _app

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"service" OWNER :"owner";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"service" TO :"app";

\connect :"service"
-- PostgreSQL 14 and older let every role create objects in public; nobody but the owner may.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";
-- Tables and sequences the owner's migrations create from now on: rows only, for the app.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
