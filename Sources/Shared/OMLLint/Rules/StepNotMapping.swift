import OsirisCore

/// OML100: an entry of steps is not a mapping.
struct StepNotMapping: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML100", name: "StepNotMapping", defaultSeverity: .error,
        summary: "step is not a mapping",
        documentation: """
            Each entry of `steps` must be a mapping with id, component, mode and config. A plain string \
            or a nested list is not a step.

            Example:
                - id: extract-orders
                  component: postgres.extractor
                  mode: read
                  config: {table: orders}
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps where step.node.mapping == nil {
            let shown = step.node.scalar.map { " '\($0.text)'" } ?? ""
            findings.append(finding(context, at: step.node.range, "step #\(step.index + 1) is \(withArticle(step.node.kindName))\(shown), not a mapping"))
        }
    }
}
