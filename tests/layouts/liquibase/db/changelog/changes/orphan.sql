--liquibase formatted sql

--changeset dan:orphan
DROP TABLE orders;
