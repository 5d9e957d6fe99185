extension EmbeddedSpecs {
    /// The spec of `mysql.extractor`: reads a query or a table from MySQL or MariaDB and streams the
    /// rows; accepts the config keys of the original tool.
    static let mysqlExtractor = #"""
name: mysql.extractor
version: 1.0.0
title: MySQL Extractor
description: Reads the result of one SQL query, or the rows of one table, from a MySQL or MariaDB database and streams them to the next steps.
modes: [extract, discover]
capabilities:
  discover: true
  adHocAnalytics: true
  inMemoryMove: false
  streaming: true
  bulkOperations: true
  transactions: false
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
      description: Database (MySQL schema) of the table when it differs from the connection's database.
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
    offset:
      type: integer
      minimum: 0
      default: 0
      description: Number of rows of the table to skip before extracting.
    batch_size:
      type: integer
      minimum: 100
      maximum: 100000
      default: 10000
      description: Number of rows read from the server per batch.
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
  oneOf:
    - required: [query]
    - required: [table]
  additionalProperties: false
secrets: [/password]
x-connection-fields:
  - {name: schema, override: allowed}
  - {name: host, override: warning}
  - {name: port, override: warning}
  - {name: database, override: forbidden}
  - {name: user, override: forbidden}
x-family: mysql
x-role: extractor
examples:
  - title: Whole table
    config:
      connection: "@mysql.db_movies"
      table: movies
    notes: Extracts every column of the movies table.
  - title: Custom query
    config:
      connection: "@mysql.db_movies"
      query: |
        SELECT m.movie_id, m.title, d.name AS director_name
        FROM movies m JOIN directors d ON m.director_id = d.director_id
      batch_size: 50000
    notes: The query must be a single read-only statement.
  - title: Page of a table
    config:
      table: reviews
      columns: [review_id, movie_id, rating]
      limit: 1000
      offset: 2000
    notes: Uses the default mysql connection.
llmHints:
  promptGuidance: |
    Use mysql.extractor (mode: read) to read from MySQL or MariaDB.
    Give exactly one of `table` (optionally with `columns`, `where`, `limit`, `offset`) or `query` (one read-only SELECT).
    Put the connection reference in `connection` ("@mysql.alias"); never write host, user or password in OML.
  inputAliases:
    table: [table_name, source_table, from_table]
    query: [sql, sql_query, select_query]
    columns: [fields, column_names]
    where: [filter, condition]
"""#
}
