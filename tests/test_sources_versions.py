from migrasafe.sources.versions import flyway_version_key, natural_key, same_version


def ordered(names, key):
    return sorted(names, key=key)


def test_plain_names_compare_numbers_not_characters():
    names = ["10_c.sql", "2_b.sql", "1_a.sql"]
    assert ordered(names, natural_key) == ["1_a.sql", "2_b.sql", "10_c.sql"]


def test_plain_dotted_versions_compare_part_by_part():
    names = ["1.2.10_x.sql", "1.2.9_x.sql", "1.10_x.sql", "1.9_x.sql"]
    assert ordered(names, natural_key) == ["1.2.9_x.sql", "1.2.10_x.sql", "1.9_x.sql", "1.10_x.sql"]


def test_plain_timestamps_and_unnumbered_files_last():
    names = ["seed.sql", "20240101120000_b.sql", "20231231000000_a.sql", "README_fix.sql"]
    assert ordered(names, natural_key) == [
        "20231231000000_a.sql", "20240101120000_b.sql", "README_fix.sql", "seed.sql",
    ]


def test_plain_ties_break_by_name():
    assert ordered(["003_b.sql", "003_a.sql"], natural_key) == ["003_a.sql", "003_b.sql"]


def test_flyway_versions_are_numeric_with_underscore_as_dot():
    versions = ["2.0.3", "1_10", "1.9", "1.1", "1", "10"]
    assert sorted(versions, key=flyway_version_key) == ["1", "1.1", "1.9", "1_10", "2.0.3", "10"]


def test_flyway_trailing_zeros_are_the_same_version():
    assert flyway_version_key("1.0") == flyway_version_key("1") == flyway_version_key("001")


def test_flyway_rejects_non_numeric_versions():
    assert flyway_version_key("1a") is None
    assert flyway_version_key("") is None


def test_same_version_follows_each_tool():
    assert same_version("flyway", "1_1", "1.1")
    assert same_version("golang-migrate", "0007", "7")
    assert not same_version("popx", "0007", "7")
