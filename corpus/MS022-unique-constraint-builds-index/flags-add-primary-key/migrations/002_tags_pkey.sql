SET lock_timeout = '2s';
ALTER TABLE tags ADD PRIMARY KEY (id);
