-- The demo shop: products, customers and orders, generated deterministically (the same rows on
-- every machine, no random source). Build it with: sqlite3 shop.db < shop.sql
PRAGMA journal_mode = OFF;
BEGIN;

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price NUMERIC(10,2) NOT NULL
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    country TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    total NUMERIC(12,2) NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- 60 products: an adjective, a noun and a category, priced from 2.50 to 251.50.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO products (id, name, category, price)
SELECT i,
       json_extract('["Classic","Deluxe","Compact","Rugged","Smart","Vintage"]', '$[' || (i % 6) || ']') || ' ' ||
       json_extract('["Kettle","Lamp","Backpack","Notebook","Headphones","Chair","Mug","Umbrella","Bottle","Clock"]', '$[' || (i % 10) || ']'),
       json_extract('["kitchen","home","outdoor","office","audio"]', '$[' || (i % 5) || ']'),
       round(2.5 + ((i * 7919) % 250), 2)
FROM n;

-- 800 customers in 8 countries; every 17th has no email.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800)
INSERT INTO customers (id, name, email, country, created_at)
SELECT i,
       json_extract('["Ada","Alan","Grace","Linus","Margaret","Dennis","Barbara","Ken","Frances","Edsger","Radia","Tim"]', '$[' || (i % 12) || ']') || ' ' ||
       json_extract('["Lovelace","Turing","Hopper","Torvalds","Hamilton","Ritchie","Liskov","Thompson","Allen","Dijkstra","Perlman"]', '$[' || ((i * 7) % 11) || ']'),
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'customer' || i || '@example.com' END,
       json_extract('["CZ","DE","FR","NL","PL","SE","US","GB"]', '$[' || ((i * 5) % 8) || ']'),
       strftime('%Y-%m-%d %H:%M:%S', '2023-01-01', '+' || ((i * 37) % 730) || ' days', '+' || ((i * 7919) % 86400) || ' seconds')
FROM n;

-- 4,000 orders over 2024 and 2025; about one in ten cancelled or refunded.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
INSERT INTO orders (id, customer_id, product_id, quantity, total, status, created_at)
SELECT i,
       -- Multiplicative hashing spreads customers, products and dates without a random source.
       1 + ((i * 2654435761) % 4294967291) % 800,
       1 + (((i * 40503 + 11) * 2246822519) % 4294967291) % 60,
       1 + ((i * i * 31 + i) % 97) % 5,
       0,
       json_extract('["paid","paid","paid","shipped","shipped","shipped","shipped","paid","cancelled","refunded"]', '$[' || ((i * i * 7 + i) % 10) || ']'),
       strftime('%Y-%m-%d %H:%M:%S', '2024-01-01', '+' || ((i * 2654435761) % 731) || ' days', '+' || ((i * 104729) % 86400) || ' seconds')
FROM n;

UPDATE orders SET total = round(quantity * (SELECT price FROM products WHERE products.id = orders.product_id), 2);

COMMIT;
