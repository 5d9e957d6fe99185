extension EmbeddedSpecs {
    /// The spec of `filesystem.jsonl_writer`: writes its input as JSON Lines through a temporary file
    /// that is renamed on success.
    static let filesystemJSONLWriter = #"""
name: filesystem.jsonl_writer
version: 1.0.0
title: JSON Lines File Writer
description: Writes its input as one JSON object per row, keys in upstream column order, through a temporary file in the target folder that is renamed on success, so a failed run leaves the old file intact.
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
      description: Path of the JSON Lines file to write, replaced when it exists.
    encoding:
      type: string
      enum: [utf-8]
      default: utf-8
      description: Text encoding of the file, which JSON requires to be UTF-8.
    newline:
      type: string
      enum: [lf, crlf]
      default: lf
      description: Line ending written after each object.
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
  - title: JSON Lines export
    config:
      path: out/orders.jsonl
    notes: One object per line with the input's column names as keys.
llmHints:
  promptGuidance: |
    Use filesystem.jsonl_writer (mode: write) to save one input as JSON Lines; `path` is required.
    Each row becomes one JSON object on its own line.
  inputAliases:
    path: [file, file_path, output_path, output_file, filename]
"""#
}
