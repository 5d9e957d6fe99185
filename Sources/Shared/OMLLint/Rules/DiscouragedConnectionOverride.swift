import OsirisCore

/// OML304: a step overrides a connection field its spec discourages.
struct DiscouragedConnectionOverride: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML304", name: "DiscouragedConnectionOverride", defaultSeverity: .warning,
        summary: "overrides a connection field that its spec discourages",
        documentation: """
            The step sets a connection field that normally comes from the connection, such as `host` or \
            `port` for the database components. It works, but the pipeline then depends on a machine \
            that the connections file does not describe. The finding points at the key.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            for pair in step.config?.mapping ?? [] where spec.overridePolicy(of: pair.key.keyText) == .warning {
                findings.append(finding(
                    context, at: pair.key.range, "step overrides connection field '\(pair.key.keyText)'",
                    help: "set '\(pair.key.keyText)' in the connection in osiris_connections.yaml"))
            }
        }
    }
}
