import OsirisCore

/// OML202: a required config key is missing.
struct MissingConfigKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML202", name: "MissingConfigKey", defaultSeverity: .error,
        summary: "missing required config key",
        documentation: """
            The component needs this config key, or one key of a group such as `query` or `table` for \
            extractors. The finding points at the `config` key, or at the step's id when the step has \
            no config at all.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard let configPair = step.configPair else {
                // No config: every required key and group is missing.
                var missing = spec.configSchema.required.map { "missing required config key '\($0)'" }
                if !spec.configSchema.exclusiveRequired.isEmpty {
                    missing.append("config needs one of \(quotedList(spec.configSchema.exclusiveRequired.flatMap { $0 }))")
                }
                for message in missing {
                    findings.append(finding(context, at: step.anchorNode.range, "\(message) for '\(spec.name)'", help: "add 'config:' to the step"))
                }
                continue
            }
            for violation in context.schemaViolations(of: step, spec: spec) {
                guard case .missing(let keys) = violation.kind else { continue }
                let prefix = violation.path.isEmpty ? "" : "\(violation.path)."
                let message = keys.count == 1
                    ? "missing required config key '\(prefix)\(keys[0])' for '\(spec.name)'"
                    : "config of '\(spec.name)' needs one of \(quotedList(keys.map { prefix + $0 }))"
                let range = violation.path.isEmpty ? configPair.key.range : violation.node.range
                findings.append(finding(context, at: range, message))
            }
        }
    }
}
