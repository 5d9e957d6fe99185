extension EmbeddedSpecs {
    /// The spec of `filesystem.csv_extractor`: reads a CSV file and streams its rows.
    static let filesystemCSVExtractor = #"""
name: filesystem.csv_extractor
version: 1.0.0
title: CSV File Extractor
description: Reads a CSV file and streams its rows to the next steps, with column types inferred from the data.
modes: [extract]
capabilities:
  discover: false
  adHocAnalytics: false
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
      description: 'Connection reference "@family.alias" to a filesystem connection; omitted means paths are relative to the working directory.'
      pattern: '^@[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
    path:
      type: string
      minLength: 1
      description: Path of the CSV file, relative to the connection's base directory when there is one.
    delimiter:
      type: string
      minLength: 1
      maxLength: 2
      pattern: '^(.|\\t)$'
      default: ","
      description: Field delimiter, one character; a literal backslash-t also means a tab.
    encoding:
      type: string
      enum: [utf-8, utf-16, ascii, latin-1, iso-8859-1]
      default: utf-8
      description: Text encoding of the file.
    header:
      oneOf:
        - {type: boolean}
        - {type: integer, minimum: 0}
      default: true
      description: Whether the first row holds the column names, or the 0-based index of the row that does.
    columns:
      type: array
      items: {type: string, minLength: 1}
      description: Columns to extract, in this order; omitted means every column.
    skip_rows:
      type: integer
      minimum: 0
      default: 0
      description: Number of lines to skip at the start of the file before the header.
    limit:
      type: integer
      minimum: 1
      description: Maximum number of data rows to read.
    na_values:
      type: array
      items: {type: string}
      description: Field values read as NULL in addition to the empty field.
    infer_types:
      type: boolean
      default: true
      description: Whether to infer integer, number, boolean and date types from the data; false reads every column as text.
    quotechar:
      type: string
      minLength: 1
      maxLength: 1
      default: '"'
      description: Character that quotes fields containing the delimiter, the quote or a line break.
    parse_dates:
      oneOf:
        - {type: boolean}
        - {type: array, items: {type: string, minLength: 1}}
      default: false
      description: Accepted from the original tool; only false works here (dates and timestamps are found by infer_types), anything else fails the step.
    dtype:
      type: object
      additionalProperties: true
      description: "Declared column types, column: type (a logical type such as text, int64, decimal, or the original tool's str, int, float); a declared column is not inferred, and a value that does not fit fails the step naming its line and column."
    chunk_size:
      type: integer
      minimum: 1
      maximum: 1000000
      description: Number of rows per batch handed to the next steps.
    skip_blank_lines:
      type: boolean
      default: true
      description: Whether to skip lines that are empty.
    comment:
      type: string
      minLength: 1
      maxLength: 1
      description: "Declared column types, column: type (a logical type such as text, int64, decimal, or the original tool's str, int, float); a declared column is not inferred, and a value that does not fit fails the step naming its line and column."
    compression:
      type: string
      enum: [infer, gzip, bz2, zip, xz]
      default: infer
      description: Compressed files are not supported yet; only infer works, and a file ending .gz, .bz2, .zip or .xz fails the step.
  required: [path]
  additionalProperties: false
secrets: []
x-connection-fields: []
x-family: filesystem
x-role: extractor
examples:
  - title: CSV with a header row
    config:
      path: data/customers.csv
    notes: Comma-delimited UTF-8 with the column names in the first row.
  - title: Tab-separated file without a header
    config:
      path: exports/data.tsv
      delimiter: "\t"
      header: false
      skip_rows: 2
      na_values: ["N/A", "null", "-"]
    notes: Tab-separated values with no header row after two lines of preamble.
  - title: Selected columns with dates
    config:
      path: data/transactions.csv.gz
      columns: [id, customer_id, amount, created_at]
      parse_dates: [created_at]
      dtype: {amount: decimal}
      limit: 10000
    notes: The gzip compression is inferred from the extension.
llmHints:
  promptGuidance: |
    Use filesystem.csv_extractor (mode: read) to read a CSV file; `path` is required.
    The defaults are a comma delimiter, a header row and UTF-8; set `delimiter`, `header`, `encoding` only when they differ.
    Columns keep the file's order.
  inputAliases:
    path: [file, file_path, csv_path, input_file, source_path]
    delimiter: [separator, sep, delim, field_separator]
    header: [headers, has_header]
    columns: [fields, column_names]
"""#
}
