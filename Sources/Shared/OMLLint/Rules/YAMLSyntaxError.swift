import OsirisCore
import OsirisYAML

/// OML001: the file is not valid YAML (or not valid UTF-8 text).
struct YAMLSyntaxError: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML001", name: "YAMLSyntaxError", defaultSeverity: .error,
        summary: "YAML syntax error",
        documentation: """
            The file is not valid YAML, so nothing else can be checked. The finding points at the \
            position where the YAML parser gave up, which is often just after the real mistake. Binary \
            files, invalid UTF-8 and documents nested deeper than 256 levels are reported here too.

            Common causes: a colon followed by a space inside an unquoted value (`name: a: b`), tabs \
            used for indentation, an unclosed quote or bracket.

            Fix: quote values that contain ': ' or ' #', indent with spaces only.
            """)

    /// Examined before the rules run; see `Linter.lint`.
    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {}

    /// The finding for a parser error; `source` tells whether the problem line is indented with tabs.
    static func diagnostic(file: String, error: OsirisYAML.YAMLSyntaxError, source: SourceText) -> Diagnostic {
        var help: String?
        let indentation = source.line(error.range.start.line)?.prefix { $0 == " " || $0 == "\t" } ?? ""
        if error.message.contains("tab") || indentation.contains("\t") {
            help = "YAML does not allow tabs for indentation; use spaces"
        } else if error.message.contains("mapping values are not allowed") {
            help = "quote the value if it contains ': '"
        }
        let notes = error.context.map { [Diagnostic.Note("\($0.what) starts here", range: $0.range)] } ?? []
        return Diagnostic(
            code: descriptor.code, severity: .error, message: error.message, file: file, range: error.range, notes: notes,
            help: help)
    }
}
