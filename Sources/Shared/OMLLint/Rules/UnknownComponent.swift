import OsirisCore

/// OML200: the component is not in the registry.
struct UnknownComponent: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML200", name: "UnknownComponent", defaultSeverity: .error,
        summary: "unknown component",
        documentation: """
            `component` must name a component of the registry, such as postgres.extractor, \
            sqlite.processor or filesystem.csv_writer (osiris-components(7) lists them all). Config \
            rules are skipped for steps with an unknown component.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let name = step.component, let node = step.componentNode, context.specs[step.index] == nil else { continue }
            let help = closestMatch(to: name, among: context.registry.names).map { "did you mean '\($0)'?" }
                ?? "known components: \(context.registry.names.joined(separator: ", "))"
            findings.append(finding(context, at: node.range, "unknown component '\(name)'", help: help))
        }
    }
}
