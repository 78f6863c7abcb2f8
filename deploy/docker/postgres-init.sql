-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/):
-- one database per service and the portal's, owned by the platform role (POSTGRES_USER, here "pfdo").
CREATE DATABASE registry OWNER pfdo;
CREATE DATABASE navigator OWNER pfdo;
CREATE DATABASE billing OWNER pfdo;
CREATE DATABASE ratings OWNER pfdo;
-- the regional portal's own database (its sessions)
CREATE DATABASE portal OWNER pfdo;
