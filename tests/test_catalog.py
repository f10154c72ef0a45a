from migrasafe.catalog import Catalog
from migrasafe.catalog.apply import apply
from migrasafe.parse import split_statements


def replay(sql: str, catalog: Catalog | None = None, migration: str = "m1") -> Catalog:
    catalog = catalog or Catalog()
    catalog.migration = migration
    for stmt in split_statements(sql):
        apply(catalog, stmt.node)
    return catalog


def test_tables_columns_and_constraints():
    cat = replay("""
        CREATE TABLE p (id bigserial PRIMARY KEY, code varchar(20) UNIQUE, price numeric(10,2) DEFAULT 0);
        CREATE TABLE c (id int, p_id bigint REFERENCES p (id), CHECK (id > 0));
        ALTER TABLE c ADD CONSTRAINT c_id_nn CHECK (id IS NOT NULL) NOT VALID;
    """)
    p = cat.get("public.p")
    assert str(p.columns["code"].type) == "varchar(20)" and str(p.columns["price"].type) == "numeric(10,2)"
    assert p.columns["id"].not_null and p.columns["id"].default_volatile
    assert "public.p_id_seq" in p.owned_sequences
    assert {c.kind for c in p.constraints.values()} == {"p", "u"}
    c = cat.get("public.c")
    fk = next(x for x in c.constraints.values() if x.kind == "f")
    assert fk.references == "public.p" and fk.columns == ("p_id",)
    assert not c.not_null_proven("id")
    replay("ALTER TABLE c VALIDATE CONSTRAINT c_id_nn;", cat)
    assert c.not_null_proven("id")


def test_live_means_created_by_an_earlier_migration():
    cat = replay("CREATE TABLE old (id int);", migration="m1")
    replay("CREATE TABLE fresh (id int);", cat, migration="m2")
    assert cat.is_live("public.old") and cat.is_new("public.fresh")
    assert cat.is_live("public.never_created")  # unknown history: assume it holds data


def test_renames_drops_and_schemas():
    cat = replay("""
        CREATE SCHEMA app;
        CREATE TABLE app.t (a int, b text);
        CREATE INDEX t_a ON app.t (a);
        ALTER TABLE app.t RENAME COLUMN a TO aa;
        ALTER TABLE app.t RENAME TO u;
        SET search_path TO app, public;
        ALTER TABLE u DROP COLUMN b;
    """)
    u = cat.get("app.u")
    assert list(u.columns) == ["aa"]
    assert cat.indexes["app.t_a"].table == "app.u"
    replay("DROP TABLE app.u;", cat)
    assert "app.u" not in cat.relations and "app.t_a" not in cat.indexes


def test_partitions_views_and_enums():
    cat = replay("""
        CREATE TABLE m (at date, v int) PARTITION BY RANGE (at);
        CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE VIEW mv AS SELECT v FROM m;
        CREATE TYPE mood AS ENUM ('a');
        ALTER TYPE mood ADD VALUE 'b';
        ALTER TABLE m DETACH PARTITION m_2024;
    """)
    assert cat.get("public.m").kind == "partitioned" and cat.get("public.m").partitions == []
    assert cat.get("public.mv").depends_on == {"public.m"}
    assert cat.types["public.mood"].values == ["a", "b"]


def test_renames_keep_foreign_keys_pointing_at_the_table():
    cat = replay("""
        CREATE TABLE p (id int PRIMARY KEY);
        CREATE TABLE c (id int, p_id int, CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id));
        ALTER TABLE p RENAME TO parent;
        CREATE SCHEMA app;
        ALTER TABLE c SET SCHEMA app;
        ALTER TABLE app.c RENAME CONSTRAINT c_p TO c_parent;
    """)
    parent = cat.get("public.parent")
    assert [(child.name, con.name) for child, con in parent.referencing(cat)] == [("app.c", "c_parent")]
    replay("ALTER TABLE app.c DROP CONSTRAINT c_parent;", cat)
    assert parent.referencing(cat) == []


def test_a_copied_catalog_keeps_each_relations_containers_its_own():
    import pickle

    from migrasafe.catalog.state import Catalog, Relation

    catalog = Catalog()
    for name in ("public.a", "public.b"):
        catalog.relations[name] = Relation(name, "table")
    # Both start with the one shared empty list and dict; a copy (or a pickle) meets it twice.
    for copied in (catalog.copy(), pickle.loads(pickle.dumps(catalog))):
        a, b = copied.relations["public.a"], copied.relations["public.b"]
        a.changeable("indexes").append("public.a_idx")
        a.changeable("columns")["note"] = None
        assert b.indexes == [] and b.columns == {}
        assert a.indexes == ["public.a_idx"] and list(a.columns) == ["note"]
