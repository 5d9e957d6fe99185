-- The demo shop's tables in PostgreSQL, for `make demo-servers`: the same columns as shop.sql, which
-- scripts/demo-servers fills from the SQLite demo database with psql's \copy.
CREATE TABLE products (
    id integer PRIMARY KEY,
    name text NOT NULL,
    category text NOT NULL,
    price numeric(10,2) NOT NULL
);

CREATE TABLE customers (
    id integer PRIMARY KEY,
    name text NOT NULL,
    email text,
    country text NOT NULL,
    created_at timestamp NOT NULL
);

CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    product_id integer NOT NULL REFERENCES products (id),
    quantity integer NOT NULL,
    total numeric(12,2) NOT NULL,
    status text NOT NULL,
    created_at timestamp NOT NULL
);
