import OML
import OsirisCore

/// OML012: a top-level key OML does not define.
struct UnknownTopLevelKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML012", name: "UnknownTopLevelKey", defaultSeverity: .warning,
        summary: "unknown top-level key",
        documentation: """
            OML v0.1.0 defines oml_version, name, description, metadata, params, profiles and steps at \
            the top level. Other keys are ignored; this is a warning rather than an error because the \
            document may come from a newer tool. Put free-form data under `metadata`, which is copied \
            into the manifest.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for pair in context.document.root.mapping ?? [] {
            let key = pair.key.keyText
            guard !OMLDocument.topLevelKeys.contains(key), !OMLDocument.legacyKeys.contains(key) else { continue }
            let help = closestMatch(to: key, among: OMLDocument.topLevelKeys).map { "did you mean '\($0)'?" }
                ?? "put extra information under 'metadata'"
            findings.append(finding(context, at: pair.key.range, "unknown top-level key '\(key)'", help: help))
        }
    }
}
