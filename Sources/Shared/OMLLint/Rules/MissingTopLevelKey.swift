import OsirisCore

/// OML010: oml_version, name or steps is missing.
struct MissingTopLevelKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML010", name: "MissingTopLevelKey", defaultSeverity: .error,
        summary: "missing required top-level key (oml_version, name, steps)",
        documentation: """
            Every OML document needs `oml_version`, `name` and `steps`. One finding is reported for each \
            missing key, at the document's first key.

            Example:
                oml_version: "0.1.0"
                name: orders-to-csv
                steps: [...]
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        let anchor = context.document.root.mapping?.first?.key.range ?? .fileStart
        for key in ["oml_version", "name", "steps"] where context.document.entry(key) == nil {
            findings.append(finding(context, at: anchor, "missing required key '\(key)'", help: help(for: key)))
        }
    }

    private static func help(for key: String) -> String {
        switch key {
        case "oml_version": "add 'oml_version: \"0.1.0\"'"
        case "name": "add a name such as 'name: orders-to-csv'"
        default: "add 'steps:' with at least one step"
        }
    }
}
