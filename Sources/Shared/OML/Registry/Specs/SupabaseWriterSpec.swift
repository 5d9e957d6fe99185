extension EmbeddedSpecs {
    /// The spec of `supabase.writer`: loads its input into a Supabase table through its PostgreSQL
    /// connection in one transaction; accepts the config keys of the original tool.
    static let supabaseWriter = #"""
name: supabase.writer
version: 1.0.0
title: Supabase Writer
description: Loads its input into a table of a Supabase project through its PostgreSQL connection, using a staging table applied in one transaction, so a failed run leaves the target as it was.
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
      enum: [append, replace, upsert]
      default: append
      description: How rows reach the table; append inserts, replace swaps in a new table, upsert inserts or updates on primary_key.
    primary_key:
      oneOf:
        - {type: string, minLength: 1}
        - {type: array, items: {type: string, minLength: 1}}
      description: Column or columns that identify a row, required when write_mode is upsert.
    create_if_missing:
      type: boolean
      default: false
      description: Whether to create the table from the input's columns when it does not exist.
    create_table:
      type: boolean
      description: This toolchain's name for create_if_missing; the table is created when either is true.
    batch_size:
      type: integer
      minimum: 1
      maximum: 100000
      default: 1000
      description: Number of rows sent to the server per batch.
    returning:
      type: string
      minLength: 1
      description: Accepted for compatibility with the original tool, which chose the columns its REST API returned; a writer here returns nothing.
    prefer:
      type: string
      enum: [return=minimal, return=representation, resolution=merge-duplicates, resolution=ignore-duplicates]
      description: Accepted for compatibility with the original tool, which sent it to the REST API as the Prefer header.
    timeout:
      type: integer
      minimum: 1
      maximum: 86400
      description: Statement timeout in seconds.
    retries:
      type: integer
      minimum: 0
      maximum: 10
      description: Accepted for compatibility with the original tool; the step's retry setting governs retries here.
    url:
      type: string
      pattern: '^https?://'
      description: Project REST URL of the original tool, accepted for compatibility; this toolchain uses the PostgreSQL connection instead.
    key:
      type: string
      description: API key of the original tool, a secret that belongs in the connections file and never in OML.
    project_id:
      type: string
      pattern: '^[A-Za-z0-9-]+$'
      description: Project id of the original tool, accepted for compatibility; this toolchain uses the PostgreSQL connection instead.
    host:
      type: string
      minLength: 1
      description: Database host name, normally taken from the connection.
    port:
      type: integer
      minimum: 1
      maximum: 65535
      description: Database port, normally taken from the connection.
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
      description: Database password, a secret that belongs in the connections file and never in OML.
    dsn:
      type: string
      description: A postgres:// connection URL, a secret that belongs in the connections file and never in OML.
    pg_dsn:
      type: string
      description: The original tool's name for dsn, a secret that belongs in the connections file and never in OML.
  required: [table]
  additionalProperties: false
secrets: [/password, /dsn, /pg_dsn, /key]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: supabase
x-role: writer
examples:
  - title: Append, creating the table
    config:
      connection: "@supabase.main"
      table: actors
      write_mode: append
      create_if_missing: true
    notes: The shape used by the original tool's examples.
  - title: Upsert on a key
    config:
      connection: "@supabase.main"
      table: director_stats
      write_mode: upsert
      primary_key: [director_id]
      batch_size: 500
    notes: Uses INSERT ... ON CONFLICT (director_id) DO UPDATE; the key needs a unique index.
llmHints:
  promptGuidance: |
    Use supabase.writer (mode: write) to load rows into a Supabase table; it connects through PostgreSQL and takes exactly one input.
    `table` is required; `write_mode` is append (default), replace or upsert; for upsert set `primary_key`.
    Set `create_if_missing: true` when the table may not exist yet.
    Never write url, key, password or dsn in OML; use `connection: "@supabase.alias"`.
  inputAliases:
    table: [table_name, target_table, to_table, destination_table]
    write_mode: [mode, load_mode]
    primary_key: [upsert_keys, on_conflict, key_columns]
    create_if_missing: [create_table_if_missing, auto_create]
"""#
}
