import OsirisCore
import OsirisYAML

/// OML002: a mapping has the same key twice.
struct DuplicateKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML002", name: "DuplicateKey", defaultSeverity: .error,
        summary: "duplicate mapping key",
        documentation: """
            A mapping has the same key twice. YAML parsers disagree on which value wins, so the document \
            is ambiguous and nothing else is checked. The finding points at the second occurrence and a \
            note points at the first.

            Fix: remove one of the two keys.
            """)

    /// Examined before the rules run; see `Linter.lint`.
    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {}

    /// The finding for one duplicate key.
    static func diagnostic(file: String, duplicate: YAMLDuplicateKey) -> Diagnostic {
        Diagnostic(
            code: descriptor.code, severity: .error, message: "duplicate key '\(duplicate.key)'", file: file,
            range: duplicate.second,
            notes: [Diagnostic.Note("'\(duplicate.key)' first defined here", range: duplicate.first)],
            help: "remove one of the two '\(duplicate.key)' entries")
    }
}
