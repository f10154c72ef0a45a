"""`migrasafe drift`: does a live database's schema match what its migrations build?

The migrations are applied in order on a throwaway PostgreSQL (the replay's server and its
statement runner, without rows), of the live server's major when that major is installed here;
both schemas are read from the catalog (migrasafe.snapshot) and compared object by object. The
live database is only read: one connection, ``SET default_transaction_read_only = on``, a
``statement_timeout``, one ``BEGIN READ ONLY`` transaction of catalog SELECTs (the snapshot's,
which set search_path for that transaction alone, and one of pg_roles), rolled back. The live
server's roles are made on the throwaway server first, but for those the migrations create:
migrations grant to roles, which are the server's and usually made outside them.
"""
