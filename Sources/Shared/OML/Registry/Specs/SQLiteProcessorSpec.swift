extension EmbeddedSpecs {
    /// The spec of `sqlite.processor`: one SQL query over the step's inputs in an embedded SQLite
    /// database.
    static let sqliteProcessor = #"""
name: sqlite.processor
version: 1.0.0
title: SQLite Processor
description: Loads its inputs into an embedded SQLite database, each as a table named df_<id> and also as the quoted step id (plus input_df when there is exactly one input), and streams out the result of one SQL query.
modes: [transform]
capabilities:
  discover: false
  adHocAnalytics: true
  inMemoryMove: true
  streaming: true
  bulkOperations: true
  transactions: false
  partitioning: false
  customTransforms: true
configSchema:
  type: object
  properties:
    query:
      type: string
      minLength: 1
      description: One SQL query in SQLite's dialect over the input tables.
  required: [query]
  additionalProperties: false
secrets: []
x-connection-fields: []
x-family: none
x-role: processor
examples:
  - title: Join two inputs
    config:
      query: |
        SELECT c.id, c.name, SUM(o.total) AS revenue
        FROM df_extract_customers c JOIN df_extract_orders o ON o.customer_id = c.id
        GROUP BY c.id, c.name
    notes: The step needs [extract-customers, extract-orders]; dashes in the ids become underscores.
  - title: Single input
    config:
      query: "SELECT id, UPPER(name) AS name FROM input_df WHERE active = 1"
    notes: With exactly one input it is also input_df, as in OML of the original tool.
llmHints:
  promptGuidance: |
    Use sqlite.processor (mode: transform) for SQL over the outputs of earlier steps; list them in `needs`.
    Each input is the table df_<id>, where every character of the step id outside [A-Za-z0-9_] becomes _ (a leading digit gets a _ prefix);
    the step id in double quotes names it too, and a single input is also input_df.
    Write SQLite SQL; the data is spilled to a temporary file when it is large.
  inputAliases:
    query: [sql, transform, sql_query]
"""#
}
