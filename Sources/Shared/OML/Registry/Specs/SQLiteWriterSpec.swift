extension EmbeddedSpecs {
    /// The spec of `sqlite.writer`: loads its input into a table of a SQLite database file in one
    /// transaction.
    static let sqliteWriter = #"""
name: sqlite.writer
version: 1.0.0
title: SQLite Writer
description: Loads its input into a table of a SQLite database file in one transaction, so a failed run leaves the target as it was.
modes: [write, discover]
capabilities:
  discover: true
  adHocAnalytics: false
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
      description: Path of the database file, normally taken from the connection; a missing file is created.
    table:
      type: string
      minLength: 1
      description: Name of the target table.
    write_mode:
      type: string
      enum: [append, replace, upsert, truncate]
      default: append
      description: How rows reach the table; append inserts, replace swaps in a new table, upsert inserts or updates on primary_key, truncate empties the existing table first.
    primary_key:
      oneOf:
        - {type: string, minLength: 1}
        - {type: array, items: {type: string, minLength: 1}}
      description: Column or columns that identify a row, required when write_mode is upsert.
    create_table:
      type: boolean
      default: true
      description: Whether to create the table from the input's columns when it does not exist.
    batch_size:
      type: integer
      minimum: 1
      maximum: 100000
      default: 1000
      description: Number of rows inserted per prepared-statement batch.
  required: [table]
  additionalProperties: false
secrets: []
x-connection-fields:
  - {name: path, override: allowed}
x-family: sqlite
x-role: writer
examples:
  - title: Append to a table
    config:
      connection: "@sqlite.demo"
      table: orders_copy
    notes: Creates the table when it is missing and appends the rows.
  - title: Upsert into a local file
    config:
      path: out/warehouse.db
      table: customers
      write_mode: upsert
      primary_key: id
    notes: Uses INSERT ... ON CONFLICT (id) DO UPDATE; the key needs a unique index.
llmHints:
  promptGuidance: |
    Use sqlite.writer (mode: write) to load rows into a SQLite database file; it takes exactly one input and needs no server.
    `table` is required; `write_mode` is append (default), replace, upsert or truncate; for upsert set `primary_key`.
    The file comes from the connection ("@sqlite.alias"); `path` may point at another file.
  inputAliases:
    table: [table_name, target_table, to_table, destination_table]
    write_mode: [mode, load_mode]
    primary_key: [upsert_keys, key_columns]
    path: [file, db_path, database_file]
"""#
}
