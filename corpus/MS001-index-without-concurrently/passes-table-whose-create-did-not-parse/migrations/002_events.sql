CREATE TABLE events (id bigint AUTO_INCREMENT PRIMARY KEY, kind text);
CREATE INDEX events_kind_idx ON events (kind);
