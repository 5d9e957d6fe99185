import OsirisCore
import OsirisYAML

/// OML003: the document is empty or is not a mapping.
struct DocumentNotMapping: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML003", name: "DocumentNotMapping", defaultSeverity: .error,
        summary: "the document is not a mapping",
        documentation: """
            An OML document is a YAML mapping with the keys oml_version, name and steps. This file is \
            empty, holds only comments, or its top level is a list or a single value. For an empty \
            document the finding is at line 1, column 1.

            Fix: start the file with `oml_version: "0.1.0"`, then `name:` and `steps:`.
            """)

    /// Examined before the rules run; see `Linter.lint`.
    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {}

    /// The finding for a root that is missing or not a mapping.
    static func diagnostic(file: String, root: YAMLNode?) -> Diagnostic {
        let message: String
        let range: SourceRange
        if let root {
            message = "the document is \(withArticle(root.kindName)), not a mapping"
            range = root.range
        } else {
            message = "the document is empty"
            range = .fileStart
        }
        return Diagnostic(
            code: descriptor.code, severity: .error, message: message, file: file, range: range,
            help: "an OML document is a mapping with 'oml_version', 'name' and 'steps'")
    }
}
