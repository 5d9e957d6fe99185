import OML
import OsirisCore

/// OML013: oml_version is not a string (error) or not "0.1.0" (warning).
struct UnsupportedOMLVersion: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML013", name: "UnsupportedOMLVersion", defaultSeverity: .error,
        summary: "oml_version not a string (error) / not \"0.1.0\" (warning)",
        documentation: """
            `oml_version` must be a string. Unquoted `0.1` or `0.1.0`-like numbers are read by YAML as \
            numbers, which is an error. A string other than "0.1.0" is a warning: this toolchain \
            implements OML 0.1.0 and may not understand a newer document.

            Fix: `oml_version: "0.1.0"`, with the quotes.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard let node = context.document.entry("oml_version")?.value else { return }
        guard let version = node.string else {
            let shown = node.scalar?.text ?? node.kindName
            findings.append(finding(
                context, at: node.range, "oml_version must be a string, not the \(node.kindName) \(shown)",
                help: "write 'oml_version: \"0.1.0\"' with quotes"))
            return
        }
        if version != OMLDocument.currentVersion {
            findings.append(finding(
                context, at: node.range, "oml_version '\(version)' is not supported; this toolchain implements \(OMLDocument.currentVersion)",
                help: "use 'oml_version: \"\(OMLDocument.currentVersion)\"'", severity: .warning))
        }
    }
}
