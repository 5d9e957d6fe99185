import OsirisCore

/// OML104: needs names a step that does not exist.
struct UnknownStepDependency: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML104", name: "UnknownStepDependency", defaultSeverity: .error,
        summary: "needs names an unknown step",
        documentation: """
            `needs` lists the ids of the steps whose output this step reads. Each entry must be the id \
            of a step of the same pipeline. The finding points at the unknown entry and suggests the \
            closest id. `needs` itself must be a list of ids.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        let ids = context.document.stepsByID
        for step in context.document.steps {
            guard let pair = step.needsPair else { continue }
            if pair.value.sequence == nil, pair.value.string == nil {
                findings.append(finding(context, at: pair.value.range, "needs must be a list of step ids, not \(withArticle(pair.value.kindName))"))
                continue
            }
            for item in pair.value.sequence ?? [] where item.scalar == nil {
                findings.append(finding(context, at: item.range, "needs entries must be step ids, not \(withArticle(item.kindName))"))
            }
            for dependency in step.needs ?? [] where ids[dependency.name] == nil {
                let help = closestMatch(to: dependency.name, among: ids.keys).map { "did you mean '\($0)'?" }
                findings.append(finding(context, at: dependency.node.range, "needs names unknown step '\(dependency.name)'", help: help))
            }
        }
    }
}
