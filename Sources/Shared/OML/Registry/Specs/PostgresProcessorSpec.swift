extension EmbeddedSpecs {
    /// The spec of `postgres.processor`: runs one SQL query inside PostgreSQL over its inputs,
    /// uploaded as temporary tables.
    static let postgresProcessor = #"""
name: postgres.processor
version: 1.0.0
title: PostgreSQL Processor
description: Uploads its inputs into temporary tables named df_<id> (and input_df when there is one input) in PostgreSQL and streams out the result of one SQL query run there.
modes: [transform]
capabilities:
  discover: false
  adHocAnalytics: true
  inMemoryMove: false
  streaming: true
  bulkOperations: true
  transactions: true
  partitioning: false
  customTransforms: true
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
      description: One SQL query over the temporary input tables and any table of the database.
    schema:
      type: string
      minLength: 1
      description: Schema searched first for tables the query names that are not inputs.
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
  required: [query]
  additionalProperties: false
secrets: [/password, /dsn]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: postgres
x-role: processor
examples:
  - title: Join two inputs in the database
    config:
      connection: "@pg.warehouse"
      query: |
        SELECT c.id, c.name, SUM(o.total) AS revenue
        FROM df_extract_customers c JOIN df_extract_orders o ON o.customer_id = c.id
        GROUP BY c.id, c.name
    notes: Push-down for inputs too large for the embedded engine.
llmHints:
  promptGuidance: |
    Use postgres.processor (mode: transform) to run SQL inside PostgreSQL when the inputs are large.
    Each input step is a temporary table df_<id> (characters outside [A-Za-z0-9_] become _), also "<id>" quoted;
    with exactly one input it is also input_df. List the input steps in `needs`.
    For small data prefer sqlite.processor, which needs no server.
  inputAliases:
    query: [sql, transform, sql_query]
"""#
}
