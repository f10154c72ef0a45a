CREATE TABLE tmp_import (id bigint);
ALTER TABLE tmp_import RENAME TO imports;
