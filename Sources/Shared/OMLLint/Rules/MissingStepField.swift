import OsirisCore

/// OML101: a step lacks id, component or mode.
struct MissingStepField: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML101", name: "MissingStepField", defaultSeverity: .error,
        summary: "step lacks id, component or mode",
        documentation: """
            Every step needs an `id` (unique within the pipeline), a `component` (see \
            osiris-components(7)) and a `mode` (read, write or transform). \
            One finding is reported per missing field, at the step's first key. A field that is present \
            but not a scalar is reported at its value.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let pairs = step.node.mapping, let firstKey = pairs.first?.key else { continue }
            for field in ["id", "component", "mode"] {
                let value = step.node[field]
                if value == nil || value?.scalar?.value == .null {
                    findings.append(finding(
                        context, at: firstKey.range, "step \(step.displayName) is missing '\(field)'", help: help(for: field)))
                } else if let value, value.scalar == nil {
                    findings.append(finding(context, at: value.range, "step '\(field)' must be a string, not \(withArticle(value.kindName))"))
                }
            }
        }
    }

    private static func help(for field: String) -> String {
        switch field {
        case "id": "add 'id:' with a unique name such as 'extract-orders'"
        case "component": "add 'component:', such as 'postgres.extractor'"
        default: "add 'mode:' with read, write or transform"
        }
    }
}
