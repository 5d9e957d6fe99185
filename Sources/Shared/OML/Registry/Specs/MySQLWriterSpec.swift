extension EmbeddedSpecs {
    /// The spec of `mysql.writer`: loads its input into a MySQL or MariaDB table in one transaction;
    /// `mode` and `upsert_keys` of the original tool are aliases.
    static let mysqlWriter = #"""
name: mysql.writer
version: 1.0.0
title: MySQL Writer
description: Loads its input into a MySQL or MariaDB table through a staging table that is applied in one transaction, so a failed run leaves the target as it was.
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
      description: Database (MySQL schema) of the target table when it differs from the connection's database.
    write_mode:
      type: string
      enum: [append, replace, upsert, truncate]
      default: append
      description: How rows reach the table; append inserts, replace swaps in a new table, upsert inserts or updates on primary_key, truncate empties the existing table first.
    mode:
      type: string
      enum: [append, replace, upsert]
      description: The original tool's name for write_mode.
    primary_key:
      oneOf:
        - {type: string, minLength: 1}
        - {type: array, items: {type: string, minLength: 1}}
      description: Column or columns that identify a row, required when write_mode is upsert.
    upsert_keys:
      type: array
      items: {type: string, minLength: 1}
      description: The original tool's name for primary_key.
    create_table:
      type: boolean
      default: true
      description: Whether to create the table from the input's columns when it does not exist.
    truncate_before:
      type: boolean
      default: false
      description: Whether to empty the table before inserting, in the same transaction, which is what write_mode truncate does.
    batch_size:
      type: integer
      minimum: 1
      maximum: 100000
      default: 1000
      description: Number of rows sent to the server per batch.
    pool_size:
      type: integer
      minimum: 1
      maximum: 20
      default: 5
      description: Accepted for compatibility with the original tool, which pooled connections; a step here uses one connection.
    pool_recycle:
      type: integer
      minimum: 60
      default: 3600
      description: Accepted for compatibility with the original tool, which recycled pooled connections after this many seconds.
    echo:
      type: boolean
      default: false
      description: Whether to log each SQL statement sent to the server.
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
      description: Login user, which comes from the connection and cannot be changed by a step.
    password:
      type: string
      description: Password, a secret that belongs in the connections file and never in OML.
  required: [table]
  additionalProperties: false
secrets: [/password]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-aliases:
  mode: write_mode
  upsert_keys: primary_key
x-family: mysql
x-role: writer
examples:
  - title: Append to a table
    config:
      connection: "@mysql.db_movies"
      table: customers
      batch_size: 5000
    notes: Creates the table when it is missing and appends the rows.
  - title: Upsert on a composite key
    config:
      connection: "@mysql.db_movies"
      table: daily_metrics
      write_mode: upsert
      primary_key: [day, customer_id]
    notes: Uses INSERT ... ON DUPLICATE KEY UPDATE; the key columns need a unique index.
  - title: Original tool's keys
    config:
      table: daily_metrics
      mode: upsert
      upsert_keys: [day, customer_id]
    notes: The compiler rewrites mode to write_mode and upsert_keys to primary_key.
llmHints:
  promptGuidance: |
    Use mysql.writer (mode: write) to load rows into MySQL or MariaDB; it takes exactly one input.
    `table` is required; write `write_mode` (append, replace, upsert, truncate) and `primary_key`, not the older `mode` and `upsert_keys`.
    For upsert set `primary_key` to a column or a list of columns.
    Never write host, user or password in OML; use `connection: "@mysql.alias"`.
  inputAliases:
    table: [table_name, target_table, to_table, destination_table]
    write_mode: [load_mode, insert_mode]
    primary_key: [key_columns, conflict_columns]
"""#
}
