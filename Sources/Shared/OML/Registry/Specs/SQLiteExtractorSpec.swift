extension EmbeddedSpecs {
    /// The spec of `sqlite.extractor`: reads a query or a table from a SQLite database file.
    static let sqliteExtractor = #"""
name: sqlite.extractor
version: 1.0.0
title: SQLite Extractor
description: Reads the result of one SQL query, or the rows of one table, from a SQLite database file opened read-only and streams them to the next steps.
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
    path:
      type: string
      minLength: 1
      description: Path of the database file, normally taken from the connection.
    query:
      type: string
      minLength: 1
      description: One read-only SQL statement (SELECT, WITH or VALUES) whose result is extracted.
    table:
      type: string
      minLength: 1
      description: Name of the table or view to extract.
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
  oneOf:
    - required: [query]
    - required: [table]
  additionalProperties: false
secrets: []
x-connection-fields:
  - {name: path, override: allowed}
x-family: sqlite
x-role: extractor
examples:
  - title: Whole table
    config:
      connection: "@sqlite.demo"
      table: orders
    notes: Extracts every column of the orders table.
  - title: Query against another file
    config:
      path: data/archive.db
      query: "SELECT id, total FROM orders WHERE total > 100"
    notes: The path overrides the default sqlite connection's file.
llmHints:
  promptGuidance: |
    Use sqlite.extractor (mode: read) to read from a SQLite database file; it needs no server.
    Give exactly one of `table` (optionally with `columns`, `where`, `limit`) or `query` (one read-only SELECT).
    The file comes from the connection ("@sqlite.alias"); `path` may point at another file.
  inputAliases:
    table: [table_name, source_table, from_table]
    query: [sql, sql_query]
    path: [file, db_path, database_file]
"""#
}
