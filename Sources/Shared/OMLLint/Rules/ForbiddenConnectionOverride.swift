import OsirisCore

/// OML303: a step overrides a connection field its spec forbids.
struct ForbiddenConnectionOverride: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML303", name: "ForbiddenConnectionOverride", defaultSeverity: .error,
        summary: "overrides a connection field that its spec forbids",
        documentation: """
            Some connection fields may not be changed by a step, because doing so would point the step \
            at another database or identity than the reviewed connection: for the database components \
            `database` and `user`. Define another connection alias instead. The finding points at the key.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            for pair in step.config?.mapping ?? [] where spec.overridePolicy(of: pair.key.keyText) == .forbidden {
                findings.append(finding(
                    context, at: pair.key.range, "step may not override connection field '\(pair.key.keyText)'",
                    help: "define another connection alias with this \(pair.key.keyText) and reference it"))
            }
        }
    }
}
