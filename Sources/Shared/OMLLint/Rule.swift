import OsirisCore

/// A lint rule: one stable code, its documentation, and the check that finds it.
///
/// Each rule lives in its own file named after the problem it finds, with its messages and its
/// `--explain` text in the same file.
protocol Rule: Sendable {
    /// The rule's code, name, default severity and documentation.
    static var descriptor: RuleDescriptor { get }
    /// Adds the rule's findings for one document to `findings`.
    static func check(_ context: LintContext, into findings: inout [Diagnostic])
}

extension Rule {
    /// A finding of this rule at `range`.
    static func finding(
        _ context: LintContext, at range: SourceRange, _ message: String, help: String? = nil,
        severity: Severity? = nil, notes: [Diagnostic.Note] = []
    ) -> Diagnostic {
        Diagnostic(
            code: descriptor.code, severity: severity ?? descriptor.defaultSeverity, message: message,
            file: context.file, range: range, notes: notes, help: help)
    }
}
