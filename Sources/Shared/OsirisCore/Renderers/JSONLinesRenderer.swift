/// Renders one JSON object per finding, one per line:
///
/// ```
/// {"code":"OML104","column":13,"end_column":19,"end_line":11,"file":"shop.oml","help":"did you mean 'extract'?","line":11,"message":"needs names unknown step 'extrct'","severity":"error"}
/// ```
///
/// Fields: `code`, `severity` (error / warning / note), `message`, `file`, `line`, `column`, `end_line`,
/// `end_column` (1-based, the end is exclusive), `help` (a string or null), and `notes` (an array of
/// `{message, file, line, column}`) only when there are notes.
public struct JSONLinesRenderer: DiagnosticRenderer {
    /// A JSON lines renderer.
    public init() {}

    /// The JSON object for one diagnostic.
    public static func object(_ diagnostic: Diagnostic) -> JSONValue {
        var members: [String: JSONValue] = [
            "code": .string(diagnostic.code),
            "severity": .string(diagnostic.severity.rawValue),
            "message": .string(diagnostic.message),
            "file": .string(diagnostic.file),
            "line": .int(diagnostic.range.start.line),
            "column": .int(diagnostic.range.start.column),
            "end_line": .int(diagnostic.range.end.line),
            "end_column": .int(diagnostic.range.end.column),
            "help": diagnostic.help.map(JSONValue.string) ?? .null,
        ]
        if !diagnostic.notes.isEmpty {
            members["notes"] = .array(diagnostic.notes.map { note in
                var object: [String: JSONValue] = ["message": .string(note.message), "file": .string(note.file ?? diagnostic.file)]
                if let range = note.range {
                    object["line"] = .int(range.start.line)
                    object["column"] = .int(range.start.column)
                }
                return .object(object)
            })
        }
        return .object(members)
    }

    public mutating func render(_ diagnostics: [Diagnostic], source: SourceText?) -> [UInt8] {
        var bytes: [UInt8] = []
        for diagnostic in diagnostics { bytes += JSONWriter.line(Self.object(diagnostic)) }
        return bytes
    }

    public mutating func finish(summary: DiagnosticSummary) -> [UInt8] { [] }
}
