import OML
import OsirisCore

/// OML011: a top-level key of the format that came before OML.
struct LegacyTopLevelKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML011", name: "LegacyTopLevelKey", defaultSeverity: .error,
        summary: "legacy top-level key (version, connectors, tasks, outputs)",
        documentation: """
            `version`, `connectors`, `tasks` and `outputs` belong to the pipeline format that came before \
            OML v0.1.0 and are not read by this toolchain. The finding points at the key.

            Fix: use `oml_version: "0.1.0"`; put connections in osiris_connections.yaml and name them \
            with `connection: "@family.alias"`; write tasks as `steps`; write outputs with writer steps.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for pair in context.document.root.mapping ?? [] {
            let key = pair.key.keyText
            guard OMLDocument.legacyKeys.contains(key) else { continue }
            findings.append(finding(context, at: pair.key.range, "legacy key '\(key)' is not part of OML v0.1.0", help: help(for: key)))
        }
    }

    private static func help(for key: String) -> String {
        switch key {
        case "version": "use 'oml_version: \"0.1.0\"'"
        case "connectors": "define connections in osiris_connections.yaml and reference them as '@family.alias'"
        case "tasks": "write the tasks as 'steps'"
        default: "write outputs with writer steps such as filesystem.csv_writer"
        }
    }
}
