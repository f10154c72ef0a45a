CREATE UNLOGGED TABLE page_views (
    path text NOT NULL,
    viewed_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO page_views (path) VALUES ('/'), ('/about'), ('/');
