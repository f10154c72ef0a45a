-- PostgreSQL database dump
CREATE TABLE orders (id bigint PRIMARY KEY);
