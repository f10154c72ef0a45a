env "local" {
  src = "${local.schema_src}"
  migration {
    dir    = "${local.migrations_dir}"
    format = golang-migrate
  }
}

locals {
  schema_src     = "ent://ent/schema"
  migrations_dir = "file://db/migrations"
}
