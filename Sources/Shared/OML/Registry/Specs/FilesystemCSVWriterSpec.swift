extension EmbeddedSpecs {
    /// The spec of `filesystem.csv_writer`: writes its input to a CSV file through a temporary file
    /// that is renamed on success.
    static let filesystemCSVWriter = #"""
name: filesystem.csv_writer
version: 1.0.0
title: CSV File Writer
description: Writes its input to a CSV file, columns in upstream order, through a temporary file in the target folder that is renamed on success, so a failed run leaves the old file intact.
modes: [write]
capabilities:
  discover: false
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
    path:
      type: string
      minLength: 1
      description: Path of the CSV file to write, replaced when it exists.
    delimiter:
      type: string
      minLength: 1
      maxLength: 2
      pattern: '^(.|\\t)$'
      default: ","
      description: Field delimiter, one character; a literal backslash-t also means a tab.
    header:
      type: boolean
      default: true
      description: Whether to write the column names as the first row.
    encoding:
      type: string
      enum: [utf-8, utf-16, ascii, latin-1]
      default: utf-8
      description: Text encoding of the file.
    newline:
      type: string
      enum: [lf, crlf]
      default: lf
      description: Line ending written after each row.
    quoting:
      type: string
      enum: [minimal, all, nonnumeric]
      default: minimal
      description: Which fields are quoted; minimal quotes only those that need it.
    quotechar:
      type: string
      minLength: 1
      maxLength: 1
      default: '"'
      description: Character used to quote fields.
    chunk_size:
      type: integer
      minimum: 1
      maximum: 1000000
      description: Number of rows buffered before they are written to the file.
    create_dirs:
      type: boolean
      default: true
      description: Whether to create the file's missing parent folders.
  required: [path]
  additionalProperties: false
secrets: []
x-connection-fields: []
x-family: filesystem
x-role: writer
examples:
  - title: Plain CSV
    config:
      path: out/orders.csv
    notes: Comma-delimited UTF-8 with a header row and LF line endings.
  - title: Semicolon-separated for spreadsheets
    config:
      path: out/revenue.csv
      delimiter: ";"
      newline: crlf
      quoting: nonnumeric
    notes: Text fields are quoted, numbers are not.
  - title: Tab-separated without a header
    config:
      path: exports/data.tsv
      delimiter: "\t"
      header: false
    notes: A tab delimiter may also be written as the two characters backslash and t.
llmHints:
  promptGuidance: |
    Use filesystem.csv_writer (mode: write) to save one input to a CSV file; `path` is required.
    The defaults are a comma delimiter, a header row, UTF-8, LF line endings and minimal quoting.
    Columns keep their upstream order.
  inputAliases:
    path: [file, file_path, output_path, output_file, filename]
    delimiter: [separator, sep, delim, field_separator]
    header: [headers, include_headers, write_headers]
"""#
}
