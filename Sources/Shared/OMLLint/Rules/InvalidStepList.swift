import OsirisCore

/// OML020: steps is not a list, or is empty.
struct InvalidStepList: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML020", name: "InvalidStepList", defaultSeverity: .error,
        summary: "steps not a list, or empty",
        documentation: """
            `steps` is the list of the pipeline's steps and must hold at least one step, each a mapping \
            with id, component, mode and usually config.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard let pair = context.document.entry("steps") else { return }
        if let items = pair.value.sequence {
            if items.isEmpty {
                findings.append(finding(context, at: pair.value.range, "steps is empty", help: "add at least one step"))
            }
        } else if pair.value.scalar?.value == .null {
            findings.append(finding(context, at: pair.key.range, "steps is empty", help: "add at least one step"))
        } else {
            findings.append(finding(context, at: pair.value.range, "steps must be a list, not \(withArticle(pair.value.kindName))"))
        }
    }
}
