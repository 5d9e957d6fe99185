extension EmbeddedSpecs {
    /// The spec of `supabase.extractor`: reads from Supabase through its PostgreSQL connection;
    /// accepts the config keys of the original tool, which used the REST API.
    static let supabaseExtractor = #"""
name: supabase.extractor
version: 1.0.0
title: Supabase Extractor
description: Reads the result of one SQL query, or the rows of one table, from a Supabase project through its PostgreSQL connection inside a READ ONLY transaction and streams them to the next steps.
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
      description: Name of the table or view to extract.
    schema:
      type: string
      minLength: 1
      default: public
      description: Schema of the table.
    select:
      type: string
      minLength: 1
      default: "*"
      description: Comma-separated columns to extract from the table, or * for all of them.
    filter:
      type: object
      additionalProperties: true
      description: 'Row filters in PostgREST form, column name to operator.value (for example status: eq.completed), combined with AND.'
    order:
      type: string
      minLength: 1
      description: Sort order in PostgREST form, such as created_at.desc or id.asc, comma-separated for several columns.
    limit:
      type: integer
      minimum: 1
      description: Maximum number of rows to extract from the table.
    offset:
      type: integer
      minimum: 0
      default: 0
      description: Number of rows of the table to skip before extracting.
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
    tables:
      type: array
      items: {type: string, minLength: 1}
      description: Accepted for compatibility with the original tool, which used it as a table list when discovery failed; the catalog is read instead.
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
  oneOf:
    - required: [query]
    - required: [table]
  additionalProperties: false
secrets: [/password, /dsn, /pg_dsn, /key]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: supabase
x-role: extractor
examples:
  - title: Whole table
    config:
      connection: "@supabase.main"
      table: users
    notes: Extracts every column of public.users.
  - title: Filtered and ordered
    config:
      connection: "@supabase.main"
      table: orders
      select: "id,customer_id,total,created_at"
      filter: {status: eq.completed, created_at: gte.2024-01-01}
      order: created_at.desc
      limit: 500
    notes: The filter and order use the original tool's PostgREST notation.
  - title: Custom query
    config:
      connection: "@supabase.main"
      query: "SELECT id, email FROM auth.users WHERE confirmed_at IS NOT NULL"
    notes: The query must be a single read-only statement.
llmHints:
  promptGuidance: |
    Use supabase.extractor (mode: read) to read from a Supabase project; it connects through PostgreSQL.
    Give exactly one of `table` (optionally with `select`, `filter`, `order`, `limit`) or `query` (one read-only SELECT).
    Put the connection reference in `connection` ("@supabase.alias"); never write url, key, password or dsn in OML.
  inputAliases:
    table: [table_name, source_table, from_table]
    query: [sql, sql_query]
    select: [columns, fields]
"""#
}
