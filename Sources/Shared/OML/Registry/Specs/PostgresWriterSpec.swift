extension EmbeddedSpecs {
    /// The spec of `postgres.writer`: loads its input into a PostgreSQL table through a staging table
    /// applied in one transaction.
    static let postgresWriter = #"""
name: postgres.writer
version: 1.0.0
title: PostgreSQL Writer
description: Loads its input into a PostgreSQL table through a staging table that is applied in one transaction, so a failed run leaves the target as it was.
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
    table:
      type: string
      minLength: 1
      description: Name of the target table.
    schema:
      type: string
      minLength: 1
      default: public
      description: Schema of the target table.
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
      description: Number of rows sent to the server per batch.
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
  required: [table]
  additionalProperties: false
secrets: [/password, /dsn]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: postgres
x-role: writer
examples:
  - title: Append to a table
    config:
      connection: "@pg.warehouse"
      table: orders_copy
    notes: Creates public.orders_copy when it is missing and appends the rows.
  - title: Upsert on a composite key
    config:
      connection: "@pg.warehouse"
      table: daily_stats
      schema: analytics
      write_mode: upsert
      primary_key: [day, customer_id]
      batch_size: 5000
    notes: Rows whose key already exists are updated, the others inserted.
  - title: Full refresh
    config:
      table: customers
      write_mode: replace
    notes: The old table is replaced only when the whole load succeeded.
llmHints:
  promptGuidance: |
    Use postgres.writer (mode: write) to load rows into PostgreSQL; it takes exactly one input.
    `table` is required; `write_mode` is append (default), replace, upsert or truncate.
    For upsert set `primary_key` to a column or a list of columns.
    Never write host, user, password or dsn in OML; use `connection: "@pg.alias"`.
  inputAliases:
    table: [table_name, target_table, to_table, destination_table]
    write_mode: [mode, load_mode]
    primary_key: [upsert_keys, key_columns, conflict_columns]
"""#
}
