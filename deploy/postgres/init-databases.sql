-- Each service owns its database (run once by the postgres image on first start).
CREATE DATABASE referrals;
CREATE DATABASE actionplans;
CREATE DATABASE metrics;
CREATE DATABASE gateway;
