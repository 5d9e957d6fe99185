extension EmbeddedSpecs {
    /// The spec of `postgres.extractor`: reads a query or a table from PostgreSQL in a READ ONLY
    /// transaction and streams the rows.
    static let postgresExtractor = #"""
name: postgres.extractor
version: 1.0.0
title: PostgreSQL Extractor
description: Reads the result of one SQL query, or the rows of one table, from a PostgreSQL database inside a READ ONLY transaction and streams them to the next steps.
modes: [extract, discover]
capabilities:
  discover: true
  adHocAnalytics: true
  inMemoryMove: false
  streaming: true
  bulkOperations: true
  transactions: true
  partitioning: false
  customTransforms: false
configSchema:
  type: object
  properties:
    connection:
      type: string
      description: 'Connection reference "@family.alias"; omitted means the family default.'
      pattern: '^@[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
    query:
      type: string
      minLength: 1
      description: One read-only SQL statement (SELECT, WITH or VALUES) whose result is extracted.
    table:
      type: string
      minLength: 1
      description: Name of the table or view to extract, optionally qualified as schema.table.
    schema:
      type: string
      minLength: 1
      description: Schema of the table; defaults to the connection's schema, else the server's search path.
    columns:
      type: array
      items: {type: string, minLength: 1}
      description: Columns to extract from the table, in this order; omitted means every column.
    where:
      type: string
      minLength: 1
      description: SQL condition added as a WHERE clause when extracting a table.
    limit:
      type: integer
      minimum: 1
      description: Maximum number of rows to extract from the table.
    batch_size:
      type: integer
      minimum: 100
      maximum: 100000
      default: 10000
      description: Number of rows fetched from the server per round trip.
    host:
      type: string
      minLength: 1
      description: Server host name or address, normally taken from the connection.
    port:
      type: integer
      minimum: 1
      maximum: 65535
      description: Server port, normally taken from the connection.
    database:
      type: string
      minLength: 1
      description: Database name, which comes from the connection and cannot be changed by a step.
    user:
      type: string
      minLength: 1
      description: Login role, which comes from the connection and cannot be changed by a step.
    password:
      type: string
      description: Password, a secret that belongs in the connections file and never in OML.
    dsn:
      type: string
      description: A postgres:// connection URL, a secret that belongs in the connections file and never in OML.
  oneOf:
    - required: [query]
    - required: [table]
  additionalProperties: false
secrets: [/password, /dsn]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: postgres
x-role: extractor
examples:
  - title: Whole table
    config:
      connection: "@pg.shop"
      table: orders
    notes: Extracts every column of public.orders in table order.
  - title: Selected columns with a filter
    config:
      table: customers
      schema: public
      columns: [id, name, country]
      where: "country = 'CZ'"
      limit: 5000
    notes: Uses the default postgres connection and reads at most 5000 rows.
  - title: Custom query
    config:
      connection: "@pg.shop"
      query: |
        SELECT o.id, o.total, c.name
        FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE o.created_at >= '2024-01-01'
    notes: The query must be a single read-only statement.
llmHints:
  promptGuidance: |
    Use postgres.extractor (mode: read) to read from PostgreSQL.
    Give exactly one of `table` (optionally with `columns`, `where`, `limit`) or `query` (one read-only SELECT).
    Put the connection reference in `connection` ("@pg.alias"); never write host, user, password or dsn in OML.
    Use only tables and columns that appear in the discovery snapshot.
  inputAliases:
    table: [table_name, source_table, from_table]
    query: [sql, sql_query, select_query]
    columns: [fields, column_names]
    where: [filter, condition]
"""#
}
