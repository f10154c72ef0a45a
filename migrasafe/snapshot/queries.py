"""The catalog queries of a snapshot, one per object kind, for PostgreSQL 12 to 18.

Every query reads pg_catalog only. Objects of the system schemas, of temporary schemas and the
members of extensions (the extension is listed instead) are left out here; the schema filter
and the migration tools' bookkeeping tables are applied by the reader. Partitions' copies of
their parent's columns, constraints, indexes and triggers are left out too: the parent's own
object describes them, and PostgreSQL keeps them in step.
"""
from __future__ import annotations

USER_SCHEMA = r"""
    n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
"""


def not_extension_member(catalog: str, oid: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass "
            f"AND e.objid = {oid} AND e.deptype = 'e')")


QUALIFIED = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)"

SERVER = "SELECT current_setting('server_version_num')::int, current_setting('server_version'), current_database()"

SCHEMAS = f"""
SELECT n.nspname, quote_ident(n.nspname)
FROM pg_namespace n
WHERE {USER_SCHEMA} AND {not_extension_member('pg_namespace', 'n.oid')}
"""

EXTENSIONS = """
SELECT quote_ident(x.extname), x.extversion, quote_ident(n.nspname)
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
"""

RELATIONS = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, c.relkind::text, c.relpersistence::text,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       parent.name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       ARRAY(SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
             FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
             JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid AND NOT c.relispartition ORDER BY i.inhseqno),
       c.relrowsecurity, c.relforcerowsecurity,
       ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o),
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) AS name
    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    WHERE i.inhrelid = c.oid AND c.relispartition) parent ON true
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""

COLUMNS = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, quote_ident(a.attname),
       format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition
  AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""

# NOT NULL is a column's nullability (PostgreSQL 18 also catalogs it as a constraint, 'n').
CONSTRAINTS = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, quote_ident(con.conname), con.contype::text,
       pg_get_constraintdef(con.oid), con.convalidated
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype <> 'n' AND con.conparentid = 0 AND (con.conislocal OR NOT c.relispartition)
  AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""

# Indexes that implement a primary key, unique or exclusion constraint are that constraint.
INDEXES = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, quote_ident(n.nspname) || '.' || quote_ident(ic.relname),
       pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                  AND con.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""

SEQUENCES = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle, owner.relname, owner.qualified, owner.attname, owner.deptype
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT tc.relname, quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) AS qualified,
           quote_ident(a.attname) AS attname, d.deptype::text AS deptype
    FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    LIMIT 1) owner ON true
WHERE {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""


def functions(version_num: int) -> str:
    # A range type's constructor functions are part of the type (an internal dependency).
    # PostgreSQL 14 added SQL-standard bodies (BEGIN ATOMIC ...), kept parsed rather than in prosrc.
    body = ("CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
            if version_num >= 140000 else "p.prosrc")
    return f"""
SELECT n.nspname,
       quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prokind::text, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
       p.provolatile::text, p.proisstrict, p.prosecdef, p.proparallel::text,
       ARRAY(SELECT o FROM unnest(p.proconfig) o ORDER BY o),
       CASE WHEN p.prokind <> 'a' THEN {body} END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE {USER_SCHEMA} AND {not_extension_member('pg_proc', 'p.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass AND i.objid = p.oid
                  AND i.deptype = 'i')
"""


def triggers(version_num: int) -> str:
    # A partition's copy of its parent's trigger is internal on 12 and has tgparentid from 13.
    clone = "AND t.tgparentid = 0" if version_num >= 130000 else ""
    return f"""
SELECT n.nspname, c.relname, {QUALIFIED}, quote_ident(t.tgname), pg_get_triggerdef(t.oid), t.tgenabled::text
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal {clone} AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""


# Enums, domains, composite types (not a table's row type) and ranges; arrays and multiranges
# come with their element and range types.
TYPES = f"""
SELECT n.nspname, quote_ident(n.nspname) || '.' || quote_ident(t.typname), t.typtype::text,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
       CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
       ARRAY(SELECT quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid)
             FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype <> 'n' ORDER BY con.conname),
       ARRAY(SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       CASE WHEN t.typtype = 'r' THEN format_type(r.rngsubtype, NULL) END
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_range r ON r.rngtypid = t.oid
WHERE t.typtype IN ('e', 'd', 'c', 'r') AND (t.typrelid = 0 OR c.relkind = 'c')
  AND {USER_SCHEMA} AND {not_extension_member('pg_type', 't.oid')}
"""

# The owner's own privileges and the grantor's name are the environment's, not the schema's.
GRANTS = f"""
SELECT n.nspname, c.relname, {QUALIFIED}, c.relkind::text,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, g.privilege_type, g.is_grantable
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) g
LEFT JOIN pg_roles r ON r.oid = g.grantee
WHERE c.relacl IS NOT NULL AND g.grantee <> c.relowner AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
  AND {USER_SCHEMA} AND {not_extension_member('pg_class', 'c.oid')}
"""
