// Atlas project: the schema lives in schema.sql, migrations in migrations/.
variable "dir" {
  type    = string
  default = "file://migrations"
}

env "local" {
  src = "file://schema.sql"
  dev = "docker://postgres/16/dev?search_path=public"
  migration {
    dir = var.dir
  }
}
