import OsirisCore

/// OML103: a step id uses characters other than lowercase letters, digits, '-' and '_'.
struct StepIDConvention: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML103", name: "StepIDConvention", defaultSeverity: .warning,
        summary: "step id breaks the naming convention",
        documentation: """
            Step ids become file names (artifacts/<step>/) and SQL table names (`df_<id>`), so by \
            convention they are lowercase letters, digits, '-' and '_'.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let id = step.id, let node = step.idNode, !isConventional(id) else { continue }
            findings.append(finding(
                context, at: node.range, "step id '\(id)' is not lowercase letters, digits, '-' and '_'",
                help: "use '\(PipelineNameConvention.slug(id))'"))
        }
    }

    static func isConventional(_ id: String) -> Bool {
        !id.isEmpty && id.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "-" || scalar == "_"
        }
    }
}
