extension EmbeddedSpecs {
    /// The spec of `duckdb.processor`: accepted so that OML of the original tool lints and compiles;
    /// it runs only where a DuckDB engine is present.
    static let duckdbProcessor = #"""
name: duckdb.processor
version: 1.0.0
title: DuckDB Processor
description: Runs one SQL query in DuckDB over its inputs (tables df_<id>, the quoted step id, and input_df when there is exactly one input) only where a DuckDB engine is present, and otherwise fails with an error that points to sqlite.processor.
modes: [transform]
capabilities:
  discover: false
  adHocAnalytics: true
  inMemoryMove: true
  streaming: false
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
      description: One SQL query in DuckDB's dialect over the input tables.
  required: [query]
  additionalProperties: false
secrets: []
x-connection-fields: []
x-family: none
x-role: processor
x-runnable: false
x-alternative: sqlite.processor
examples:
  - title: Aggregate the single input
    config:
      query: |
        SELECT director_id, COUNT(*) AS movie_count, ROUND(AVG(runtime_minutes), 1) AS avg_runtime
        FROM input_df
        GROUP BY director_id
    notes: OML of the original tool names its single input input_df.
llmHints:
  promptGuidance: |
    Prefer sqlite.processor for new pipelines: duckdb.processor runs only where a DuckDB engine is installed
    and otherwise fails at run time. It exists so that OML written for the original tool keeps working.
    Inputs are named as for sqlite.processor: df_<id>, the quoted step id, and input_df for a single input.
  inputAliases:
    query: [sql, transform, sql_query]
"""#
}
