import OsirisCore

/// OML105: the needs of some steps form a cycle.
struct DependencyCycle: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML105", name: "DependencyCycle", defaultSeverity: .error,
        summary: "dependency cycle (self reference included)",
        documentation: """
            `needs` must form a directed acyclic graph: a step cannot, directly or through other steps, \
            need itself. Every `needs` entry whose edge lies on a cycle is reported.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            for (entryIndex, dependency) in (step.needs ?? []).enumerated()
            where context.graph.cycleEntries.contains([step.index, entryIndex]) {
                let message = dependency.name == step.id
                    ? "step '\(dependency.name)' needs itself"
                    : "needs '\(dependency.name)' closes a dependency cycle through step \(step.displayName)"
                findings.append(finding(context, at: dependency.node.range, message, help: "remove one of the edges of the cycle"))
            }
        }
    }
}
